"""Every integration event a service publishes has a consumer, or is listed in
``services.PUBLIC_ONLY`` with the reason nobody here consumes it: RabbitMQ
drops a message published to an exchange with no bound queue (delivery
contract 4), so an event published to nobody by mistake fails here."""

from __future__ import annotations

import importlib
from pathlib import Path

import services
from shared import system

ROOT = Path(__file__).resolve().parents[2]


def contracts():
    for name in system.SERVICES:
        if (ROOT / "services" / name / "contract.py").exists():
            yield name, importlib.import_module(f"services.{name}.contract")


def declared_events() -> dict[tuple[str, str], str]:
    """(source, event type) -> the contract constant that declares it: every
    module-level ``NAME = ("EventType", version)`` of a contract."""
    found = {}
    for name, contract in contracts():
        source = getattr(contract, "SOURCE", name)
        for constant, value in vars(contract).items():
            if (
                isinstance(value, tuple)
                and len(value) == 2
                and isinstance(value[0], str)
                and value[0][:1].isupper()
                and isinstance(value[1], int)
            ):
                found[(source, value[0])] = f"{name}.{constant}"
    return found


SUBSCRIBED = {(s[0], s[1]) for s in system.SUBSCRIPTIONS}
PUBLIC_ONLY = {
    (source, event_type): why for source, event_type, why in services.PUBLIC_ONLY
}


def test_every_published_event_has_a_consumer_or_is_public_only():
    unbound = sorted(
        f"{source} {event_type} ({constant})"
        for (source, event_type), constant in declared_events().items()
        if (source, event_type) not in SUBSCRIBED | set(PUBLIC_ONLY)
    )
    assert not unbound, (
        "published to an exchange with no bound queue (RabbitMQ drops them): "
        + ", ".join(unbound)
        + "; subscribe a consumer in services/__init__.py or list it in "
        "PUBLIC_ONLY with the reason"
    )


def test_public_only_events_are_published_unconsumed_and_say_why():
    for key, why in PUBLIC_ONLY.items():
        assert key in declared_events(), key
        assert key not in SUBSCRIBED, f"{key} has a consumer: not public-only"
        assert len(why) > 20, key


def test_every_subscription_is_to_an_event_someone_publishes():
    assert SUBSCRIBED <= set(declared_events()), SUBSCRIBED - set(declared_events())


def test_every_declared_event_is_mapped_by_its_publishers_relay():
    for constant in declared_events().values():
        service, name = constant.split(".")
        schemas = ROOT / "services" / service / "schemas.py"
        assert name in schemas.read_text(encoding="utf-8"), constant


def test_the_check_sees_an_event_published_to_nobody(monkeypatch):
    contract = importlib.import_module("services.intake.contract")
    monkeypatch.setattr(
        contract, "DEMAND_GOSSIPED", ("DemandGossiped", 1), raising=False
    )
    assert ("intake", "DemandGossiped") in declared_events()
    assert ("intake", "DemandGossiped") not in SUBSCRIBED | set(PUBLIC_ONLY)
