"""Errors the domain raises and the gateway turns into precise HTTP answers.

Plain exceptions (domain code imports no framework); ``shared.rpc`` registers
them with nameko so they cross RPC as themselves.
"""

from __future__ import annotations


class ValidationFailed(Exception):
    """Bad input; nothing was stored. ``errors`` is a list of {field, message}."""

    def __init__(self, errors: list[dict]):
        super().__init__(errors)
        self.errors = errors

    @classmethod
    def single(cls, field: str, message: str) -> ValidationFailed:
        return cls([{"field": field, "message": message}])

    def __str__(self) -> str:
        return "; ".join(f"{e['field']}: {e['message']}" for e in self.errors)


class NotFound(Exception):
    """No such object (or none the caller may see)."""


class ConflictError(Exception):
    """Concurrent writers kept changing the same aggregate (delivery contract 5)."""


class DependencyUnavailable(Exception):
    """A service this one calls did not answer in time: try again later.

    Not the message's fault, so an event handler that meets it puts the
    message back (after a pause) instead of parking it (delivery contract 3).
    """
