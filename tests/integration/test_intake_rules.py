"""Intake's staff rules over RPC, with catalog answering the materials checklist."""

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.catalog.service import CatalogService
from services.intake.service import IntakeService
from shared import rpc  # noqa: F401 - registers our errors for deserialisation
from shared.errors import ConflictError, ValidationFailed

FORM = {
    "applicant": "扬州某玩具有限公司",
    "contact_phone": "0514-87651234",
    "service_item_code": "6.3.1",
    "description": "玩具安全性能检测",
    "channel": "window",
}


def staff(staff_id: str) -> dict:
    return {
        "actor": {"id": staff_id, "role": "staff", "institution": "jsqi"},
        "channel": "window",
    }


@pytest.fixture
def intake(databases, runner_factory, clean_broker):
    runner_factory(IntakeService, CatalogService)
    with ClusterRpcProxy({"AMQP_URI": clean_broker}, timeout=20) as cluster:
        yield cluster.intake, cluster.catalog


def test_first_responder_notice_and_hand_over_leave_a_full_history(intake):
    intake, catalog = intake
    demand = intake.register_demand(FORM, audit_data=staff("staff-a"))
    demand_id = demand["id"]
    assert intake.take(demand_id, "staff-a", audit_data=staff("staff-a"))["owner"] == (
        "staff-a"
    )
    with pytest.raises(ValidationFailed) as caught:
        intake.take(demand_id, "staff-b", audit_data=staff("staff-b"))
    assert "staff-a" in caught.value.errors[0]["message"]

    checklist = catalog.item("6.3.1")["materials"]
    noticed = intake.notify_materials(
        demand_id, "staff-a", checklist[:1], audit_data=staff("staff-a")
    )
    assert noticed["outstanding_materials"] == checklist[1:]
    assert noticed["result"] == []
    # a licence copy that was handed in at the start, flagged only now: the
    # notice is refused (never answered as sent) and counted against staff-a
    with pytest.raises(ConflictError) as refused:
        intake.notify_materials(
            demand_id,
            "staff-a",
            checklist[:1],
            {checklist[0]: "复印件模糊"},
            audit_data=staff("staff-a"),
        )
    assert "7.4.3" in str(refused.value) and checklist[0] in str(refused.value)
    assert intake.get_demand(demand_id)["outstanding_materials"] == checklist[1:]

    intake.offer_handover(
        demand_id, "staff-a", "staff-b", "需要计量窗口处理", audit_data=staff("staff-a")
    )
    intake.answer_handover(
        demand_id, "staff-b", False, "非本岗位", audit_data=staff("staff-b")
    )
    assert intake.get_demand(demand_id)["owner"] == "staff-a"
    intake.supply_materials(demand_id, checklist[1:], audit_data=staff("staff-a"))
    assert intake.get_demand(demand_id)["materials_complete_at"]

    history = intake.history(demand_id)
    assert [h["event"] for h in history] == [
        "Registered",
        "Taken",
        "MaterialsNoticeIssued",
        "NoticeRefused",
        "HandoverOffered",
        "HandoverRefused",
        "MaterialsSupplied",
    ]
    assert history[5]["actor"]["id"] == "staff-b"
    assert all(h["correlation_id"] == demand_id for h in history)
    assert all(h["actor"]["institution"] == "jsqi" for h in history)


def test_progress_codes_cannot_be_guessed_and_show_no_personal_data(databases):
    import random
    from datetime import timedelta

    from services.intake.application import IntakeApplication
    from shared.codes import PROGRESS_ALPHABET
    from shared.errors import NotFound

    app = IntakeApplication()
    try:
        mine = app.register_demand(FORM)
        other = app.register_demand({**FORM, "applicant": "另一家公司"})
        app.take(mine["id"], "staff-a")
        shown = app.progress(mine["progress_code"])
        assert [s["stage"] for s in shown["stages"]] == [
            "需求已登记",
            "已受理（首问负责）",
        ]
        text = repr(shown)
        for personal in (
            FORM["applicant"],
            FORM["contact_phone"],
            "staff-a",
            other["id"],
        ):
            assert personal not in text
        rng = random.Random(20261126)
        codes = {mine["progress_code"], other["progress_code"]}
        found = 0
        for _ in range(10_000):
            guess = "".join(rng.choice(PROGRESS_ALPHABET) for _ in range(10))
            try:
                app.progress(guess)
                found += guess not in codes
            except NotFound:
                pass
        assert found == 0

        registered = datetime_of(mine["registered_at"])
        later = registered + timedelta(days=14)
        stale = app.stale_demands(later, 8)
        assert {s["demand_id"] for s in stale} == {mine["id"], other["id"]}
        app.follow_up(mine["id"], "staff-a", "已联系客户")
        after = {s["demand_id"]: s for s in app.stale_demands(later, 8)}
        # the owner's follow-up restarts the clock; the unowned one has none
        assert after[mine["id"]]["last_owner_action_at"] > mine["registered_at"]
        assert after[other["id"]]["owner"] is None
        assert app.stale_demands(registered, 8) == []
        # a manager sees their institution's stale demands, not others'
        own = {s["institution"] for s in app.stale_demands(later, 8)}
        (institution,) = own
        assert len(app.stale_demands(later, 8, institution)) == 2
        assert app.stale_demands(later, 8, "another-institution") == []
    finally:
        app.close()


def datetime_of(text):
    from datetime import datetime

    return datetime.fromisoformat(text)


def test_the_appendix_b_form_round_trips_exactly_over_rpc(intake):
    from tests.unit.test_registration_form import APPENDIX_B

    intake, _ = intake
    demand = intake.register_demand(APPENDIX_B, audit_data=staff("staff-a"))
    assert intake.registration(demand["id"]) == APPENDIX_B
