"""Complaints on SQLite and PostgreSQL: a lifecycle persisted, audited and
escalated once, whichever instance looks first."""

import os
from datetime import datetime, timedelta
from uuid import UUID

import pytest

from services.complaints.application import ComplaintsApplication
from services.complaints.schemas import to_envelope
from shared import audit
from shared.audit import Actor, AuditContext
from shared.calendar import SHANGHAI
from shared.errors import NotFound, ValidationFailed
from tests import support

RECEIVED = datetime(2026, 5, 6, 9, 0, tzinfo=SHANGHAI)
DEMAND = "0f8e2a4c-2c1b-4a51-9d1e-6a3b5c7d9e01"


@pytest.fixture
def complaints(databases):
    app = ComplaintsApplication()
    yield app
    app.close()


def receive(app, **changes):
    form = {
        "channel": "website",
        "complainant_name": "李四",
        "complainant_phone": "13900001111",
        "description": "检测费用与报价不符",
        "remedy_requested": "退还差价",
        "received_at": RECEIVED.isoformat(),
        "demand_id": DEMAND,
        "staff_id": "staff-3",
        "institution_id": "inst-1",
        **changes,
    }
    return app.receive(form)


def stored(app):
    notes = app.recorder.select_notifications(start=1, limit=1000)
    return [(n, app.mapper.to_domain_event(n)) for n in notes]


def run_lifecycle(app, cid):
    app.change("acknowledge", cid, "handler-1")
    app.change("assess", cid, "medium", "low", "单个客户", immediate_action=False)
    app.change("assign_investigator", cid, "inv-5")
    app.change("decide", cid, "upheld", "收费有误，致歉", "退还差价")
    app.change("agree_corrective_action", cid, "报价与收费自动核对", "财务部")
    app.change("communicate", cid, "电话", "已告知")
    return app.change("accept", cid)


def test_a_full_lifecycle_is_persisted_reloaded_and_verifies(complaints):
    got = receive(complaints)
    assert run_lifecycle(complaints, got["id"])["status"] == "closed"
    other = ComplaintsApplication()
    try:
        seen = other.complaint(got["id"], "complaint_handler")
        assert seen["status"] == "closed" and seen["number"] == got["number"]
        assert seen["decision"]["outcome"] == "upheld"
        assert seen["complainant_phone"] == "13900001111"
        checked, breaks = other.verify_all()
        assert checked == 1 and breaks == []
    finally:
        other.close()


def test_an_invalid_step_stores_nothing(complaints):
    cid = receive(complaints)["id"]
    with pytest.raises(ValidationFailed) as caught:
        complaints.change("decide", cid, "upheld", "r", "m")
    assert caught.value.errors[0]["field"] == "status"
    assert len(stored(complaints)) == 1


def test_events_of_a_demand_linked_complaint_carry_the_demand_as_correlation(
    complaints,
):
    staff = AuditContext(actor=Actor("handler-1", "complaint_handler"), channel="web")
    with audit.audit_scope(staff):
        cid = receive(complaints)["id"]
        run_lifecycle(complaints, cid)
    events = stored(complaints)
    assert len(events) == 8
    for _, event in events:
        assert event.__dict__["audit"]["correlation_id"] == DEMAND
        assert event.__dict__["audit"]["actor"]["id"] == "handler-1"
    envelopes = [to_envelope(e, n) for n, e in events]
    published = [e for e in envelopes if e is not None]
    assert [e.type for e in published] == [
        "ComplaintReceived",
        "ComplaintAcknowledged",
        "ComplaintDecided",
        "CorrectiveActionAgreed",
    ]
    assert all(e.correlation_id == DEMAND for e in published)
    for envelope in published:  # the complainant's identity stays here
        assert "13900001111" not in str(envelope.to_dict())
    assert published[2].data["outcome"] == "upheld"
    improvement = published[3]
    assert improvement.data["institution_id"] == "inst-1"
    # v2: the action's words stay here, v3 its owner too; evaluation reads
    # them by RPC (issue 18)
    assert improvement.schema_version == 3 and "action" not in improvement.data
    assert "owner" not in improvement.data
    assert "报价与收费自动核对" not in str(improvement.to_dict())
    assert "财务部" not in str(improvement.to_dict())
    agreed = complaints.corrective_action(cid, improvement.aggregate_version)
    assert agreed["action"] == "报价与收费自动核对" and agreed["owner"] == "财务部"
    with pytest.raises(NotFound):  # the version of another event
        complaints.corrective_action(cid, improvement.aggregate_version - 1)


def test_an_unlinked_complaint_is_its_own_case(complaints):
    cid = receive(complaints, demand_id="")["id"]
    (_, event) = stored(complaints)[0]
    assert event.__dict__["audit"]["correlation_id"] == cid


def test_an_overdue_acknowledgement_escalates_once_across_instances(complaints):
    cid = receive(complaints)["id"]
    late = RECEIVED + timedelta(days=3)
    assert complaints.overdue(cid, late) == ["acknowledge"]
    second = ComplaintsApplication()
    try:
        assert complaints.escalate_overdue(cid, late) == ["acknowledge"]
        assert second.escalate_overdue(cid, late) == []
        assert second.escalate_all_overdue(late) == {}
    finally:
        second.close()
    kinds = [type(e).__name__ for _, e in stored(complaints)]
    assert kinds == ["Received", "Escalated"]


def test_identity_is_seen_only_by_handlers_and_regulators(complaints):
    cid = receive(complaints)["id"]
    for role in ("staff", "manager", "customer"):
        assert complaints.complaint(cid, role)["complainant_phone"] == "139****1111"
    assert complaints.complaint(cid, "regulator")["complainant_name"] == "李四"


def test_the_complainant_checks_status_by_code_only(complaints):
    got = receive(complaints)
    complaints.change("acknowledge", got["id"], "handler-1")
    shown = complaints.status_by_code(got["code"])
    assert shown["stages"] == ["已收到投诉", "已确认受理"]
    with pytest.raises(NotFound):
        complaints.status_by_code("NOSUCHCODE")


def test_a_complaint_card_opens_a_linked_complaint(complaints):
    card = complaints.record_card(
        {"source": "suggestion_box", "text": "窗口排队太久", "received_at": RECEIVED}
    )
    result = complaints.classify_card(card["id"], "complaint")
    assert result["kind"] == "complaint"
    opened = complaints.complaint(result["complaint_id"], "complaint_handler")
    assert opened["channel"] == "suggestion_box" and opened["anonymous"]
    with pytest.raises(ValidationFailed):
        complaints.classify_card(card["id"], "praise")


def test_a_taken_code_is_never_reused(databases):
    codes = iter(["SAMECODE01", "SAMECODE01", "OTHERCODE2"])
    app = ComplaintsApplication(new_code=lambda: next(codes))
    try:
        first, second = receive(app), receive(app)
        assert first["code"] == "SAMECODE01" and second["code"] == "OTHERCODE2"
    finally:
        app.close()


def test_over_rpc_identity_is_shown_to_handlers_only(databases, runner_factory):
    from nameko.standalone.rpc import ClusterRpcProxy

    from services.complaints.service import ComplaintsService
    from shared import rpc  # noqa: F401 - registers our errors

    runner_factory(ComplaintsService)
    uri = os.environ["QI_AMQP_URI"]
    with ClusterRpcProxy({"AMQP_URI": uri}, timeout=20) as cluster:
        received = cluster.complaints.receive(
            {
                "channel": "website",
                "complainant_name": "李四",
                "complainant_phone": "13900001111",
                "description": "检测费用与报价不符",
                "remedy_requested": "退还差价",
                "received_at": RECEIVED.isoformat(),
            }
        )

        def as_role(role):
            audit = {"actor": {"id": f"{role}-1", "role": role}, "channel": "internal"}
            return cluster.complaints.complaint(received["id"], audit_data=audit)

        assert "李四" in repr(as_role("complaint_handler"))
        assert "李四" in repr(as_role("regulator"))
        staff_view = repr(as_role("staff"))
        assert "李四" not in staff_view and "13900001111" not in staff_view
        status = cluster.complaints.status_by_code(received["code"])
        assert status["number"] == received["number"]


def test_a_stage_is_reminded_before_its_deadline_then_escalated_once(complaints):
    received = receive(complaints)
    complaint = complaints.repository.get(UUID(received["id"]))
    due = complaint.deadlines(complaints.calendar)["acknowledge"]
    complaints.escalate_overdue(received["id"], due - timedelta(hours=1))
    complaints.escalate_overdue(received["id"], due - timedelta(minutes=30))
    complaints.escalate_overdue(received["id"], due + timedelta(minutes=1))
    complaints.escalate_overdue(received["id"], due + timedelta(hours=2))
    names = [type(e).__name__ for _, e in stored(complaints)]
    assert names.count("Reminded") == 1 and names.count("Escalated") == 1
    assert names.index("Reminded") < names.index("Escalated")


def test_figures_count_channels_times_and_rates_from_the_events(complaints):
    accepted = receive(complaints)
    run_lifecycle(complaints, accepted["id"])  # upheld, accepted
    rejected = receive(complaints, channel="phone")
    cid = rejected["id"]
    complaints.change("acknowledge", cid, "handler-1")
    complaints.change("assess", cid, "high", "high", "多家企业", immediate_action=True)
    complaints.change("assign_investigator", cid, "inv-5")
    complaints.change("decide", cid, "not_upheld", "收费符合公示标准", "")
    complaints.change("communicate", cid, "电话", "已告知")
    complaints.change("reject", cid, "不认可")
    receive(complaints, channel="phone")  # only received

    got = complaints.figures(RECEIVED - timedelta(days=1), RECEIVED + timedelta(days=1))
    assert got["received"] == 3
    assert got["by_channel"] == {"website": 1, "phone": 2}
    assert got["by_severity"] == {"medium": 1, "high": 1}
    assert got["upheld_rate"] == 0.5
    assert got["reopened_rate"] == 0.5 and got["accepted_rate"] == 0.5
    assert got["working_hours_to_acknowledge"] is not None
    assert got["working_hours_to_close"] is not None
    empty = complaints.figures(
        RECEIVED + timedelta(days=2), RECEIVED + timedelta(days=3)
    )
    assert empty["received"] == 0 and empty["upheld_rate"] is None


def test_the_list_pages_an_institutions_complaints_newest_first_masked(complaints):
    older = receive(complaints)
    newer = receive(complaints, received_at=(RECEIVED + timedelta(hours=1)).isoformat())
    elsewhere = receive(complaints, institution_id="inst-2")
    unlinked = receive(complaints, institution_id="", demand_id="")
    complaints.change("acknowledge", older["id"], "handler-1")

    page = complaints.complaints("inst-1", limit=1)
    assert page["total"] == 2 and [r["id"] for r in page["items"]] == [newer["id"]]
    second = complaints.complaints("inst-1", offset=1, limit=1)["items"]
    assert [r["id"] for r in second] == [older["id"]]
    assert second[0]["status"] == "acknowledged" and second[0]["handler"] == "handler-1"
    assert "13900001111" not in repr(page) and "李四" not in repr(page)
    assert page["items"][0]["complainant_phone"] == "139****1111"

    acknowledged = complaints.complaints("inst-1", status="acknowledged")["items"]
    assert [r["id"] for r in acknowledged] == [older["id"]]
    front_door = complaints.complaints(complaints.front_door)["items"]
    assert [r["id"] for r in front_door] == [unlinked["id"]]
    everyone = {r["id"] for r in complaints.complaints(None)["items"]}
    assert everyone == {older["id"], newer["id"], elsewhere["id"], unlinked["id"]}
    with pytest.raises(ValidationFailed) as caught:
        complaints.complaints(None, status="lost")
    assert caught.value.errors[0]["field"] == "status"


def test_the_list_is_rebuilt_from_the_events_as_it_was(complaints):
    cid = receive(complaints)["id"]
    run_lifecycle(complaints, cid)
    before = complaints.complaints(None)
    assert before["items"][0]["status"] == "closed"
    assert before["items"][0]["severity"] == "medium"
    assert complaints.rebuild_view() == len(stored(complaints))
    assert complaints.complaints(None) == before


def test_a_card_belongs_to_its_institution_and_so_does_its_complaint(complaints):
    card = complaints.record_card(
        {
            "source": "hotline",
            "text": "检测报告迟迟未出",
            "contact_name": "王五",
            "contact_phone": "13600002222",
            "received_at": RECEIVED,
            "institution_id": "inst-2",
        }
    )
    assert card["institution_id"] == "inst-2" and card["kind"] == ""
    shown = complaints.card(card["id"], "complaint_handler")
    assert (
        shown["text"] == "检测报告迟迟未出" and shown["contact_phone"] == "13600002222"
    )
    masked = complaints.card(card["id"], "manager")
    assert masked["contact_phone"] == "136****2222" and masked["contact_name"] == "王*"
    opened = complaints.classify_card(card["id"], "complaint")
    listed = complaints.complaints("inst-2")["items"]
    assert [r["id"] for r in listed] == [opened["complaint_id"]]
    assert listed[0]["channel"] == "hotline" and not listed[0]["anonymous"]
    with pytest.raises(NotFound):
        complaints.card(opened["complaint_id"], "complaint_handler")
    assert complaints.verify_all() == (2, [])  # the card's chain and the complaint's


def test_figures_of_one_institution_leave_the_others_out(complaints):
    receive(complaints)
    receive(complaints, channel="phone", institution_id="inst-2")
    window = (RECEIVED - timedelta(days=1), RECEIVED + timedelta(days=1))
    mine = complaints.figures(*window, institution="inst-1")
    assert mine["received"] == 1 and mine["by_channel"] == {"website": 1}
    assert mine["institution_id"] == "inst-1"
    assert complaints.figures(*window)["received"] == 2


def test_a_card_stored_before_cards_named_their_institution_is_the_front_doors(
    complaints,
):
    card = complaints.record_card(
        {"source": "suggestion_box", "text": "希望增设停车位", "institution_id": "x"}
    )

    def as_recorded_by_v1(state: dict) -> None:
        state.pop("institution_id")
        state.pop("class_version", None)

    support.tamper(complaints, UUID(card["id"]), 1, as_recorded_by_v1)
    shown = complaints.card(card["id"], "complaint_handler")
    assert shown["institution_id"] == complaints.front_door
    opened = complaints.classify_card(card["id"], "complaint")
    front_door = complaints.complaints(complaints.front_door)["items"]
    assert [c["id"] for c in front_door] == [opened["complaint_id"]]
