"""Complaint lifecycle rules (GB/T 19012, GB/T 19013): every refusal stores nothing."""

from datetime import datetime, timedelta

import pytest

from services.complaints.cards import CommentCard
from services.complaints.domain import Complaint, complaint_id_for
from services.complaints.views import status_for_complainant, summary
from shared.calendar import SHANGHAI, WorkingCalendar
from shared.errors import ValidationFailed

# Wednesday 6 May 2026, 09:00 in Shanghai (a working day)
RECEIVED = datetime(2026, 5, 6, 9, 0, tzinfo=SHANGHAI)
CAL = WorkingCalendar(overrides={})


def form(**changes):
    base = {
        "channel": "hotline",
        "complainant_name": "张三丰",
        "complainant_phone": "13812345678",
        "description": "检验报告延误两周且无人回复",
        "remedy_requested": "尽快出具报告并说明原因",
        "received_at": RECEIVED,
        "demand_id": "d-1",
        "staff_id": "staff-7",
    }
    return {**base, **changes}


def received(**changes) -> Complaint:
    return Complaint.receive(form(**changes), "ABCDEFGHJK")


def decided(outcome="upheld") -> Complaint:
    c = received()
    c.acknowledge("handler-1")
    c.assess("medium", "low", "单个客户受影响", immediate_action=False)
    c.assign_investigator("inv-2")
    c.decide(outcome, "经核实延误属实，向您致歉", "免收加急费")
    return c


def refused(call, field="status") -> None:
    with pytest.raises(ValidationFailed) as caught:
        call()
    assert caught.value.errors[0]["field"] == field
    assert all(ord(ch) > 127 for ch in caught.value.errors[0]["message"][:1])


def test_a_complaint_has_a_random_id_not_derived_from_its_code_and_is_linked():
    c = received()
    assert c.id != complaint_id_for("ABCDEFGHJK") and c.id.version == 4
    assert received().id != c.id  # the same code twice: two random ids
    assert c.number.startswith("TS-2026-") and len(c.number) == 18
    assert c.number[8:].isdigit()
    assert c.status == "received" and c.links == {
        "demand_id": "d-1",
        "staff_id": "staff-7",
    }


def test_full_lifecycle_closes_when_the_complainant_accepts():
    c = decided()
    c.communicate("电话", "已电话告知")
    c.accept()
    assert c.status == "closed" and c.closed_reason == "accepted"
    assert c.history == [
        "received",
        "acknowledged",
        "assessed",
        "investigating",
        "decided",
        "communicated",
        "closed",
    ]


def test_a_rejected_response_goes_to_review_then_a_new_decision():
    c = decided("not_upheld")
    c.communicate("短信")
    c.reject("不同意结论")
    assert c.status == "escalated"
    c.record_review("reviewer-9", "原结论依据不足")
    c.decide("partly_upheld", "复核后部分成立", "退还部分费用")
    c.communicate("书面")
    c.accept()
    assert c.status == "closed"


@pytest.mark.parametrize(
    "action",
    [
        lambda c: c.assess("low", "low", "x"),
        lambda c: c.assign_investigator("inv"),
        lambda c: c.decide("upheld", "r", "m"),
        lambda c: c.communicate("电话"),
        lambda c: c.accept(),
        lambda c: c.reject("r"),
        lambda c: c.record_review("rv", "f"),
        lambda c: c.record_consent("n"),
        lambda c: c.refer_to_dispute("调解中心", "mediation"),
        lambda c: c.record_dispute_outcome("o"),
        lambda c: c.agree_corrective_action("a", "o"),
    ],
)
def test_each_out_of_order_step_is_refused_naming_status(action):
    c = received()
    version = c.version
    refused(lambda: action(c))
    assert c.version == version and c.status == "received"
    assert len(c.collect_events()) == 1  # only Received


def test_a_closed_complaint_refuses_further_steps():
    c = decided()
    c.communicate("电话")
    c.accept()
    for step in (lambda: c.accept(), lambda: c.acknowledge("h"), lambda: c.reject("r")):
        refused(step)


def test_the_staff_member_complained_about_cannot_investigate():
    c = received()
    c.acknowledge("handler-1")
    c.assess("high", "high", "涉及多个客户", immediate_action=True)
    refused(lambda: c.assign_investigator("staff-7"), "investigator")
    assert c.status == "assessed"


def test_bad_input_names_its_field():
    refused(lambda: received(channel="pigeon"), "channel")
    refused(lambda: received(complainant_phone=""), "complainant_name")
    refused(lambda: received(received_at="2026-05-06T09:00"), "received_at")
    c = received()
    c.acknowledge("h")
    refused(lambda: c.assess("huge", "low", "x"), "severity")
    c.assess("low", "low", "x")
    c.assign_investigator("inv")
    refused(lambda: c.decide("upheld", "答复", ""), "remedy")


def test_an_anonymous_complaint_keeps_no_identity():
    c = received(anonymous=True, complainant_name="", complainant_phone="")
    assert c.anonymous and c.complainant_name == ""


def test_deadlines_count_working_days_from_receipt():
    due = received().deadlines(CAL)
    assert due["acknowledge"].date().isoformat() == "2026-05-07"
    # Saturday 9 May 2026 is an adjusted working day (Labour Day swap)
    assert due["respond"].date().isoformat() == "2026-05-19"
    assert due["close"] > due["respond"]


def test_an_overdue_acknowledgement_is_escalated_exactly_once():
    c = received()
    assert c.overdue_stages(RECEIVED + timedelta(hours=2), CAL) == []
    late = RECEIVED + timedelta(days=2)
    assert c.overdue_stages(late, CAL) == ["acknowledge"]
    assert c.escalate_overdue(late, CAL) == ["acknowledge"]
    version = c.version
    assert c.escalate_overdue(late, CAL) == []
    assert c.version == version
    c.acknowledge("h")
    assert c.overdue_stages(late, CAL) == []


def test_later_stages_escalate_each_once():
    c = received()
    much_later = RECEIVED + timedelta(days=60)
    assert c.escalate_overdue(much_later, CAL) == ["acknowledge", "respond", "close"]
    assert c.escalate_overdue(much_later, CAL) == []
    assert c.escalated_stages == ["acknowledge", "respond", "close"]


def reviewed() -> Complaint:
    c = decided("not_upheld")
    c.communicate("电话")
    c.reject("不接受")
    c.record_review("reviewer-9", "维持原结论")
    return c


def test_a_dispute_needs_the_complainants_informed_consent():
    c = reviewed()
    refused(lambda: c.refer_to_dispute("市消费纠纷调解中心", "mediation"), "consent")
    assert c.status == "reviewed"
    c.record_consent("已告知调解程序、费用和效力，投诉人书面同意")
    refused(lambda: c.record_consent("again"), "consent")
    refused(lambda: c.refer_to_dispute("调解中心", "duel"), "method")
    c.refer_to_dispute("市消费纠纷调解中心", "mediation")
    assert c.status == "in_dispute"
    c.record_dispute_outcome("调解达成协议")
    assert c.status == "closed" and c.closed_reason == "dispute_concluded"
    assert c.dispute["provider"] == "市消费纠纷调解中心"


def test_the_investigator_cannot_review_their_own_case():
    c = decided()
    c.communicate("电话")
    c.reject("不接受")
    refused(lambda: c.record_review("inv-2", "f"), "reviewer")


def test_a_corrective_action_carries_the_case_for_evaluation():
    c = decided()
    c.agree_corrective_action("报告超期自动提醒", "质量部")
    last = c.collect_events()[-1]
    assert last.context["demand_id"] == "d-1" and last.context["outcome"] == "upheld"


def test_identity_is_masked_unless_the_reader_may_see_it():
    c = received()
    masked = summary(c, may_see_identity=False)
    assert masked["complainant_name"] == "张**"
    assert masked["complainant_phone"] == "138****5678"
    full = summary(c, may_see_identity=True)
    assert full["complainant_phone"] == "13812345678"


def test_the_complainant_sees_stages_and_promised_times_never_who_handles_it():
    c = decided()
    shown = status_for_complainant(c)
    assert set(shown) == {
        "number",
        "stage",
        "stages",
        "deadlines",
        "decision",
        "may_respond",
    }
    assert shown["stage"] == "已作出处理决定"
    assert [(d["stage"], d["done"]) for d in shown["deadlines"]] == [
        ("acknowledge", True),
        ("respond", False),
        ("close", False),
    ]
    # decided but not yet communicated: the decision is not shown yet
    assert shown["decision"] is None and shown["may_respond"] is False
    assert "13812345678" not in str(shown) and "inv-2" not in str(shown)


def test_a_comment_card_is_classified_once():
    card = CommentCard.record(
        {
            "source": "suggestion_box",
            "text": "希望延长窗口时间",
            "received_at": RECEIVED,
        }
    )
    refused(lambda: card.classify("complaint"), "complaint_id")
    card.classify("suggestion")
    refused(lambda: card.classify("praise"))
    assert card.kind == "suggestion"


def test_a_complaint_card_opens_an_anonymous_complaint_when_unsigned():
    card = CommentCard.record(
        {"source": "hotline", "text": "窗口人员态度差", "received_at": RECEIVED}
    )
    complaint = Complaint.receive(card.complaint_form(), "CODE123456")
    card.classify("complaint", str(complaint.id))
    assert complaint.anonymous and complaint.channel == "hotline"
    assert card.complaint_id == str(complaint.id)


def test_a_card_recorded_before_v2_reads_as_the_front_doors():
    state = {"source": "hotline", "text": "态度差", "received_at": "2026-05-06"}
    CommentCard.Recorded.upcast_v1_v2(state)
    assert state["institution_id"] == ""
    assert CommentCard.Recorded.class_version == 2


def test_a_card_names_the_institution_it_came_in_by_and_passes_it_on():
    card = CommentCard.record(
        {
            "source": "suggestion_box",
            "text": "收费不透明",
            "received_at": RECEIVED,
            "institution_id": "nj-lab",
        }
    )
    complaint = Complaint.receive(card.complaint_form(), "CODE654321")
    assert card.as_dict()["institution_id"] == "nj-lab"
    assert complaint.links["institution_id"] == "nj-lab"
    refused(
        lambda: CommentCard.record(
            {
                "source": "hotline",
                "text": "x",
                "received_at": RECEIVED,
                "institution_id": ["nj-lab"],
            }
        ),
        "institution_id",
    )
