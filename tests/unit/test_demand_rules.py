"""First responder (7.4.2), follow-ups (8.3.5), one-time notification (7.4.3)."""

import pytest

from services.intake.domain import Demand
from services.intake.registration import RegistrationForm
from shared.errors import ValidationFailed

FORM = RegistrationForm.parse(
    {
        "applicant": "泰州某电器有限公司",
        "contact_phone": "13800001111",
        "service_item_code": "6.3.1",
        "description": "家用电器安全检测",
        "channel": "window",
    }
)
CHECKLIST = [
    "检验检测委托单",
    "营业执照复印件",
    "样品及样品信息表",
    "产品标准或技术要求",
]


def demand(owner: str | None = "staff-a") -> Demand:
    d = Demand.register(FORM)
    if owner:
        d.take(owner)
    return d


def test_the_first_to_take_a_demand_owns_it():
    d = demand(owner=None)
    d.take("staff-a")
    assert d.owner == "staff-a"
    with pytest.raises(ValidationFailed) as caught:
        d.take("staff-b")
    assert "staff-a" in caught.value.errors[0]["message"]
    assert d.owner == "staff-a"


def test_ownership_moves_only_by_an_accepted_hand_over_with_a_reason():
    d = demand()
    with pytest.raises(ValidationFailed) as caught:
        d.offer_handover("staff-a", "staff-b", " ")
    assert caught.value.errors[0]["field"] == "reason"
    with pytest.raises(ValidationFailed):
        d.offer_handover("staff-c", "staff-b", "不是我的")  # only the owner
    d.offer_handover("staff-a", "staff-b", "涉及计量，转计量窗口")
    assert d.owner == "staff-a"  # still, until accepted
    with pytest.raises(ValidationFailed):
        d.accept_handover("staff-c")  # only the named receiver
    d.accept_handover("staff-b")
    assert d.owner == "staff-b" and d.handover is None


def test_a_refused_hand_over_stays_with_the_owner():
    d = demand()
    d.offer_handover("staff-a", "staff-b", "休假")
    with pytest.raises(ValidationFailed):
        d.offer_handover("staff-a", "staff-c", "another")  # one offer at a time
    d.refuse_handover("staff-b", "非本部门业务")
    assert d.owner == "staff-a" and d.handover is None


def test_only_the_owner_records_follow_ups():
    d = demand()
    d.follow_up("staff-a", "已电话联系客户确认样品数量")
    with pytest.raises(ValidationFailed) as caught:
        d.follow_up("staff-b", "x")
    assert caught.value.errors[0]["field"] == "staff_id"
    assert [f["note"] for f in d.follow_ups] == ["已电话联系客户确认样品数量"]


def test_a_notice_lists_all_missing_and_nonconforming_materials_at_once():
    d = demand()
    late = d.notify_materials(
        "staff-a",
        CHECKLIST,
        ["检验检测委托单", "营业执照复印件"],
        {"营业执照复印件": "复印件模糊"},
        "025-83210000 王工",
    )
    assert late == []
    (notice,) = d.notices
    assert notice["requested"] == [
        "样品及样品信息表",
        "产品标准或技术要求",
        "营业执照复印件",
    ]


def test_asking_later_for_what_the_first_notice_should_have_listed_is_refused():
    d = demand()
    d.notify_materials("staff-a", CHECKLIST, CHECKLIST[:2], {}, "025-83210000")
    # the licence copy was handed in at the start; calling it flawed only now
    late = d.notify_materials(
        "staff-a", CHECKLIST, CHECKLIST[:2], {"营业执照复印件": "复印件模糊"}, "025"
    )
    assert late == ["营业执照复印件"]
    assert len(d.notices) == 1  # no second notice issued
    assert d.notice_violations == [{"staff_id": "staff-a", "late": late}]


def test_a_supplement_found_nonconforming_may_be_asked_for_again():
    d = demand()
    d.notify_materials("staff-a", CHECKLIST, CHECKLIST[:2], {}, "025-83210000")
    d.supply_materials(["样品及样品信息表"])
    late = d.notify_materials(
        "staff-a", CHECKLIST, CHECKLIST[:3], {"样品及样品信息表": "信息表缺型号"}, "025"
    )
    assert late == [] and len(d.notices) == 2
    assert d.outstanding == ["产品标准或技术要求", "样品及样品信息表"]


def test_a_changed_request_may_need_new_materials_without_a_violation():
    d = demand()
    d.notify_materials("staff-a", CHECKLIST[:3], CHECKLIST[:2], {}, "025-83210000")
    d.change_request([{"item_code": "6.3.1", "description": "增加能效检测"}])
    extended = [*CHECKLIST, "能效检测申请表"]
    assert d.notify_materials("staff-a", extended, CHECKLIST[:3], {}, "025") == []
    assert len(d.notices) == 2 and d.notice_violations == []
    assert d.outstanding == ["产品标准或技术要求", "能效检测申请表"]


def test_supplements_complete_the_materials_and_restart_the_clock():
    d = demand()
    d.notify_materials("staff-a", CHECKLIST, CHECKLIST[:2], {}, "025-83210000")
    with pytest.raises(ValidationFailed):
        d.supply_materials(["发票"])  # never asked for
    d.supply_materials(["样品及样品信息表"])
    assert d.materials_complete_at is None
    d.supply_materials(["产品标准或技术要求"])
    assert d.outstanding == [] and d.materials_complete_at is not None


def test_a_notice_when_nothing_is_missing_is_refused():
    d = demand()
    with pytest.raises(ValidationFailed) as caught:
        d.notify_materials("staff-a", CHECKLIST, CHECKLIST, {}, "025-83210000")
    assert caught.value.errors[0]["field"] == "provided"
    assert d.notices == []


def test_refused_commands_add_no_event():
    d = demand()
    before = len(d.pending_events)
    for command in (
        lambda: d.take("staff-b"),
        lambda: d.follow_up("staff-b", "x"),
        lambda: d.accept_handover("staff-b"),
        lambda: d.offer_handover("staff-a", "staff-a", "self"),
        lambda: d.notify_materials("staff-b", CHECKLIST, [], {}, "025"),
    ):
        with pytest.raises(ValidationFailed):
            command()
    assert len(d.pending_events) == before


PASSED = {"capability": True, "method": True, "cycle": True, "fee": True}


def test_a_manager_opens_the_green_channel_once_with_a_reason():
    d = demand()
    with pytest.raises(ValidationFailed):
        d.open_green_channel("manager-1", "")
    d.open_green_channel("manager-1", "重点企业出口订单急需检测报告")
    assert d.green_channel["reason"].startswith("重点企业")
    with pytest.raises(ValidationFailed):
        d.open_green_channel("manager-1", "again")


def test_answered_at_once_resolves_the_demand():
    d = demand()
    d.decide("staff-a", "answered", {"answer": "该产品无需强制性认证"})
    assert d.status == "resolved" and d.triage["answer"]


def test_serving_or_referring_needs_complete_materials_and_a_passed_review():
    d = demand()
    d.notify_materials("staff-a", CHECKLIST, CHECKLIST[:2], {}, "025-83210000")
    with pytest.raises(ValidationFailed) as caught:
        d.decide("staff-a", "in_house", {"department": "电器检测部"})
    assert caught.value.errors[0]["field"] == "materials"
    d.supply_materials(CHECKLIST[2:])
    with pytest.raises(ValidationFailed) as caught:
        d.decide("staff-a", "in_house", {"department": "电器检测部"})
    assert caught.value.errors[0]["field"] == "contract_review"
    assert d.review_contract("staff-a", {**PASSED, "fee": False}) is False
    with pytest.raises(ValidationFailed):
        d.decide("staff-a", "in_house", {"department": "电器检测部"})
    assert d.review_contract("staff-a", PASSED) is True
    d.decide("staff-a", "referred", {})
    assert d.status == "referred" and d.triage["items"] == ["6.3.1"]
    with pytest.raises(ValidationFailed):
        d.decide("staff-a", "answered", {"answer": "twice"})


def test_a_review_names_every_point():
    d = demand()
    with pytest.raises(ValidationFailed) as caught:
        d.review_contract("staff-a", {"capability": True})
    assert caught.value.errors[0]["field"] == "checks"


def test_resolved_demands_reopen_with_a_reason_and_take_no_follow_ups():
    d = demand()
    d.decide("staff-a", "answered", {"answer": "已答复"})
    with pytest.raises(ValidationFailed):
        d.follow_up("staff-a", "late note")
    with pytest.raises(ValidationFailed):
        d.reopen("staff-a", " ")
    d.reopen("staff-a", "客户补充了新的检测要求")
    assert d.status == "reopened" and d.triage is None
    d.decide("staff-a", "answered", {"answer": "补充答复"})
    assert d.status == "resolved"


def test_a_referral_decision_is_published_with_its_items_quote_and_green_channel():
    from eventsourcing.persistence import Notification

    from services.intake.schemas import to_envelope

    d = demand()
    d.open_green_channel("manager-1", "出口急需")
    d.review_contract("staff-a", PASSED)
    d.decide("staff-a", "referred", {"quote_id": "q-7"})
    decided = d.pending_events[-1]
    notification = Notification(
        id=9,
        originator_id=d.id,
        originator_version=decided.originator_version,
        topic="",
        state=b"",
    )
    envelope = to_envelope(decided, notification)
    assert envelope.type == "DemandReferred" and envelope.position == 9
    assert envelope.data == {
        "demand_id": str(d.id),
        "items": ["6.3.1"],
        "quote_id": "q-7",
        "green_channel": True,
        "first_responder": "staff-a",
    }
    assert to_envelope(d.pending_events[-3], notification) is None  # internal


def _published(d: Demand):
    from eventsourcing.persistence import Notification

    from services.intake.schemas import to_envelope

    last = d.pending_events[-1]
    notification = Notification(
        id=1, originator_id=d.id, originator_version=1, topic="", state=b""
    )
    return to_envelope(last, notification)


def test_the_end_of_a_service_is_published_for_the_rating_clock():
    answered = demand()
    answered.decide("staff-a", "answered", {"answer": "无需检测"})
    envelope = _published(answered)
    assert envelope.type == "DemandResolved"
    assert envelope.data["outcome"] == "answered"
    assert envelope.data["resolved_by"] == "staff-a"

    served = demand()
    served.review_contract("staff-a", PASSED)
    served.decide("staff-a", "in_house", {"department": "电器检测部"})
    served.resolve("staff-a", "报告已交付")
    envelope = _published(served)
    assert envelope.type == "DemandResolved"
    assert (envelope.data["outcome"], envelope.data["resolved_by"]) == (
        "in_house",
        "staff-a",
    )
    assert (
        envelope.data["resolved_at"] == served.pending_events[-1].timestamp.isoformat()
    )


def test_staff_actions_are_published_for_efficiency_without_customer_data():
    d = Demand.register(FORM)
    d.take("staff-a")
    assert _published(d).data["staff_id"] == "staff-a"
    assert _published(d).type == "DemandTaken"
    d.review_contract("staff-a", {**PASSED, "fee": False})
    assert (_published(d).type, _published(d).data["passed"]) == (
        "ContractReviewed",
        False,
    )
    d.notify_materials("staff-a", CHECKLIST, CHECKLIST[:2], {}, "025-83210000")
    flawed = {"营业执照复印件": "复印件模糊"}
    d.notify_materials("staff-a", CHECKLIST, CHECKLIST[:2], flawed, "025")
    envelope = _published(d)
    assert envelope.type == "NoticeViolation"
    assert envelope.data == {
        "demand_id": str(d.id),
        "staff_id": "staff-a",
        "late": ["营业执照复印件"],
    }
    d.offer_handover("staff-a", "staff-b", "超出本人业务范围")
    d.accept_handover("staff-b")
    assert (_published(d).type, _published(d).data["staff_id"]) == (
        "DemandHandedOver",
        "staff-b",
    )
