"""What referral publishes, and the feedback recorded on the demand once."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from eventsourcing.persistence import Notification

from services.intake.domain import Demand
from services.intake.registration import RegistrationForm
from services.referral.domain import Referral
from services.referral.schemas import to_envelope
from shared.calendar import WorkingCalendar

CST = ZoneInfo("Asia/Shanghai")
CAL = WorkingCalendar()
REPORT = {"report_no": "R-1", "issued_on": "2026-11-04", "sha256": "0a" * 32}


def published(referral: Referral, *types: str) -> list:
    """The envelopes of ``referral``'s new events (of ``types``, if named)."""
    found = []
    for position, event in enumerate(referral.pending_events, start=1):
        notification = Notification(
            id=position,
            originator_id=referral.id,
            originator_version=event.originator_version,
            topic="",
            state=b"",
        )
        envelope = to_envelope(event, notification)
        if envelope is not None and (not types or envelope.type in types):
            found.append(envelope)
    return found


def sent_to(demand_id: str, lab: str, **request) -> Referral:
    """A referral of item 6.3.1 from jsqi's staff-a, sent to ``lab`` on a
    Monday at 9:00; ``request`` overrides the customer's plain demand."""
    r = Referral.request(
        demand_id,
        "6.3.1",
        **{
            "description": "",
            "kind": "demand",
            "requester": {"kind": "customer", "name": ""},
            "first_responder": "staff-a",
            "origin_institution": "jsqi",
            "green_channel": False,
            "cycle_days": 15,
            **request,
        },
    )
    r.match([{"kind": "institution", "id": lab, "institution_id": lab}])
    r.send(datetime(2026, 11, 2, 9, tzinfo=CST), CAL)
    return r


def served() -> Referral:
    r = sent_to("demand-9", "lab-a")
    r.accept(datetime(2026, 11, 2, 15, tzinfo=CST), CAL)
    r.complete(REPORT, datetime(2026, 11, 4, 10, tzinfo=CST), "CODE")
    r.deliver_feedback("结论合格")
    return r


def test_completion_and_feedback_are_published_without_personal_data():
    completed, feedback = published(served(), "ReferralCompleted", "ReferralFeedback")
    assert completed.type == "ReferralCompleted" and completed.schema_version == 1
    assert completed.data == {
        "referral_id": str(Referral.create_id("demand-9", "6.3.1")),
        "demand_id": "demand-9",
        "item_code": "6.3.1",
        "institution_id": "lab-a",
        "sent_at": "2026-11-02T09:00:00+08:00",
        "accepted_at": "2026-11-02T15:00:00+08:00",
        "completed_at": "2026-11-04T10:00:00+08:00",
        "acceptance_due": "2026-11-04T17:30:00+08:00",
        "completion_due": "2026-11-23T17:30:00+08:00",
        "on_time": True,
        "report_no": "R-1",
        "kind": "demand",
    }
    assert feedback.type == "ReferralFeedback" and feedback.schema_version == 2
    assert feedback.data["first_responder"] == "staff-a"
    assert feedback.data["verification_code"] == "CODE"
    assert feedback.data["on_time"] is True
    # the partner's words stay in referral: intake asks for them (issue 18)
    assert "summary" not in feedback.data and "结论合格" not in str(feedback.data)


def test_escalations_and_flags_are_published_for_the_manager():
    r = served()
    r.collect_events()
    other = sent_to(
        "demand-8",
        "lab-b",
        kind="government",
        requester={"kind": "department", "name": "省局"},
        green_channel=True,
    )
    other.escalate_overdue(datetime(2026, 11, 4, 9, tzinfo=CST))
    other.flag_qualification("lab-b", "CMA-B", "revoked", "2026-11-04", "撤销")
    acceptance, flag = published(other, "ReferralEscalated")
    assert acceptance.type == flag.type == "ReferralEscalated"
    assert acceptance.data["reason"] == "acceptance_overdue"
    assert acceptance.data["due"] == "2026-11-03T17:30:00+08:00"  # green: 1 day
    assert flag.data["reason"] == "qualification_revoked"
    assert flag.data["institution_id"] == "lab-b" and flag.data["kind"] == "government"
    assert acceptance.data["origin_institution"] == flag.data["origin_institution"]
    assert flag.data["origin_institution"] == "jsqi"  # whose managers it concerns


def test_the_partner_is_told_of_a_sending_its_signing_and_a_near_deadline():
    r = sent_to(
        "demand-7",
        "lab-a",
        description="客户的描述不外传",
        requester={"kind": "customer", "name": "某公司"},
    )
    r.remind_due(datetime(2026, 11, 4, 15, tzinfo=CST), timedelta(hours=4))
    r.accept(datetime(2026, 11, 4, 16, tzinfo=CST), CAL)
    sent, due_soon, accepted = published(
        r, "ReferralSent", "ReferralDueSoon", "ReferralAccepted"
    )
    facts = {
        "referral_id": str(r.id),
        "demand_id": "demand-7",
        "kind": "demand",
        "item_code": "6.3.1",
        "institution_id": "lab-a",
        "assignee_kind": "institution",
        "origin_institution": "jsqi",
    }
    assert sent.type == "ReferralSent" and sent.schema_version == 1
    assert sent.data == {
        **facts,
        "sent_at": "2026-11-02T09:00:00+08:00",
        "acceptance_due": "2026-11-04T17:30:00+08:00",
    }
    assert due_soon.data == {
        **facts,
        "stage": "acceptance",
        "due": "2026-11-04T17:30:00+08:00",
    }
    assert accepted.data == {
        **facts,
        "accepted_at": "2026-11-04T16:00:00+08:00",
        "completion_due": accepted.data["completion_due"],
    }
    assert accepted.data["completion_due"] > accepted.data["accepted_at"]
    for envelope in (sent, due_soon, accepted):  # nothing of the customer
        assert "某公司" not in str(envelope.data) and "描述" not in str(envelope.data)


def test_the_demand_records_a_referrals_feedback_once_for_its_owner():
    form = RegistrationForm.parse(
        {
            "applicant": "某公司",
            "contact_phone": "025-83456789",
            "service_item_code": "6.3.1",
            "description": "检测",
            "channel": "window",
        }
    )
    demand = Demand.register(form)
    demand.take("staff-a")
    feedback = {"referral_id": "r-1", "report_no": "R-1", "summary": "合格"}
    assert demand.record_referral_feedback(feedback) is True
    assert demand.record_referral_feedback(feedback) is False
    assert demand.referral_feedback == [{**feedback, "for_staff": "staff-a"}]
    kinds = [type(e).__name__ for e in demand.pending_events]
    assert kinds.count("ReferralFeedbackReceived") == 1
