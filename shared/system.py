"""The system as the kernel sees it, read from its one declaration in
``services/__init__.py``: the services, where their classes are and which
consumer handles which integration event.

This module is the kernel's only door into ``services/`` (the one exception
to the import contract "The kernel imports no service" in pyproject.toml): the
declaration it reads is data and imports nothing, and a service's class is
imported only when an entrypoint asks for it (``make run``, ``make verify``),
so reading the wiring loads no service.
"""

from __future__ import annotations

import importlib

import services as declared

SERVICES: tuple[str, ...] = tuple(s.name for s in declared.SERVICES)
# the services that keep an event store (and so a hash chain to verify)
STORING_EVENTS: tuple[str, ...] = tuple(
    s.name for s in declared.SERVICES if s.application_class
)
CASE_SERVICES: tuple[str, ...] = declared.CASE_SERVICES
# (source, event type, consumer, handler), in the declaration's order
SUBSCRIPTIONS: tuple[tuple[str, str, str, str], ...] = tuple(
    tuple(s) for s in declared.SUBSCRIPTIONS
)

_BY_NAME = {s.name: s for s in declared.SERVICES}


def service_path(name: str) -> str:
    """``module:Class`` of the service's nameko class; KeyError if unknown."""
    return _BY_NAME[name].service_class


def application_path(name: str) -> str:
    """``module:Class`` of the service's event store application."""
    path = _BY_NAME[name].application_class
    if not path:
        raise KeyError(f"{name} stores no events")
    return path


def load(path: str):
    """The class a ``module:Class`` path names, importing its module."""
    module_name, class_name = path.split(":")
    return getattr(importlib.import_module(module_name), class_name)


def service_class(name: str):
    return load(service_path(name))


def application_class(name: str):
    return load(application_path(name))
