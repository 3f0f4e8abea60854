"""``ServiceApplication.process`` finds a duplicate by its tracking record's
key as it stores (delivery contract 2), with no read before (issue 22): on
SQLite and on PostgreSQL, a message delivered twice has one effect and the
second delivery answers False (acknowledged as a duplicate), also when the
policy itself fails on the duplicate; a first delivery whose policy fails is
not taken for a duplicate."""

from __future__ import annotations

import pytest

from shared.envelope import Envelope
from tests.integration.test_application_kernel import (
    Ledger,
    LedgerApplication,
    demand_referred,
)


@pytest.fixture
def ledgers(databases):
    app = LedgerApplication()
    yield app
    app.close()


def new_ledger_each_time(envelope: Envelope):
    """A policy that makes a new aggregate each time it runs: only the
    tracking record's key can tell the second delivery is a duplicate."""
    return [Ledger(title=envelope.type)]


def test_a_redelivered_event_is_stored_once_and_said_a_duplicate(ledgers):
    envelope = demand_referred(position=7)
    assert ledgers.process(envelope, new_ledger_each_time) is True
    assert ledgers.process(envelope, new_ledger_each_time) is False
    assert ledgers.recorder.max_notification_id() == 1
    assert ledgers.has_processed("intake", 7)


def test_a_duplicate_whose_policy_fails_is_still_a_duplicate(ledgers):
    envelope = demand_referred(position=8)
    assert ledgers.process(envelope, new_ledger_each_time) is True

    def moved_on(_):
        raise ValueError("the case has moved on")

    assert ledgers.process(envelope, moved_on) is False
    assert ledgers.recorder.max_notification_id() == 1


def test_a_first_delivery_whose_policy_fails_raises_and_stores_nothing(ledgers):
    def broken(_):
        raise ValueError("cannot apply")

    with pytest.raises(ValueError, match="cannot apply"):
        ledgers.process(demand_referred(position=9), broken)
    assert not ledgers.has_processed("intake", 9)
    assert ledgers.recorder.max_notification_id() in (None, 0)
