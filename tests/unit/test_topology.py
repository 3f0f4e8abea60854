"""Queues declared by publishers match the handlers services really have."""

import inspect

from shared import topology
from shared.entrypoints import IntegrationEventHandler
from shared.run import SERVICE_CLASSES, load


def declared_handlers() -> set[topology.Subscription]:
    found = set()
    for name in SERVICE_CLASSES:
        cls = load(name)
        for method_name, method in inspect.getmembers(cls, inspect.isfunction):
            for entrypoint in getattr(method, "nameko_entrypoints", ()):
                if isinstance(entrypoint, IntegrationEventHandler):
                    found.add(
                        topology.Subscription(
                            entrypoint.source_service,
                            entrypoint.event_type,
                            cls.name,
                            method_name,
                        )
                    )
    return found


def test_every_handler_is_in_the_topology_and_nothing_else():
    assert declared_handlers() == set(topology.SUBSCRIPTIONS)


def test_handler_names_follow_the_convention():
    for s in topology.SUBSCRIPTIONS:
        assert s.handler.startswith(f"handle_{s.source}_")
