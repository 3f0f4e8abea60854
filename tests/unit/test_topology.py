"""Queues declared by publishers match the handlers services really have, and
the system's wiring (services/__init__.py) names every service's classes."""

import inspect

from shared import system, topology
from shared.entrypoints import IntegrationEventHandler


def declared_handlers() -> set[topology.Subscription]:
    found = set()
    for name in system.SERVICES:
        cls = system.service_class(name)
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


def test_the_wiring_names_each_service_by_its_own_classes():
    for name in system.SERVICES:
        assert system.service_class(name).name == name
    for name in system.STORING_EVENTS:
        assert system.application_class(name).name == name
    assert set(system.CASE_SERVICES) <= set(system.SERVICES)
    consumers = {s.consumer for s in topology.SUBSCRIPTIONS}
    assert consumers | {s.source for s in topology.SUBSCRIPTIONS} <= set(
        system.SERVICES
    )
