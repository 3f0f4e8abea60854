"""The kernel's application rules, on SQLite and on PostgreSQL.

Audit stamps, the hash chain and its verification, idempotent processing of
integration events, and retries on version conflicts.
"""

import json
from uuid import UUID

import pytest
from eventsourcing.domain import event
from eventsourcing.persistence import RecordConflictError

from services.catalog.application import CatalogApplication
from services.intake.application import IntakeApplication
from services.referral.application import ReferralApplication
from services.referral.domain import Referral
from shared.application import AuditedAggregate, ServiceApplication
from shared.audit import Actor, AuditContext, audit_scope
from shared.envelope import Envelope
from shared.errors import ConflictError
from tests import support

FORM = {
    "applicant": "南京某电子有限公司",
    "contact_phone": "025-83456789",
    "service_item_code": "6.3",
    "description": "电磁兼容检测",
    "channel": "window",
}
STAFF = AuditContext(actor=Actor("staff-7", "staff", "jsqi"), channel="window")


class Ledger(AuditedAggregate):
    """A small aggregate with many events, to test streams of several versions."""

    @event("Opened")
    def __init__(self, title: str):
        self.title = title
        self.notes: list[str] = []

    @event("Noted")
    def note(self, text: str) -> None:
        self.notes.append(text)


class LedgerApplication(ServiceApplication):
    name = "complaints"  # any service's database will do for the kernel


@pytest.fixture
def intake(databases):
    app = IntakeApplication()
    yield app
    app.close()


@pytest.fixture
def referral(databases):
    app = ReferralApplication()
    yield app
    app.close()


@pytest.fixture
def catalog(databases):
    """Catalog's items (cycles) and qualified institutions, as over RPC."""
    from tests.integration.test_referral_service import CatalogPort

    app = CatalogApplication()
    app.start()
    yield CatalogPort(app)
    app.close()


@pytest.fixture
def ledgers(databases):
    app = LedgerApplication()
    yield app
    app.close()


def stored_events(app, originator_id):
    return [
        app.mapper.to_domain_event(s)
        for s in app.recorder.select_events(UUID(str(originator_id)))
    ]


def test_every_stored_event_says_who_on_which_channel_for_which_case(intake):
    with audit_scope(STAFF):
        demand = intake.register_demand(FORM)
    (registered,) = stored_events(intake, demand["id"])
    assert registered.audit["actor"] == {
        "id": "staff-7",
        "role": "staff",
        "institution": "jsqi",
    }
    assert registered.audit["channel"] == "window"
    assert registered.audit["correlation_id"] == demand["id"]


def test_a_registration_with_bad_fields_stores_nothing(intake):
    with pytest.raises(Exception) as caught:
        intake.register_demand({**FORM, "contact_phone": "12"})
    assert caught.value.errors[0]["field"] == "contact_phone"
    assert intake.recorder.max_notification_id() in (None, 0)


def test_a_repeated_idempotency_key_registers_once(intake):
    first = intake.register_demand(FORM, idempotency_key="form-42")
    again = intake.register_demand(FORM, idempotency_key="form-42")
    assert first["id"] == again["id"]
    assert intake.recorder.max_notification_id() == 1


def test_an_intact_store_verifies(ledgers):
    ledger = Ledger("case file")
    for i in range(4):
        ledger.note(f"note {i}")
    ledgers.save(ledger)
    assert ledgers.verify_all() == (1, [])


def test_chain_continues_across_saves_and_loads(ledgers):
    ledger = Ledger("case file")
    ledgers.save(ledger)
    for i in range(3):
        loaded = ledgers.repository.get(ledger.id)
        loaded.note(f"later {i}")
        ledgers.save(loaded)
    events = stored_events(ledgers, ledger.id)
    assert [e.originator_version for e in events] == [1, 2, 3, 4]
    links = zip(events, events[1:], strict=False)
    assert all(later.prev_hash == earlier.chain_hash for earlier, later in links)
    assert ledgers.verify_all() == (1, [])


def test_a_tampered_event_is_named_by_stream_and_version(ledgers):
    intact, altered = Ledger("intact"), Ledger("altered")
    for ledger in (intact, altered):
        for i in range(4):
            ledger.note(f"note {i}")
    ledgers.save(intact, altered)
    support.tamper(ledgers, altered.id, 3, lambda s: s.update(text="rewritten"))

    checked, breaks = ledgers.verify_all()
    assert checked == 2
    assert [(b.originator_id, b.version) for b in breaks] == [(str(altered.id), 3)]


def test_the_verify_command_names_the_altered_event(intake, capsys):
    from shared.verify import main

    demand = intake.register_demand(FORM)
    assert main(["intake"]) == 0
    support.tamper(
        intake, UUID(demand["id"]), 1, lambda s: s.update(applicant="someone else")
    )
    assert main(["intake"]) == 1
    out = capsys.readouterr().out
    assert f"ALTERED intake stream {demand['id']} version 1" in out


def test_concurrent_changes_conflict_and_a_retry_on_fresh_state_succeeds(ledgers):
    ledger = Ledger("shared")
    ledgers.save(ledger)
    first = ledgers.repository.get(ledger.id)
    second = ledgers.repository.get(ledger.id)
    first.note("from the first clerk")
    second.note("from the second clerk")
    ledgers.save(first)
    with pytest.raises(RecordConflictError):
        ledgers.save(second)

    def add_note():
        fresh = ledgers.repository.get(ledger.id)
        fresh.note("from the second clerk")
        ledgers.save(fresh)
        return fresh.version

    assert ledgers.retry_on_conflict(add_note) == 3
    assert ledgers.verify_all() == (1, [])


def test_retrying_gives_up_with_a_clear_conflict_error(ledgers):
    def always_conflicts():
        raise RecordConflictError("version taken")

    with pytest.raises(ConflictError, match="try again"):
        ledgers.retry_on_conflict(always_conflicts, attempts=3)


def demand_referred(position: int = 1, demand_id: str = "") -> Envelope:
    demand_id = demand_id or "4c1f0d2e-0000-4000-8000-000000000001"
    return Envelope(
        event_id=Envelope.event_id_for("intake", demand_id, 4),
        type="DemandReferred",
        schema_version=1,
        occurred_at="2026-11-26T08:00:00+00:00",
        source="intake",
        position=position,
        aggregate_id=demand_id,
        aggregate_version=4,
        correlation_id=demand_id,
        causation_id="",
        actor={"id": "staff-7", "role": "staff", "institution": "jsqi"},
        channel="window",
        data={
            "demand_id": demand_id,
            "items": ["6.3"],
            "quote_id": "",
            "green_channel": False,
            "first_responder": "staff-7",
        },
    )


def test_the_same_integration_event_twice_has_one_effect(referral, catalog):
    envelope = demand_referred()
    assert referral.on_demand_referred(envelope, catalog) is True
    assert referral.on_demand_referred(envelope, catalog) is False
    assert referral.recorder.max_notification_id() == 1
    opened = referral.repository.get(Referral.create_id(envelope.aggregate_id, "6.3"))
    assert opened.version == 1


def test_events_out_of_order_are_each_processed_once(referral, catalog):
    later = demand_referred(5, "4c1f0d2e-0000-4000-8000-000000000005")
    earlier = demand_referred(3, "4c1f0d2e-0000-4000-8000-000000000003")
    assert referral.on_demand_referred(later, catalog) is True
    assert referral.on_demand_referred(earlier, catalog) is True  # not taken as old
    assert referral.on_demand_referred(earlier, catalog) is False
    assert referral.has_processed("intake", 3) and referral.has_processed("intake", 5)
    assert not referral.has_processed("intake", 4)


def test_work_caused_by_an_event_is_stamped_with_its_case_and_cause(referral, catalog):
    envelope = demand_referred()
    referral.on_demand_referred(envelope, catalog)
    (requested,) = stored_events(
        referral, Referral.create_id(envelope.aggregate_id, "6.3")
    )
    assert requested.audit["correlation_id"] == envelope.correlation_id
    assert requested.audit["causation_id"] == envelope.event_id
    assert requested.audit["actor"]["id"] == "service:referral"


def test_an_old_version_of_an_event_is_upcast_and_its_chain_still_holds(intake):
    """Registered v1 (before Appendix B's other lines) reads as v2 with blanks."""
    demand = intake.register_demand(FORM)
    demand_id = UUID(demand["id"])

    def as_version_1(state):
        for line in (
            "address",
            "contact_person",
            "position",
            "service_staff",
            "feedback_time",
            "main_business",
            "customer_kind",
            "credit_code",
        ):
            state.pop(line)
        state.pop("class_version")
        # what v1 recorded, hashed as v1 recorded it
        from eventsourcing.utils import get_topic

        from services.intake.domain import Demand
        from shared.hashchain import event_hash

        check = {k: v for k, v in state.items() if k != "chain_hash"}
        check["timestamp"] = intake.mapper.transcoder.decode(
            json.dumps({"t": state["timestamp"]}).encode()
        )["t"]
        check["originator_id"] = demand_id
        check["originator_version"] = 1
        state["chain_hash"] = event_hash(get_topic(Demand.Registered), check)

    support.tamper(intake, demand_id, 1, as_version_1)
    upcast = intake.repository.get(demand_id)
    assert upcast.address == "" and upcast.customer_kind == "company"
    assert upcast.applicant == FORM["applicant"]
    assert intake.verify_all() == (1, [])
