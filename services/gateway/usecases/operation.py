"""A use case: one thing a caller may do, served alike by the JSON API and the
console pages.

Each use case states who may run it (``roles``) and the object it touches
with how that object's institution is checked (``owner``, one of the named
rules in ``owners.py``). Running it checks the role, then the object, then
does the RPC calls and the masking, and returns plain data: the API turns it
into JSON, a page renders it. Neither the API nor a page checks access itself.

A use case's function takes the gateway (``gw``: its RPC proxies, ``app`` and
``auth``), the caller, the object the owner rule reached (None for rules that
reach none) and its inputs by name, path ids included.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from services.gateway import access
from services.gateway.access import ANONYMOUS
from shared.audit import Actor


@dataclass(frozen=True)
class Owner:
    """How a use case reaches its object and checks the object's institution.

    ``reach(gw, actor, ids)`` answers the object (or None), raising
    ``access.Hidden`` (404) for another institution's and ``access.Forbidden``
    for a role that may not; ``params`` are the path ids it reads, so a route
    naming an object its rule does not check cannot be declared."""

    name: str
    summary: str
    reach: Callable[..., object]
    params: tuple[str, ...] = ()


@dataclass(frozen=True)
class UseCase:
    func: Callable[..., object]
    roles: frozenset[str] | None  # None: anyone, without a login
    owner: Owner
    anonymous: bool = False  # the roles, and also a caller without a login

    def check(self, gw, actor: Actor, ids: Mapping[str, str]) -> object:
        """The role first, then the object's institution: the object reached."""
        self.allow(actor)
        return self.reach(gw, actor, ids)

    def reach(self, gw, actor: Actor, ids: Mapping[str, str]) -> object:
        """The object, its institution checked (the role already allowed)."""
        return self.owner.reach(gw, actor, {p: ids[p] for p in self.owner.params})

    def allow(self, actor: Actor) -> None:
        """401 without a login, 403 for a role the use case is not open to."""
        if self.roles is not None and not (self.anonymous and actor is ANONYMOUS):
            access.require_role(actor, self.roles)

    def run(self, gw, actor: Actor, found: object, **inputs) -> object:
        """The use case on an object already reached by ``check``."""
        return self.func(gw, actor, found, **inputs)

    def __call__(self, gw, actor: Actor, **inputs) -> object:
        return self.run(gw, actor, self.check(gw, actor, inputs), **inputs)


def use_case(
    *, roles: frozenset[str] | None, owner: Owner, anonymous: bool = False
) -> Callable[[Callable[..., object]], UseCase]:
    """Declare a use case; ``owner`` has no default, so none is declared
    without saying whose object it touches."""
    if not isinstance(owner, Owner):
        raise TypeError(f"owner must be an Owner rule, not {owner!r}")

    def declare(func: Callable[..., object]) -> UseCase:
        return UseCase(
            func, None if roles is None else frozenset(roles), owner, anonymous
        )

    return declare
