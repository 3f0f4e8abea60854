"""Fault: the database drops its connections for a moment (what a PostgreSQL
restart does to a running service), seen by a consumer and by the relay.

The whole restart is tests/faults/test_postgres_restart.py (slow_fault); these
two show the same rules in seconds, for ``make test``: a handler whose
database connection failed puts its message back instead of parking it, and
a relay that cannot reach the database for its lock stands by instead of
ending (which would stop the service).
"""

from __future__ import annotations

import eventlet
import psycopg
import pytest

from services.catalog.service import CatalogService
from services.intake.application import IntakeApplication
from services.intake.schemas import to_envelope
from services.referral.application import ReferralApplication
from services.referral.service import ReferralService
from shared.metrics import for_service
from shared.outbox import OutboxRelay
from tests import support
from tests.faults import tally
from tests.faults.test_unbound_queues import FORM, REGISTERED_QUEUE

DROPS = 3  # connections that fail before the database answers again


def dropping(method, calls: list):
    """``method``, except that its first DROPS calls lose the connection."""

    def call(*args, **kwargs):
        calls.append(1)
        if len(calls) <= DROPS:
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        return method(*args, **kwargs)

    return call


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_handler_whose_database_dropped_puts_the_message_back(
    databases, runner_factory, amqp_uri, fault_report
):
    runner_factory(ReferralService, CatalogService)
    requeued = for_service("referral").requeued.labels(
        source="intake", event_type="DemandReferred"
    )
    before = requeued._value.get()
    bodies = tally.referred_envelopes(10)
    calls: list = []
    referral_url = databases["referral"]
    with pytest.MonkeyPatch.context() as outage:
        outage.setattr(
            ReferralApplication,
            "has_processed",
            dropping(ReferralApplication.has_processed, calls),
        )
        tally.publish(amqp_uri, bodies)
        support.wait_for(
            lambda: tally.referrals_opened(referral_url)[1] >= len(bodies),
            timeout=30,
            interval=0.1,
        )
    opened, distinct = tally.referrals_opened(referral_url)
    parked = tally.parked_rows(referral_url)
    put_back = requeued._value.get() - before
    fault_report(
        "database connection lost in a handler",
        sent=len(bodies),
        effects=distinct,
        lost=len(bodies) - distinct,
        duplicated=opened - distinct,
        parked=len(parked),
        note=f"{put_back:.0f} messages put back and applied later",
    )
    assert (opened, distinct) == (len(bodies), len(bodies))
    assert parked == [] and put_back == DROPS


class DroppingLock:
    """The relay's own lock, whose first DROPS attempts find no database."""

    def __init__(self, lock):
        self.lock = lock
        self.acquire = dropping(lock.acquire, [])
        self.still_held = lock.still_held
        self.release = lock.release


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_relay_that_cannot_reach_the_database_stands_by_and_goes_on(
    databases, clean_broker, monkeypatch, fault_report
):
    monkeypatch.setenv("QI_RELAY_STANDBY_SECONDS", "0.05")
    intake = IntakeApplication()
    relay = OutboxRelay(intake, to_envelope, amqp_uri=clean_broker)
    relay.lock = DroppingLock(relay.lock)
    errors_before = relay.metrics.relay_errors._value.get()
    for _ in range(5):
        intake.register_demand(FORM)
    relaying = eventlet.spawn(relay.run, eventlet.sleep)
    try:
        bodies = support.drain(clean_broker, REGISTERED_QUEUE, expect=5, timeout=10)
        survived = not relaying.dead
    finally:
        relay.stop()
        relaying.wait()
        intake.close()
    positions = [b["position"] for b in bodies]
    errors = relay.metrics.relay_errors._value.get() - errors_before
    fault_report(
        "database unreachable for the relay's lock",
        sent=5,
        effects=len(set(positions)),
        lost=5 - len(set(positions)),
        duplicated=len(positions) - len(set(positions)),
        parked=0,
        note=f"{errors:.0f} failed attempts at the lock, then published",
    )
    assert survived and positions == [1, 2, 3, 4, 5]
    assert errors == DROPS
