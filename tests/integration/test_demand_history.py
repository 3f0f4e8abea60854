"""A demand's history as intake answers it (audit contract), on SQLite and on
PostgreSQL: its events oldest first with who did them, from one read of the
stream; an id that names no demand is not found."""

import uuid

import pytest

from services.intake.application import IntakeApplication
from services.intake.visits import draft_plan
from shared.audit import Actor, AuditContext, audit_scope
from shared.errors import NotFound

STAFF = AuditContext(actor=Actor("staff-a", "staff", "jsqi"), channel="window")
FORM = {
    "applicant": "南京某电子有限公司",
    "contact_phone": "13800138000",
    "service_item_code": "6.3",
    "description": "电子产品电磁兼容检测",
    "channel": "window",
}


@pytest.fixture
def app(databases):
    app = IntakeApplication()
    yield app
    app.close()


def test_the_history_lists_the_demands_events_oldest_first_with_who(app):
    with audit_scope(STAFF):
        demand_id = app.register_demand(FORM)["id"]
        app.take(demand_id, "staff-a")
        app.follow_up(demand_id, "staff-a", "已电话确认样品数量")

    history = app.history(demand_id)

    assert [e["version"] for e in history] == [1, 2, 3]
    assert [e["event"] for e in history][0] == "Registered"
    assert {e["actor"]["id"] for e in history} == {"staff-a"}
    assert {e["correlation_id"] for e in history} == {demand_id}
    assert [e["at"] for e in history] == sorted(e["at"] for e in history)


def test_an_unknown_malformed_or_other_kind_of_id_is_not_found(app):
    with audit_scope(STAFF):
        plan_id = draft_plan(app, "jsqi", "2026-Q1")["id"]
    stored = app.recorder.max_notification_id()

    for missing in (str(uuid.uuid4()), "not-a-uuid", plan_id):
        with pytest.raises(NotFound):
            app.history(missing)

    assert app.recorder.max_notification_id() == stored
