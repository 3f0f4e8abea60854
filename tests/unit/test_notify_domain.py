"""notify's Message: claimed before it is sent, sent at most once, failures
tried again with a growing pause and parked after the last attempt (9.4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.notify.addresses import masked, mobile
from services.notify.contract import message_id
from services.notify.domain import Backoff, Message
from services.notify.render import Rendered
from shared.errors import ValidationFailed

T0 = datetime(2026, 11, 4, 1, 0, tzinfo=UTC)
BACKOFF = Backoff(first_seconds=10, attempts=3, longest_seconds=15, lease_seconds=60)


def queued(**draft) -> Message:
    return Message.queue(
        "evt-1",
        {
            "kind": "materials_notice",
            "audience": "customer",
            "demand_id": "d-1",
            **draft,
        },
        Rendered("主题", "正文", "<p>正文</p>"),
        T0,
    )


def test_a_message_is_named_by_its_cause_kind_and_audience():
    message = queued()
    assert message.id == message_id("evt-1", "materials_notice", "customer")
    assert message.id != queued(audience="partner").id
    with pytest.raises(ValidationFailed):
        queued(kind="gossip")


def test_without_channels_it_stays_in_the_inbox():
    message = queued()
    message.route({}, T0)
    assert message.status == "inbox" and message.due(T0) == []


def test_a_delivery_is_claimed_then_sent_once():
    message = queued()
    message.route({"email": "l***@example.cn"}, T0)
    assert message.due(T0) == ["email"]
    assert message.start("email", T0, BACKOFF) is False
    assert message.due(T0) == []  # claimed: nobody else sends it
    with pytest.raises(ValidationFailed):
        message.start("email", T0, BACKOFF)
    message.sent("email", T0, "250 OK")
    assert message.status == "sent" and message.due(T0 + timedelta(days=9)) == []
    with pytest.raises(ValidationFailed):
        message.sent("email", T0)


def test_failures_wait_longer_each_time_and_are_parked_after_the_last():
    message = queued()
    message.route({"email": "l***@example.cn", "sms": "139****5678"}, T0)
    message.start("sms", T0, BACKOFF)
    message.sent("sms", T0)
    at = T0
    waits = []
    for attempt in range(1, 4):
        message.start("email", at, BACKOFF)
        parked = message.failed("email", "connection refused", at, BACKOFF)
        delivery = message.deliveries["email"]
        assert delivery["attempts"] == attempt
        if parked:
            break
        retry = datetime.fromisoformat(delivery["next_at"])
        waits.append((retry - at).total_seconds())
        assert message.due(retry - timedelta(seconds=1)) == []
        at = retry
    assert waits == [10, 15]  # doubled, capped
    assert parked and message.status == "parked"
    assert message.due(at + timedelta(days=1)) == []
    assert message.release(at) == ["email"]
    assert message.status == "sending" and message.deliveries["email"]["attempts"] == 0
    assert message.due(at) == ["email"]


def test_an_attempt_whose_sender_died_comes_back_after_its_lease_flagged():
    message = queued()
    message.route({"email": "l***@example.cn"}, T0)
    message.start("email", T0, BACKOFF)
    assert message.due(T0 + timedelta(seconds=59)) == []
    later = T0 + timedelta(seconds=61)
    assert message.due(later) == ["email"]
    assert message.start("email", later, BACKOFF) is True  # may have gone out
    assert message.deliveries["email"]["attempts"] == 2
    events = [type(e).__name__ for e in message.collect_events()]
    assert events == ["Queued", "Routed", "AttemptStarted", "AttemptStarted"]


def test_what_the_record_keeps_of_an_address_is_masked():
    assert masked("email", "li.ming@example.cn") == "l***@example.cn"
    assert masked("sms", "13912345678") == "139****5678"
    assert mobile("139-1234-5678") == "13912345678"
    assert mobile("025-83210101") == ""  # a landline gets no SMS


def test_the_message_as_the_inbox_shows_it():
    message = queued(institution="jsqi", link="https://qi.example.cn/progress")
    message.route({"email": "l***@example.cn"}, T0)
    shown = message.as_dict()
    assert shown["kind_label"] == "材料一次性告知" and shown["status_label"] == "发送中"
    assert shown["deliveries"] == {
        "email": {
            "status": "pending",
            "status_label": "待发送",
            "to": "l***@example.cn",
            "attempts": 0,
        }
    }
