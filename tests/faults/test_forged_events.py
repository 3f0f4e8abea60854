"""Forged events from a foreign client (issue 18): anybody holding the
broker's credentials publishes, with a plain AMQP client and not the
project's publisher, a ``ReferralFeedback`` to ``referral.events`` claiming
to come from referral, about a real demand.

Four forgeries: unsigned; signed with a key of the attacker's own; a genuine
event of intake, captured off the wire, re-labelled as referral's; and that
genuine event as it was, sent through referral's exchange. Each is parked
with its reason, counted in qi_intake_messages_rejected_total, changes
nothing in the demand's history and burns no position: the genuine feedback
sent afterwards at the same position is recorded. A replay of a forgery is
refused again.
"""

from __future__ import annotations

import dataclasses
import json
import time

import amqp
import pytest
from kombu import Connection

from services.intake.service import IntakeService
from shared import parked as parked_command
from shared import signing, topology
from shared.audit import Actor, AuditContext, audit_scope
from shared.case_history import case_events
from shared.entrypoints import rejected_counter
from shared.envelope import Envelope
from shared.parking import PARKED, ParkingLot
from shared.providers import application_of
from tests import support

STAFF = AuditContext(actor=Actor("staff-a", "staff", "jsqi"), channel="window")
FORM = {
    "applicant": "常州某电机有限公司",
    "contact_phone": "0519-86651234",
    "service_item_code": "6.3",
    "description": "电机能效检测",
    "channel": "window",
}
REFERRAL_EXCHANGE = topology.event_exchange("referral").name
# intake's events, waiting in evaluation's queue (nobody consumes it here)
CAPTURED_QUEUE = topology.Subscription(
    "intake", "DemandRegistered", "evaluation", "handle_intake_demand_registered"
).queue_name


def feedback(demand_id: str, position: int) -> Envelope:
    """What referral's relay would publish when the partner's result is in."""
    referral_id = "0b1e7c9a-5f3d-4c2b-8a6e-9d1f2e3c4b5a"
    return Envelope(
        event_id=Envelope.event_id_for("referral", referral_id, 9),
        type="ReferralFeedback",
        schema_version=1,
        occurred_at="2026-11-20T10:00:00+08:00",
        source="referral",
        position=position,
        aggregate_id=referral_id,
        aggregate_version=9,
        correlation_id=demand_id,
        causation_id="",
        actor={"id": "lab-clerk", "role": "staff", "institution": "lab-x"},
        channel="web",
        data={
            "referral_id": referral_id,
            "demand_id": demand_id,
            "kind": "demand",
            "item_code": "6.3",
            "institution_id": "lab-x",
            "first_responder": "staff-a",
            "report_no": "FAKE-2026-0001",
            "verification_code": "ABCDEF",
            "on_time": True,
            "summary": "结论合格",
            "delivered_at": "2026-11-20T10:00:00+08:00",
        },
    )


def publish_as_a_stranger(amqp_uri: str, body: dict) -> None:
    """A plain AMQP client with the broker's credentials, nothing of ours."""
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        channel.basic_publish_confirm(
            amqp.Message(
                json.dumps(body, ensure_ascii=False),
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=2,
            ),
            exchange=REFERRAL_EXCHANGE,
            routing_key="ReferralFeedback",
        )


def rejected(reason: str) -> float:
    counter = rejected_counter("intake")
    return counter.labels(source="referral", reason=reason)._value.get()


def history(app, demand_id: str) -> list[tuple]:
    return [(e["event"], e["version"]) for e in case_events(app, demand_id)]


@pytest.mark.parametrize("backend", ["postgres"])
def test_forged_feedback_is_parked_counted_and_changes_nothing(
    databases, runner_factory, amqp_uri, fault_report
):
    runner = runner_factory(IntakeService)
    intake = application_of(support.container_of(runner, "intake"))
    lot = ParkingLot(intake.kernel)
    with audit_scope(STAFF):
        demand = intake.register_demand(FORM)
        intake.take(demand["id"], "staff-a")
    demand_id = demand["id"]
    # a genuine event of intake, as its relay signed and published it
    (captured,) = support.drain(amqp_uri, CAPTURED_QUEUE, expect=1, timeout=10)
    genuine_intake = Envelope.from_dict(captured)
    assert genuine_intake.signature.startswith("ed25519:intake:")
    before = history(intake, demand_id)
    counts = {reason: rejected(reason) for reason in signing.REASONS}

    position = 7
    unsigned = feedback(demand_id, position)
    strangers_key = signing.private_key(signing.new_private_key(), "the attacker's")
    forgeries = {
        "unsigned": unsigned.to_dict(),
        "bad_signature": signing.Signer("referral", strangers_key)
        .sign(unsigned)
        .to_dict(),
        "relabelled": dataclasses.replace(genuine_intake, source="referral").to_dict(),
        "as it was": genuine_intake.to_dict(),
    }
    for body in forgeries.values():
        publish_as_a_stranger(amqp_uri, body)

    rows = support.wait_for(
        lambda: (found := lot.list(PARKED)) and len(found) >= 4 and found, timeout=20
    )
    time.sleep(0.3)  # room for a late effect
    errors = sorted(row["error"].split(":")[1].strip() for row in lot.list(PARKED))
    assert errors == ["bad_signature", "unsigned", "wrong_source", "wrong_source"]
    assert all(row["event_id"].startswith("rejected-") for row in rows)
    assert rejected("unsigned") == counts["unsigned"] + 1
    assert rejected("bad_signature") == counts["bad_signature"] + 1
    assert rejected("wrong_source") == counts["wrong_source"] + 2
    after = history(intake, demand_id)
    assert after == before
    assert intake.get_demand(demand_id)["referral_feedback"] == []

    # a replay of a forgery is checked again: still refused, one attempt more
    forged_row = next(r for r in rows if "unsigned" in r["error"])
    parked_command.replay("intake", [forged_row["id"]])
    support.wait_for(lambda: lot.get(forged_row["id"])["attempts"] == 2)
    assert lot.get(forged_row["id"])["status"] == PARKED
    assert history(intake, demand_id) == before

    # referral's genuine feedback at the same position is recorded: the
    # forgeries took no position and no place of the genuine event
    publish_as_a_stranger(amqp_uri, support.signed(unsigned))
    support.wait_for(lambda: intake.get_demand(demand_id)["referral_feedback"])
    (recorded,) = intake.get_demand(demand_id)["referral_feedback"]
    assert recorded["report_no"] == "FAKE-2026-0001"
    assert [event for event, _ in history(intake, demand_id)] == [
        *(event for event, _ in before),
        "Demand.ReferralFeedbackReceived",
    ]
    fault_report(
        "forged events from a foreign client",
        sent=len(forgeries) + 1,
        effects=len(history(intake, demand_id)) - len(before),
        lost=0,
        duplicated=0,
        parked=len(lot.list(PARKED)),
        note="unsigned, a stranger's key, intake's event re-labelled and as it "
        "was: parked with their reasons; the genuine one applied",
    )
