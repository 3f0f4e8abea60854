"""Free text that can carry personal data stays out of integration events
(issue 18, item 6): a partner's feedback summary (ReferralFeedback v2), an
agreed corrective action and its owner (CorrectiveActionAgreed v2, v3) and a
suggestion card's text (SuggestionReceived v2) are published as ids and facts
only (staff's and admins' words in the other events: in
test_privacy_free_text_staff.py); the
consumer reads the words from the service that owns them when it needs them
(intake from referral, evaluation from complaints, by RPC), so the demand's
page and the improvement items still show them. A reader that does not answer
loses nothing: the message is tried again (DependencyUnavailable), and a v1
message stored before still reads with the words it carries.

Services run in this process on the real RabbitMQ, stores on PostgreSQL; the
published envelopes are read from a queue of the test's own bound to the
publishers' exchanges, as any consumer would receive them.
"""

import contextlib
import itertools
import json
import uuid

import pytest
from kombu import Connection

from services.evaluation import views
from services.evaluation.application import EvaluationApplication
from services.intake.application import IntakeApplication
from shared import topology
from shared.envelope import Envelope
from shared.errors import DependencyUnavailable
from tests import support
from tests.integration import test_gateway_access as access_tests
from tests.integration.test_complaint_by_code import decided, owned_case

backend = access_tests.backend
gateway = access_tests.gateway

TAP = "test.privacy-free-text"
TAPPED = (
    ("referral", "ReferralFeedback"),
    ("complaints", "CorrectiveActionAgreed"),
    ("complaints", "SuggestionReceived"),
)
# each names a person, as customers' and staff's words do
SUMMARY = "已电话告知联系人王小明，报告可到窗口领取"
ACTION = "约谈窗口人员李强，组织一次性告知复训"
SUGGESTION = "希望给我母亲张桂兰这样的老人设绿色通道"
OWNER = "窗口组长周敏"  # the person responsible, as the handler typed it


@contextlib.contextmanager
def event_tap(broker: str, name: str, tapped):
    """A queue ``name`` bound to the (source, event type) pairs ``tapped``,
    declared once the services (and so their exchanges) are up; gives a
    reader of what it got, and deletes the queue at the end."""
    with Connection(broker) as conn:
        channel = conn.channel()
        channel.queue_declare(name, durable=False, auto_delete=False)
        for source, event_type in tapped:
            exchange = topology.event_exchange(source).name
            channel.exchange_declare(exchange, "topic", durable=True, passive=True)
            channel.queue_bind(name, exchange, routing_key=event_type)
    seen: list[dict] = []

    def published(event_type: str) -> list[dict]:
        seen.extend(support.drain(broker, name, expect=1, timeout=0.5))
        return [b for b in seen if b["type"] == event_type]

    try:
        yield published
    finally:
        with Connection(broker) as conn:
            conn.channel().queue_delete(name)


@pytest.fixture
def tap(gateway, clean_broker):
    with event_tap(clean_broker, TAP, TAPPED) as published:
        yield published


def carries_none_of(body: dict, *words: str) -> bool:
    text = json.dumps(body, ensure_ascii=False)
    return not any(word in text for word in words)


def test_a_partners_summary_reaches_the_demand_but_not_the_event(gateway, tap):
    access_tests.lab_with_partner(gateway, "privacy")
    filed = gateway.post("/api/v1/demands", access_tests.ONLINE_FORM).json()
    referral_id = access_tests.refer_and_send(gateway, filed["id"])
    referral_path = f"/api/v1/referrals/{referral_id}"
    report = {"report_no": "PR-2026-0001", "issued_on": "2026-11-26"}
    for command, body in (
        ("acceptance", {}),
        ("completion", {"report": {**report, "sha256": "cd" * 32}}),
        ("feedback", {"summary": SUMMARY}),
    ):
        answer = gateway.post(f"{referral_path}/{command}", body, "privacy.clerk")
        assert answer.status_code == 200, (command, answer.text)

    (feedback,) = support.wait_for(lambda: tap("ReferralFeedback"), timeout=15)
    assert feedback["schema_version"] == 2
    assert feedback["data"]["referral_id"] == referral_id
    assert feedback["data"]["report_no"] == "PR-2026-0001"
    assert "summary" not in feedback["data"]
    assert carries_none_of(feedback, SUMMARY, "王小明")

    # intake read the words from referral as it recorded the feedback
    def recorded():
        return gateway.get(f"/api/v1/demands/{filed['id']}", "wang").json()[
            "referral_feedback"
        ]

    (shown,) = support.wait_for(recorded, timeout=15)
    assert shown["referral_id"] == referral_id and shown["summary"] == SUMMARY
    assert shown["for_staff"] == "wang"


def test_a_corrective_action_and_a_suggestion_reach_the_items_not_the_events(
    gateway, tap
):
    # about a case of jsqi's: the improvement item is its manager's (9.3)
    _, progress_code = owned_case(gateway)
    filed = gateway.post(
        "/api/v1/public/complaints",
        {**access_tests.COMPLAINT, "progress_code": progress_code},
    )
    assert filed.status_code == 201, filed.text
    complaint_id = filed.json()["id"]
    decided(gateway, complaint_id)
    agreed = gateway.post(
        f"/api/v1/complaints/{complaint_id}/agree_corrective_action",
        {"action": ACTION, "owner": OWNER},
        "cheng",
    )
    assert agreed.status_code == 200, agreed.text
    card = gateway.post(
        "/api/v1/comment-cards",
        {"source": "suggestion_box", "text": SUGGESTION},
        "cheng",
    )
    assert card.status_code == 201, card.text
    card_id = card.json()["id"]
    classified = gateway.post(
        f"/api/v1/comment-cards/{card_id}/classification",
        {"kind": "suggestion"},
        "cheng",
    )
    assert classified.status_code == 200, classified.text

    (action,) = support.wait_for(lambda: tap("CorrectiveActionAgreed"), timeout=15)
    assert action["schema_version"] == 3 and "action" not in action["data"]
    assert action["data"]["complaint_id"] == complaint_id
    assert "owner" not in action["data"]  # v3: a name typed by staff
    assert carries_none_of(action, ACTION, "李强", OWNER, "周敏")
    (suggestion,) = support.wait_for(lambda: tap("SuggestionReceived"), timeout=15)
    assert suggestion["schema_version"] == 2 and "text" not in suggestion["data"]
    assert suggestion["data"]["card_id"] == card_id
    assert carries_none_of(suggestion, SUGGESTION, "张桂兰")

    # evaluation read the words from complaints as it opened the items
    def items() -> dict[str, dict]:
        found = gateway.get("/api/v1/evaluation/improvements", "zhao")
        assert found.status_code == 200, found.text
        return {i["source"]: i for i in found.json()["items"]}

    shown = support.wait_for(lambda: len(items()) == 2 and items(), timeout=15)
    assert shown["complaint"]["actions"] == [ACTION]
    assert shown["complaint"]["owner"] == OWNER
    assert shown["suggestion"]["ref"] == card_id
    assert SUGGESTION in shown["suggestion"]["finding"]


# -- the reader not answering, and messages stored before v2 ------------------


class Owner:
    """The owning service's RPC as the consumer meets it: not answering
    (``DependencyUnavailable``, as ``BoundedRpcProxy`` raises after
    QI_RPC_TIMEOUT_SECONDS) until it is back."""

    def __init__(self, answer):
        self.answer = answer
        self.up = False
        self.asked: list[tuple] = []

    def __call__(self, *args):
        self.asked.append(args)
        if not self.up:
            raise DependencyUnavailable("did not answer within 10s")
        return self.answer


POSITIONS = itertools.count(1)


def envelope(source, event_type, version, aggregate_id, data, demand_id=""):
    """As the publisher's relay sends it: each its own position, an event at
    version 7 of its aggregate."""
    return Envelope(
        event_id=Envelope.event_id_for(source, aggregate_id, 7),
        type=event_type,
        schema_version=version,
        occurred_at="2026-11-26T10:00:00+08:00",
        source=source,
        position=next(POSITIONS),
        aggregate_id=aggregate_id,
        aggregate_version=7,
        correlation_id=demand_id or aggregate_id,
        causation_id="",
        actor={"id": "someone", "role": "staff", "institution": "jsqi"},
        channel="web",
        data=data,
    )


@pytest.fixture
def intake(databases):
    app = IntakeApplication()
    yield app
    app.close()


@pytest.fixture
def evaluation(databases):
    app = EvaluationApplication()
    yield app
    app.close()


def feedback(demand_id: str, version: int, **more) -> Envelope:
    referral_id = str(uuid.uuid4())
    data = {
        "referral_id": referral_id,
        "demand_id": demand_id,
        "kind": "demand",
        "item_code": "6.3.1",
        "institution_id": "lab-x",
        "first_responder": "",
        "report_no": "PR-2026-0002",
        "verification_code": "ABCDEF",
        "on_time": True,
        "delivered_at": "2026-11-26T10:00:00+08:00",
        **more,
    }
    return envelope(
        "referral", "ReferralFeedback", version, referral_id, data, demand_id
    )


def test_feedback_waits_for_referral_and_old_messages_keep_their_summary(intake):
    demand_id = intake.register_demand(access_tests.ONLINE_FORM)["id"]
    referral = Owner(SUMMARY)
    message = feedback(demand_id, 2)
    with pytest.raises(DependencyUnavailable):  # requeued by the handler
        intake.on_referral_feedback(message, referral)
    assert intake.get_demand(demand_id)["referral_feedback"] == []
    referral.up = True
    assert intake.on_referral_feedback(message, referral) is True
    assert referral.asked[-1] == (message.data["referral_id"],)
    assert intake.on_referral_feedback(message, referral) is False  # once
    old = feedback(demand_id, 1, summary="v1 的反馈原文")
    assert intake.on_referral_feedback(old, Owner("")) is True  # not asked
    summaries = [
        f["summary"] for f in intake.get_demand(demand_id)["referral_feedback"]
    ]
    assert summaries == [SUMMARY, "v1 的反馈原文"]


def test_an_item_waits_for_complaints_and_old_messages_keep_their_text(evaluation):
    complaint_id = str(uuid.uuid4())
    facts = {
        "complaint_id": complaint_id,
        "number": "TS-2026-000001",
        "owner": "zhao",
        "outcome": "upheld",
        "demand_id": "",
        "institution_id": "jsqi",
    }
    complaints = Owner({"action": ACTION, "owner": "zhao"})
    agreed = envelope("complaints", "CorrectiveActionAgreed", 2, complaint_id, facts)
    with pytest.raises(DependencyUnavailable):
        evaluation.on_fact(agreed, complaints)
    assert views.improvements(evaluation, "jsqi") == []
    complaints.up = True
    assert evaluation.on_fact(agreed, complaints) is True
    assert complaints.asked == [(complaint_id, 7), (complaint_id, 7)]
    (item,) = views.improvements(evaluation, "jsqi")
    assert item["actions"] == [ACTION] and item["owner"] == "zhao"

    # v3: the owner is read from complaints too
    later_id = str(uuid.uuid4())
    later = {k: v for k, v in facts.items() if k != "owner"}
    later["complaint_id"] = later_id
    complaints = Owner({"action": ACTION, "owner": OWNER})
    agreed = envelope("complaints", "CorrectiveActionAgreed", 3, later_id, later)
    with pytest.raises(DependencyUnavailable):
        evaluation.on_fact(agreed, complaints)
    complaints.up = True
    assert evaluation.on_fact(agreed, complaints) is True
    owners = sorted(i["owner"] for i in views.improvements(evaluation, "jsqi"))
    assert owners == sorted(["zhao", OWNER])

    card_id = str(uuid.uuid4())
    card = {
        "card_id": card_id,
        "institution_id": "jsqi",
        "received_at": "2026-11-26T09:00:00+08:00",
        "classified_at": "2026-11-26T10:00:00+08:00",
    }
    texts = Owner(SUGGESTION)
    suggested = envelope("complaints", "SuggestionReceived", 2, card_id, card)
    with pytest.raises(DependencyUnavailable):
        evaluation.on_suggestion(suggested, texts)
    texts.up = True
    assert evaluation.on_suggestion(suggested, texts) is True
    old_id = str(uuid.uuid4())
    old = envelope(
        "complaints",
        "SuggestionReceived",
        1,
        old_id,
        {**card, "card_id": old_id, "text": "v1 的意见原文"},
    )
    assert evaluation.on_suggestion(old, Owner("")) is True  # not asked
    findings = sorted(
        i["finding"]
        for i in views.improvements(evaluation, "jsqi")
        if i["source"] == "suggestion"
    )
    assert findings == sorted(
        [f"意见卡建议：{SUGGESTION}", "意见卡建议：v1 的意见原文"]
    )
