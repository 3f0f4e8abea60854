"""The integration-event envelope."""

import pytest

from shared.envelope import Envelope, EnvelopeError


def sample(**changes) -> dict:
    body = {
        "event_id": Envelope.event_id_for("intake", "a1", 1),
        "type": "DemandRegistered",
        "schema_version": 1,
        "occurred_at": "2026-11-26T08:00:00+00:00",
        "source": "intake",
        "position": 7,
        "aggregate_id": "a1",
        "aggregate_version": 1,
        "correlation_id": "a1",
        "causation_id": "",
        "actor": {"id": "s-1", "role": "staff", "institution": "jsqi"},
        "channel": "window",
        "data": {"demand_id": "a1"},
    }
    body.update(changes)
    return body


def test_round_trip():
    envelope = Envelope.from_dict(sample())
    assert Envelope.from_dict(envelope.to_dict()) == envelope


def test_event_id_is_stable_for_the_same_stored_event():
    assert Envelope.event_id_for("intake", "a1", 1) == sample()["event_id"]
    assert Envelope.event_id_for("intake", "a1", 2) != sample()["event_id"]


def test_missing_fields_are_named():
    body = sample()
    del body["position"], body["type"]
    with pytest.raises(EnvelopeError, match="type, .*position|position, .*type"):
        Envelope.from_dict(body)


@pytest.mark.parametrize("body", [None, "text", [1, 2], {"position": "x"}])
def test_garbage_is_an_envelope_error(body):
    with pytest.raises(EnvelopeError):
        Envelope.from_dict(body)


def test_work_caused_by_an_event_keeps_its_case_and_names_its_cause():
    envelope = Envelope.from_dict(sample())
    context = envelope.caused_context("referral")
    assert context.correlation_id == "a1"
    assert context.causation_id == envelope.event_id
    assert context.actor.id == "service:referral"
    assert context.channel == "window"
