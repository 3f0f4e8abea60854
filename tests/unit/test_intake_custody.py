"""Convenience services (7.4.4): visits, samples' chain of custody, reports."""

import re
from datetime import date, datetime, timedelta, timezone
from uuid import NAMESPACE_URL, uuid4, uuid5

import pytest

from services.intake.custody import CUSTOMER, SampleCustody
from shared.errors import ValidationFailed

CST = timezone(timedelta(hours=8))
CJK = re.compile(r"[\u4e00-\u9fff]")


def at(hour: float) -> datetime:
    return datetime(2025, 3, 3, tzinfo=CST) + timedelta(hours=hour)


def custody(*samples: str) -> SampleCustody:
    c = SampleCustody(str(uuid4()))
    for sample_id in samples:
        c.register_sample(sample_id, "电线电缆 1.5mm²", 3, "完好")
    return c


def refused(c: SampleCustody, field: str, command, *args, **kwargs) -> str:
    """The command is refused naming ``field`` in Chinese; no event is added."""
    before = len(c.pending_events)
    with pytest.raises(ValidationFailed) as caught:
        command(*args, **kwargs)
    [error] = caught.value.errors
    assert error["field"] == field, error
    assert CJK.search(error["message"]), error
    assert len(c.pending_events) == before
    return error["message"]


def test_one_custody_record_per_demand():
    demand_id = uuid4()
    expected = uuid5(NAMESPACE_URL, f"qi-onestop:custody:{demand_id}")
    assert SampleCustody.create_id(demand_id) == expected
    assert SampleCustody.create_id(str(demand_id).upper()) == expected
    assert SampleCustody(str(demand_id)).id == expected
    with pytest.raises(ValidationFailed) as caught:
        SampleCustody.create_id("not-a-demand")
    assert caught.value.errors[0]["field"] == "demand_id"


# -- door-to-door visits -----------------------------------------------------


def test_door_to_door_acceptance_and_pickup_are_requested():
    c = custody()
    visit = c.request_visit(
        "pickup", "泰州市海陵区", date(2025, 3, 5), "王工", "13800001111"
    )
    assert visit["kind"] == "pickup" and visit["preferred_date"] == date(2025, 3, 5)
    c.request_visit(
        "acceptance", "泰州市高港区", date(2025, 3, 6), "李工", "0523-86660000"
    )
    names = [type(e).__name__ for e in c.pending_events]
    assert names[-2:] == ["PickupRequested", "AcceptanceVisitRequested"]


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("kind", {"kind": "delivery"}),
        ("kind", {"kind": ["pickup"]}),  # JSON's list: refused, not a TypeError
        ("address", {"address": "  "}),
        ("preferred_date", {"preferred_date": "2025-02-30"}),
        ("preferred_date", {"preferred_date": at(9)}),
        ("contact", {"contact": ""}),
        ("phone", {"phone": "12345"}),
    ],
)
def test_a_visit_request_needs_address_date_and_contact(field, change):
    c = custody()
    visit = {
        "kind": "pickup",
        "address": "泰州市海陵区",
        "preferred_date": date(2025, 3, 5),
        "contact": "王工",
        "phone": "13800001111",
    }
    refused(c, field, c.request_visit, **{**visit, **change})


# -- samples -----------------------------------------------------------------


def test_a_sample_is_first_held_by_the_customer():
    c = custody("S1")
    assert c.samples["S1"]["holder"] == CUSTOMER
    assert c.samples["S1"]["condition"] == "完好"
    assert c.custody_chain("S1") == []


def test_a_picked_up_sample_is_first_held_by_the_courier_of_a_pickup():
    c = custody()
    message = refused(
        c, "courier", c.register_sample, "S1", "样品", 1, "完好", courier="courier-1"
    )
    assert "上门取样" in message
    c.request_visit("pickup", "泰州市海陵区", date(2025, 3, 5), "王工", "13800001111")
    c.register_sample("S1", "样品", 1, "完好", courier="courier-1")
    assert c.samples["S1"]["holder"] == "courier-1"


@pytest.mark.parametrize(
    ("field", "args"),
    [
        ("sample_id", ("S1", "重复登记", 1, "完好")),
        ("sample_id", (" ", "样品", 1, "完好")),
        ("description", ("S2", "", 1, "完好")),
        ("quantity", ("S2", "样品", 0, "完好")),
        ("quantity", ("S2", "样品", "3", "完好")),
        ("quantity", ("S2", "样品", True, "完好")),
        ("condition", ("S2", "样品", 1, "good")),
        ("note", ("S2", "样品", 1, "破损")),
        ("note", ("S2", "样品", 1, "受潮", "  ")),
    ],
)
def test_sample_registration_rules(field, args):
    c = custody("S1")
    refused(c, field, c.register_sample, *args)


def test_a_damaged_sample_is_registered_with_a_note():
    c = custody()
    c.register_sample("S1", "样品", 2, "破损", "外包装一角压损")
    assert c.samples["S1"]["note"] == "外包装一角压损"


# -- chain of custody ----------------------------------------------------------


def test_the_chain_records_who_handed_what_to_whom_when_where_and_in_what_state():
    c = custody("S1", "S2")
    c.hand_over(["S1", "S2"], CUSTOMER, "staff-a", at(9), "受理大厅", "完好")
    c.hand_over(["S1"], "staff-a", "tech-1", at(10), "样品间", "破损", "运输中磕碰")

    chain = c.custody_chain("S1")
    assert [(e["from_party"], e["to_party"]) for e in chain] == [
        (CUSTOMER, "staff-a"),
        ("staff-a", "tech-1"),
    ]
    assert chain[0]["samples"] == ["S1", "S2"] and chain[0]["place"] == "受理大厅"
    assert chain[1]["at"] == at(10) and chain[1]["condition"] == "破损"
    assert chain[1]["note"] == "运输中磕碰"
    assert c.samples["S1"]["holder"] == "tech-1"
    assert c.samples["S1"]["condition"] == "破损"
    assert [e["to_party"] for e in c.custody_chain("S2")] == ["staff-a"]


def test_only_the_current_holder_hands_a_sample_over():
    c = custody("S1")
    c.hand_over(["S1"], CUSTOMER, "staff-a", at(9), "受理大厅", "完好")
    message = refused(
        c,
        "from_party",
        c.hand_over,
        ["S1"],
        CUSTOMER,
        "staff-b",
        at(10),
        "大厅",
        "完好",
    )
    assert "staff-a" in message


@pytest.mark.parametrize(
    ("field", "args"),
    [
        ("sample_ids", ([], CUSTOMER, "staff-a", at(9), "大厅", "完好")),
        ("sample_ids", ("S1", CUSTOMER, "staff-a", at(9), "大厅", "完好")),
        ("sample_ids", (["S1", "S1"], CUSTOMER, "staff-a", at(9), "大厅", "完好")),
        ("sample_ids", (["S9"], CUSTOMER, "staff-a", at(9), "大厅", "完好")),
        ("from_party", (["S1"], "", "staff-a", at(9), "大厅", "完好")),
        ("to_party", (["S1"], CUSTOMER, CUSTOMER, at(9), "大厅", "完好")),
        ("to_party", (["S1"], CUSTOMER, " ", at(9), "大厅", "完好")),
        ("at", (["S1"], CUSTOMER, "staff-a", datetime(2025, 3, 3, 9), "大厅", "完好")),
        ("at", (["S1"], CUSTOMER, "staff-a", "2025-03-03T09:00", "大厅", "完好")),
        ("place", (["S1"], CUSTOMER, "staff-a", at(9), "", "完好")),
        ("condition", (["S1"], CUSTOMER, "staff-a", at(9), "大厅", "")),
        ("note", (["S1"], CUSTOMER, "staff-a", at(9), "大厅", "封签破损")),
    ],
)
def test_hand_over_rules(field, args):
    c = custody("S1")
    refused(c, field, c.hand_over, *args)


def test_a_hand_over_cannot_precede_the_previous_one():
    c = custody("S1")
    c.hand_over(["S1"], CUSTOMER, "staff-a", at(9), "受理大厅", "完好")
    refused(c, "at", c.hand_over, ["S1"], "staff-a", "tech-1", at(8), "样品间", "完好")


def test_a_returned_sample_cannot_move_and_goes_back_to_the_customer():
    c = custody("S1")
    c.hand_over(["S1"], CUSTOMER, "staff-a", at(9), "受理大厅", "完好")
    entry = c.return_samples(["S1"], "staff-a", at(30), "受理大厅", "完好")
    assert entry["action"] == "returned" and entry["to_party"] == CUSTOMER
    assert c.samples["S1"]["state"] == "returned"
    message = refused(
        c,
        "sample_ids",
        c.hand_over,
        ["S1"],
        CUSTOMER,
        "staff-b",
        at(31),
        "大厅",
        "完好",
    )
    assert "已退还" in message
    assert type(c.pending_events[-1]).__name__ == "SampleReturned"


def test_a_disposed_sample_cannot_move():
    c = custody("S1")
    c.hand_over(["S1"], CUSTOMER, "tech-1", at(9), "样品间", "完好")
    refused(c, "method", c.dispose_samples, ["S1"], "tech-1", at(40), "样品间", " ")
    c.dispose_samples(["S1"], "tech-1", at(40), "样品间", "按危废委托处置")
    assert c.custody_chain("S1")[-1]["note"] == "按危废委托处置"
    assert c.samples["S1"]["holder"] is None
    message = refused(
        c, "sample_ids", c.return_samples, ["S1"], "tech-1", at(41), "大厅", "完好"
    )
    assert "已处置" in message


def test_the_chain_of_an_unknown_sample_is_refused():
    c = custody("S1")
    with pytest.raises(ValidationFailed) as caught:
        c.custody_chain("S9")
    assert caught.value.errors[0]["field"] == "sample_id"


def test_the_chain_returned_is_a_copy():
    c = custody("S1")
    c.hand_over(["S1"], CUSTOMER, "staff-a", at(9), "受理大厅", "完好")
    c.custody_chain("S1")[0]["samples"].append("S9")
    assert c.custody_chain("S1")[0]["samples"] == ["S1"]


# -- report delivery -------------------------------------------------------------


def test_a_free_e_report_is_recorded_with_no_fee():
    c = custody()
    sent = c.deliver_report("R-001", "email", "staff-a", at(50), email="qa@example.cn")
    assert sent["fee"] == 0 and sent["email"] == "qa@example.cn"
    downloaded = c.deliver_report("R-002", "download", "staff-a", at(50))
    assert downloaded["fee"] == 0
    assert type(c.pending_events[-1]).__name__ == "ReportDelivered"


def test_a_posted_report_needs_an_address_and_may_have_a_tracking_number():
    c = custody()
    refused(c, "address", c.deliver_report, "R-001", "post", "staff-a", at(50))
    posted = c.deliver_report(
        "R-001", "post", "staff-a", at(50), address="泰州市海陵区", tracking_no="SF1"
    )
    assert posted["address"] == "泰州市海陵区" and posted["tracking_no"] == "SF1"
    plain = c.deliver_report("R-002", "post", "staff-a", at(50), address="泰州市")
    assert "tracking_no" not in plain


def test_a_report_is_delivered_once_unless_a_reason_is_given():
    c = custody()
    c.deliver_report("R-001", "download", "staff-a", at(50))
    message = refused(
        c, "reason", c.deliver_report, "R-001", "download", "staff-a", at(51)
    )
    assert "R-001" in message
    again = c.deliver_report(
        "R-001", "email", "staff-a", at(52), email="a@b.cn", reason="客户邮箱变更"
    )
    assert again["reason"] == "客户邮箱变更"
    assert [d["method"] for d in c.deliveries["R-001"]] == ["download", "email"]
    assert type(c.pending_events[-1]).__name__ == "ReportRedelivered"


@pytest.mark.parametrize(
    ("field", "args", "kwargs"),
    [
        ("report_no", ("", "download", "staff-a", at(50)), {}),
        ("method", ("R-1", "fax", "staff-a", at(50)), {}),
        ("method", ("R-1", ["post"], "staff-a", at(50)), {}),
        ("by", ("R-1", "download", "", at(50)), {}),
        ("at", ("R-1", "download", "staff-a", date(2025, 3, 5)), {}),
        ("email", ("R-1", "email", "staff-a", at(50)), {}),
        ("email", ("R-1", "email", "staff-a", at(50)), {"email": "not-an-email"}),
    ],
)
def test_report_delivery_rules(field, args, kwargs):
    c = custody()
    refused(c, field, c.deliver_report, *args, **kwargs)
