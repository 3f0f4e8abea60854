"""Personal data at rest: with QI_CIPHER_KEY set, stored events are encrypted."""

from uuid import UUID

from services.intake.application import IntakeApplication
from shared.audit import Actor, AuditContext, audit_scope

STAFF = AuditContext(actor=Actor("staff-7", "staff", "jsqi"), channel="window")
FORM = {
    "applicant": "盐城某汽车零部件有限公司",
    "contact_phone": "13605151234",
    "service_item_code": "6.3.1",
    "description": "制动软管耐压检测",
    "channel": "window",
}
KEY = "UcbUvF0iijMsU2ypj83+OLdHx2diTqcdiEJEQuWMWM0="


def raw_states(app, originator_id) -> list[bytes]:
    return [bytes(s.state) for s in app.recorder.select_events(UUID(originator_id))]


def test_with_a_key_no_personal_data_is_readable_in_the_database(
    databases, monkeypatch
):
    monkeypatch.setenv("QI_CIPHER_KEY", KEY)
    app = IntakeApplication()
    try:
        with audit_scope(STAFF):
            demand = app.register_demand(FORM)
            app.take(demand["id"], "staff-7")
        for state in raw_states(app, demand["id"]):
            assert "盐城".encode() not in state and b"13605151234" not in state
            assert b"staff-7" not in state  # the audit stamp is inside, too
        assert app.registration(demand["id"])["applicant"] == FORM["applicant"]
        assert app.verify_all() == (1, [])  # the hash chain holds over plaintext
    finally:
        app.close()

    monkeypatch.delenv("QI_CIPHER_KEY")
    unkeyed = IntakeApplication()
    try:
        # what cannot be read without the key is said as such, not as altered
        (_, found) = unkeyed.verify_all()
        assert [type(f).__name__ for f in found] == ["Unreadable"]
        assert found[0].why == "not plain JSON: encrypted, but no key is set"
    finally:
        unkeyed.close()


def test_without_a_key_events_are_plain_json(databases):
    app = IntakeApplication()
    try:
        with audit_scope(STAFF):
            demand = app.register_demand(FORM)
        (state,) = raw_states(app, demand["id"])
        assert "盐城".encode() in state or b"\\u76d0" in state
    finally:
        app.close()
