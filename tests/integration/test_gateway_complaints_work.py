"""Complaint handlers' work over HTTP (9.1.1, 9.4): their institution's list,
the comment cards of its box and hotline, and the period's figures; a survey
and its call-back for the institution's staff (9.2.1); a partner's standing
for its own managers, the admin and the regulator (4.1). Everyone else gets
401/403/404, bad input a 400 naming the field, and neither stores anything.

Services run in this process on the real RabbitMQ, stores on PostgreSQL.
"""

from datetime import datetime, timedelta

from services.evaluation.rules import DIMENSIONS
from shared.calendar import SHANGHAI
from tests import support
from tests.integration import test_gateway_access as access_tests
from tests.integration.test_gateway_efficiency import settled_events, stored_events

ONLINE_FORM = access_tests.ONLINE_FORM
COMPLAINT = access_tests.COMPLAINT
PASSWORD = access_tests.PASSWORD
# the fixtures of the access tests: the same services, accounts and client
backend = access_tests.backend
gateway = access_tests.gateway

CARD = {
    "source": "hotline",
    "text": "报告出具比承诺晚了一周",
    "contact_name": "周先生",
    "contact_phone": "13955556666",
}
TODAY = datetime.now(SHANGHAI).date()  # the services count days in China
AROUND_TODAY = {
    "since": (TODAY - timedelta(days=1)).isoformat(),
    "until": (TODAY + timedelta(days=1)).isoformat(),
}
# no role of these may see or touch jsqi's complaint work
OTHERS = ("otherhandler", "othermgr")
NOT_FOR_COMPLAINTS = ("wang", "ops", "chen", "admin", None)


def refused(answer, *codes: int) -> None:
    assert answer.status_code in codes, (answer.status_code, answer.text)


def fields(answer) -> list[str]:
    assert answer.status_code == 400, answer.text
    return [e["field"] for e in answer.json()["errors"]]


def case_code(gateway, who: str) -> str:
    """The progress code of a demand registered at ``who``'s window."""
    form = {**ONLINE_FORM, "channel": "window"}
    filed = gateway.post("/api/v1/demands", form, who)
    assert filed.status_code == 201, filed.text
    return filed.json()["progress_code"]


def file_complaint(gateway, **changes) -> dict:
    filed = gateway.post("/api/v1/public/complaints", {**COMPLAINT, **changes})
    assert filed.status_code == 201, filed.text
    return filed.json()


def test_handlers_and_managers_follow_their_institutions_complaints(gateway):
    """The list, masked, and the figures: their own; the regulator's: all."""
    ours = file_complaint(gateway)  # about nobody: the front door's (jsqi)
    # about a case of nj-lab's window: nj-lab's, derived from the case
    theirs = file_complaint(gateway, progress_code=case_code(gateway, "other"))
    path = f"/api/v1/complaints/{ours['id']}"
    assert gateway.post(f"{path}/acknowledge", {}, "cheng").status_code == 200

    for who in ("cheng", "zhao"):
        page = gateway.get("/api/v1/complaints", who)
        assert page.status_code == 200, page.text
        assert [c["id"] for c in page.json()["items"]] == [ours["id"]], who
        (row,) = page.json()["items"]
        assert row["complainant_phone"] == "137****1234" and row["handler"] == "cheng"
        assert "13770001234" not in page.text and "刘女士" not in page.text
    listed = gateway.get("/api/v1/complaints", "otherhandler").json()["items"]
    assert [c["id"] for c in listed] == [theirs["id"]]
    everyone = gateway.get("/api/v1/complaints", "sun").json()
    assert {c["id"] for c in everyone["items"]} == {ours["id"], theirs["id"]}
    paged = gateway.get("/api/v1/complaints", "sun", params={"limit": 1}).json()
    assert paged["total"] == 2 and len(paged["items"]) == 1
    received = gateway.get("/api/v1/complaints", "sun", params={"status": "received"})
    assert [c["id"] for c in received.json()["items"]] == [theirs["id"]]

    for who in NOT_FOR_COMPLAINTS:
        refused(gateway.get("/api/v1/complaints", who), 401, 403)
    assert fields(
        gateway.get("/api/v1/complaints", "cheng", params={"status": "lost"})
    ) == ["status"]
    assert fields(gateway.get("/api/v1/complaints", "zhao", params={"limit": 0})) == [
        "limit"
    ]
    figures_of(gateway)


def figures_of(gateway) -> None:
    """Figures of the two complaints the list test filed, jsqi's acknowledged."""
    url = "/api/v1/complaint-figures"
    ours = gateway.get(url, "cheng", params=AROUND_TODAY)
    assert ours.status_code == 200, ours.text
    assert ours.json()["received"] == 1 and ours.json()["institution_id"] == "jsqi"
    assert ours.json()["working_hours_to_acknowledge"] is not None
    assert gateway.get(url, "zhao", params=AROUND_TODAY).json() == ours.json()
    theirs = gateway.get(url, "othermgr", params=AROUND_TODAY).json()
    assert theirs["received"] == 1 and theirs["working_hours_to_acknowledge"] is None
    assert gateway.get(url, "sun", params=AROUND_TODAY).json()["received"] == 2
    one = gateway.get(url, "sun", params={**AROUND_TODAY, "institution": "nj-lab"})
    assert one.json() == theirs
    # a handler asking for another institution's figures is answered their own
    asked = gateway.get(url, "cheng", params={**AROUND_TODAY, "institution": "nj-lab"})
    assert asked.json() == ours.json()
    earlier = {"since": "2020-01-01", "until": "2020-12-31"}
    assert gateway.get(url, "sun", params=earlier).json()["received"] == 0

    for who in NOT_FOR_COMPLAINTS:
        refused(gateway.get(url, who, params=AROUND_TODAY), 401, 403)
    assert fields(gateway.get(url, "cheng", params={"until": "2026-05-01"})) == [
        "since"
    ]
    backwards = {"since": "2026-05-02", "until": "2026-05-01"}
    assert fields(gateway.get(url, "cheng", params=backwards)) == ["until"]
    assert fields(gateway.get(url, "zhao", params={"since": "5/1"})) == [
        "since",
        "until",
    ]


def test_a_handler_records_a_card_and_classifies_it_into_a_complaint(gateway):
    before = stored_events(gateway, "complaints")
    for body, field in (
        ({}, "source"),
        ({"source": ["hotline"]}, "source"),
        ({"source": "hotline"}, "text"),
        ({**CARD, "contact_phone": 13955556666}, "contact_phone"),
    ):
        assert fields(gateway.post("/api/v1/comment-cards", body, "cheng")) == [field]
    for who in ("zhao", "sun", *NOT_FOR_COMPLAINTS):
        refused(gateway.post("/api/v1/comment-cards", CARD, who), 401, 403)
    assert stored_events(gateway, "complaints") == before

    recorded = gateway.post(
        "/api/v1/comment-cards", {**CARD, "institution_id": "nj-lab"}, "cheng"
    )
    assert recorded.status_code == 201, recorded.text
    card = recorded.json()
    assert card["institution_id"] == "jsqi" and card["kind"] == ""  # the caller's
    path = f"/api/v1/comment-cards/{card['id']}"
    assert recorded.headers["Location"] == path
    shown = gateway.get(path, "cheng").json()
    assert shown["text"] == CARD["text"] and shown["contact_phone"] == "13955556666"
    masked = gateway.get(path, "zhao").json()
    assert masked["contact_phone"] == "139****6666" and "周先生" not in str(masked)
    assert gateway.get(path, "sun").status_code == 200
    for who in OTHERS:
        refused(gateway.get(path, who), 404)
    for who in NOT_FOR_COMPLAINTS:
        refused(gateway.get(path, who), 401, 403)

    classify = f"{path}/classification"
    recorded_count = stored_events(gateway, "complaints")
    assert fields(gateway.post(classify, {"kind": "rumour"}, "cheng")) == ["kind"]
    assert fields(gateway.post(classify, {"kind": 5}, "cheng")) == ["kind"]
    refused(gateway.post(classify, {"kind": "complaint"}, "otherhandler"), 404)
    for who in ("zhao", "sun", "othermgr", *NOT_FOR_COMPLAINTS):
        refused(gateway.post(classify, {"kind": "complaint"}, who), 401, 403, 404)
    assert stored_events(gateway, "complaints") == recorded_count
    assert gateway.get(path, "cheng").json()["kind"] == ""

    classified = gateway.post(classify, {"kind": "complaint"}, "cheng")
    assert classified.status_code == 200, classified.text
    opened = classified.json()
    assert opened["kind"] == "complaint" and opened["complaint_code"]
    complaint = gateway.get(f"/api/v1/complaints/{opened['complaint_id']}", "cheng")
    assert complaint.json()["complainant_name"] == "周先生"
    assert complaint.json()["links"]["institution_id"] == "jsqi"
    listed = gateway.get("/api/v1/complaints", "cheng").json()["items"]
    assert [c["id"] for c in listed] == [opened["complaint_id"]]
    assert fields(gateway.post(classify, {"kind": "praise"}, "cheng")) == ["status"]
    refused(gateway.get("/api/v1/comment-cards/not-a-card", "cheng"), 404)


def unsatisfied_survey(gateway) -> tuple[dict, str]:
    """A demand filed online and answered at once by wang (jsqi), which ends
    the service (8.3.1), rated unsatisfied by the customer; returns the
    survey and its call-back id."""
    filed = gateway.post("/api/v1/demands", ONLINE_FORM).json()
    path = f"/api/v1/demands/{filed['id']}"
    gateway.post(f"{path}/take", who="wang")
    answer = {"outcome": "answered", "details": {"answer": "可按 GB 6675 检测"}}
    decided = gateway.post(f"{path}/decision", answer, "wang")
    assert decided.json()["status"] == "resolved", decided.text
    code = filed["progress_code"]
    (survey,) = support.wait_for(
        lambda: gateway.get("/api/v1/public/surveys", params={"code": code}).json()[
            "items"
        ],
        timeout=15,
    )
    rated = gateway.post(
        f"/api/v1/public/surveys/{survey['id']}/rating",
        {
            "code": code,
            "overall": "不满意",
            "dimensions": dict.fromkeys(DIMENSIONS, "不满意"),
            "comments": "答复太慢",
        },
    )
    assert rated.status_code == 200, rated.text
    call_back_id = rated.json()["follow_up"][0]
    return rated.json(), call_back_id


def test_staff_read_the_survey_and_record_the_call_back_once(gateway):
    survey, call_back_id = unsatisfied_survey(gateway)
    path = f"/api/v1/evaluation/surveys/{survey['id']}"
    for who in ("wang", "zhao", "sun"):
        shown = gateway.get(path, who)
        assert shown.status_code == 200, (who, shown.text)
        assert shown.json()["rating"]["overall"] == "不满意"
    for who in ("other", "othermgr"):
        refused(gateway.get(path, who), 404)
    for who in ("cheng", "chen", "ops", "admin", None):
        refused(gateway.get(path, who), 401, 403)
    refused(gateway.get("/api/v1/evaluation/surveys/no-such-survey", "wang"), 404)

    result = f"/api/v1/evaluation/call-backs/{call_back_id}/result"
    note = {"note": "已致电客户，说明答复时限并致歉", "caller": "someone-else"}
    before = settled_events(gateway, "evaluation")
    assert fields(gateway.post(result, {}, "wang")) == ["note"]
    assert fields(gateway.post(result, {"note": ["x"]}, "wang")) == ["note"]
    for who in ("other", "othermgr"):
        refused(gateway.post(result, note, who), 404)
    for who in ("sun", "cheng", "chen", "ops", "admin", None):
        refused(gateway.post(result, note, who), 401, 403)
    assert stored_events(gateway, "evaluation") == before
    open_ones = gateway.get("/api/v1/evaluation/call-backs", "zhao").json()["items"]
    assert [c["call_back_id"] for c in open_ones] == [call_back_id]

    done = gateway.post(result, note, "wang")
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "done"
    assert done.json()["result"]["caller"] == "wang"  # not what the body said
    assert fields(gateway.post(result, note, "zhao")) == ["status"]
    assert gateway.get("/api/v1/evaluation/call-backs", "zhao").json()["items"] == []
    refused(gateway.post("/api/v1/evaluation/call-backs/x/result", note, "wang"), 404)


def test_a_partners_standing_is_for_its_managers_the_admin_and_the_regulator(
    gateway,
):
    """And the survey of a service the partner did is read by both its own
    staff and the first responder's institution."""
    lab_id = access_tests.lab_with_partner(gateway, "ps")
    manager = {
        "username": "ps.manager",
        "display_name": "ps服务管理人员",
        "role": "manager",
        "institution": lab_id,
        "password": PASSWORD,
    }
    assert gateway.post("/api/v1/accounts", manager, "admin").status_code == 201
    path = f"/api/v1/partners/{lab_id}/standing"
    on = {"on": "2027-06-30"}
    items = support.wait_for(  # referral hears of the certificate from catalog
        lambda: gateway.get(path, "ps.manager", params=on).json()["items"],
        timeout=15,
    )
    assert [(q["cert_no"], q["status"]) for q in items] == [("CMA-ps", "valid")]
    later = gateway.get(path, "ps.manager", params={"on": "2029-01-01"}).json()
    assert later["on"] == "2029-01-01" and later["items"][0]["status"] == "expired"
    for who in ("admin", "sun"):
        seen = gateway.get(path, who, params=on)
        assert seen.status_code == 200 and seen.json()["items"] == items, who
    assert gateway.get(path, "ps.manager").json()["on"] == TODAY.isoformat()

    for who in ("zhao", "othermgr"):
        refused(gateway.get(path, who, params=on), 404)
    for who in ("ps.clerk", "wang", "cheng", "ops", None):
        refused(gateway.get(path, who, params=on), 401, 403)
    assert fields(gateway.get(path, "ps.manager", params={"on": "next week"})) == ["on"]
    unknown = gateway.get("/api/v1/partners/no-such-lab/standing", "sun").json()
    assert unknown["items"] == [] and unknown["total"] == 0

    survey = referred_and_completed_survey(gateway)
    survey_path = f"/api/v1/evaluation/surveys/{survey['id']}"
    assert survey["institution_id"] == lab_id
    for who in ("ps.manager", "wang", "zhao", "sun"):
        assert gateway.get(survey_path, who).status_code == 200, who
    for who in ("other", "othermgr"):
        refused(gateway.get(survey_path, who), 404)
    refused(gateway.get(survey_path, "ps.clerk"), 403)


def referred_and_completed_survey(gateway) -> dict:
    """A demand jsqi referred to the "ps" lab, which completed it: the
    survey evaluation issued for the lab's service."""
    filed = gateway.post("/api/v1/demands", ONLINE_FORM).json()
    referral = f"/api/v1/referrals/{access_tests.refer_and_send(gateway, filed['id'])}"
    report = {
        "report_no": "PS-2026-0001",
        "issued_on": "2026-11-26",
        "sha256": "cd" * 32,
    }
    for command, body in (("acceptance", {}), ("completion", {"report": report})):
        answer = gateway.post(f"{referral}/{command}", body, "ps.clerk")
        assert answer.status_code == 200, (command, answer.text)
    code = filed["progress_code"]
    (survey,) = support.wait_for(
        lambda: gateway.get("/api/v1/public/surveys", params={"code": code}).json()[
            "items"
        ],
        timeout=15,
    )
    return survey
