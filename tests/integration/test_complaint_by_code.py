"""A complaint about a case, over HTTP (9.4, 9.2.2): filed with the case's
progress code, its institution and staff derived from the case and never from
the body; the complainant accepts or rejects the decision by the complaint's
code; the staff member's integrity figure counts only such complaints.
Complaint ids are random, not derived from the code.

Services run in this process on the real RabbitMQ, stores on PostgreSQL.
"""

from datetime import UTC, datetime, timedelta
from uuid import UUID

import requests

from services.complaints.domain import complaint_id_for
from tests import support
from tests.integration import test_gateway_access as access_tests
from tests.integration.test_gateway_efficiency import settled_events

backend = access_tests.backend
gateway = access_tests.gateway

FILE = "/api/v1/public/complaints"
COMPLAINT = {
    "channel": "website",
    "anonymous": False,
    "complainant_name": "刘女士",
    "complainant_phone": "13770001234",
    "description": "窗口人员未一次性告知所需材料，来回跑了三次",
    "remedy_requested": "说明原因并改进",
}


def owned_case(gateway) -> tuple[str, str]:
    """A demand filed online (jsqi's), taken by wang: its id and code."""
    filed = gateway.post("/api/v1/demands", access_tests.ONLINE_FORM).json()
    taken = gateway.post(f"/api/v1/demands/{filed['id']}/take", who="wang")
    assert taken.status_code == 200, taken.text
    return filed["id"], filed["progress_code"]


def decided(gateway, complaint_id: str) -> None:
    """cheng (jsqi's handler) works it up to a communicated, upheld decision."""
    path = f"/api/v1/complaints/{complaint_id}"
    steps = [
        ("acknowledge", {}),
        ("assess", {"severity": "medium", "complexity": "low", "impact": "一名客户"}),
        ("assign_investigator", {"investigator": "liqiang"}),
        ("decide", {"outcome": "upheld", "response": "情况属实", "remedy": "致歉"}),
        ("communicate", {"method": "电话"}),
    ]
    for step, body in steps:
        answer = gateway.post(f"{path}/{step}", body, "cheng")
        assert answer.status_code == 200, (step, answer.text)


def test_links_come_only_from_the_case_whose_progress_code_is_given(gateway):
    demand_id, progress_code = owned_case(gateway)
    before = settled_events(gateway, "complaints")
    for field, value in [
        ("demand_id", demand_id),
        ("institution_id", "nj-lab"),
        ("staff_id", "liqiang"),
        ("referral_id", "r-1"),
    ]:
        refused = gateway.post(FILE, {**COMPLAINT, field: value})
        assert refused.status_code == 400, refused.text
        assert [e["field"] for e in refused.json()["errors"]] == [field]
    wrong = gateway.post(FILE, {**COMPLAINT, "progress_code": "ABCDEFGHJK"})
    assert wrong.status_code == 400, wrong.text
    assert wrong.json()["errors"][0]["field"] == "progress_code"
    assert settled_events(gateway, "complaints") == before

    filed = gateway.post(FILE, {**COMPLAINT, "progress_code": progress_code})
    assert filed.status_code == 201, filed.text
    complaint_id, code = filed.json()["id"], filed.json()["code"]
    assert UUID(complaint_id).version == 4
    assert UUID(complaint_id) != complaint_id_for(code)
    found = gateway.get(f"/api/v1/complaints/{complaint_id}", "cheng")
    assert found.status_code == 200, found.text
    assert found.json()["links"] == {
        "demand_id": demand_id,
        "institution_id": "jsqi",
        "staff_id": "wang",
    }
    # the other institution's handler does not even see it
    assert (
        gateway.get(f"/api/v1/complaints/{complaint_id}", "otherhandler").status_code
        == 404
    )
    assert gateway.get(f"{FILE}/{code}").json()["stage"] == "已收到投诉"


def test_the_complainant_accepts_or_rejects_the_decision_by_code(gateway):
    _, progress_code = owned_case(gateway)
    first = gateway.post(FILE, {**COMPLAINT, "progress_code": progress_code}).json()
    second = gateway.post(FILE, {**COMPLAINT, "progress_code": progress_code}).json()

    early = gateway.post(f"{FILE}/{first['code']}/acceptance")
    assert early.status_code == 400 and early.json()["errors"][0]["field"] == "status"
    assert gateway.post(f"{FILE}/ZZZZZZZZZZ/acceptance").status_code == 404

    decided(gateway, first["id"])
    accepted = gateway.post(f"{FILE}/{first['code']}/acceptance")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["stage"] == "已办结"

    decided(gateway, second["id"])
    unreasoned = gateway.post(f"{FILE}/{second['code']}/rejection", {})
    assert unreasoned.status_code == 400
    rejected = gateway.post(
        f"{FILE}/{second['code']}/rejection", {"reason": "补救措施不足"}
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["stage"] == "内部复核中"
    handled = gateway.get(f"/api/v1/complaints/{second['id']}", "cheng").json()
    assert handled["review"]["reason"] == "补救措施不足"


def test_integrity_counts_the_verified_complaints_about_the_staffs_cases(gateway):
    now = datetime.now(UTC)
    period = {
        "since": (now - timedelta(days=1)).isoformat(),
        "until": (now + timedelta(days=1)).isoformat(),
    }
    figures = "/api/v1/evaluation/staff/wang/efficiency"
    _, progress_code = owned_case(gateway)
    # about nobody in particular: the front door's, naming no one
    assert gateway.post(FILE, COMPLAINT).status_code == 201
    filed = gateway.post(FILE, {**COMPLAINT, "progress_code": progress_code}).json()
    decided(gateway, filed["id"])
    agreed = gateway.post(
        f"/api/v1/complaints/{filed['id']}/agree_corrective_action",
        {"action": "材料清单一次性告知培训", "owner": "zhao"},
        "cheng",
    )
    assert agreed.status_code == 200, agreed.text

    def integrity():
        answer = gateway.get(figures, "zhao", params=period)
        assert answer.status_code == 200, answer.text
        found = answer.json()["integrity"]
        return found if found["upheld_complaints"] else None

    found = support.wait_for(integrity, timeout=15)
    assert (found["complaints_naming_staff"], found["upheld_complaints"]) == (1, 1)
    liqiang = gateway.get(
        "/api/v1/evaluation/staff/liqiang/efficiency", "zhao", params=period
    ).json()
    assert liqiang["integrity"]["complaints_naming_staff"] == 0


def test_the_complainants_page_shows_the_promised_times_and_takes_the_answer(
    gateway,
):
    """By the code alone, on the page: by when each stage is promised (9.4),
    the decision once communicated, and the forms to accept it or ask for an
    internal review with a reason (ISO 10002 8.6, 8.7); a rejection without
    a reason is refused naming the field, nothing recorded."""
    first = gateway.post(FILE, COMPLAINT).json()
    second = gateway.post(FILE, COMPLAINT).json()
    page = requests.Session()

    def status_page(code: str) -> str:
        shown = page.get(
            f"{gateway.base}/complaint/status", params={"code": code}, timeout=10
        )
        assert shown.status_code == 200, shown.text
        return shown.text

    received = status_page(first["code"])
    for promise in ("确认收到您的投诉", "告知处理结果", "办结"):
        assert promise in received
    assert "data-deadlines" in received and "办理中" in received
    assert "接受，办结投诉" not in received  # nothing decided yet
    api = gateway.get(f"{FILE}/{first['code']}").json()
    assert [row["stage"] for row in api["deadlines"]] == [
        "acknowledge",
        "respond",
        "close",
    ]
    assert api["decision"] is None and api["may_respond"] is False

    for complaint in (first, second):
        decided(gateway, complaint["id"])
    communicated = status_page(first["code"])
    assert "处理结果：投诉成立" in communicated and "情况属实" in communicated
    assert "补救措施：致歉" in communicated

    def answer(command: str, code: str, **fields) -> requests.Response:
        return page.post(
            f"{gateway.base}/complaint/{command}",
            data={"code": code, "csrf": page.cookies["qi_csrf"], **fields},
            timeout=10,
        )

    accepted = answer("acceptance", first["code"])
    assert accepted.status_code == 200, accepted.text
    assert "您已接受处理结果，投诉办结" in accepted.text
    assert gateway.get(f"{FILE}/{first['code']}").json()["may_respond"] is False

    unreasoned = answer("rejection", second["code"], reason="")
    assert unreasoned.status_code == 400
    assert 'id="reason-error"' in unreasoned.text
    handled = gateway.get(f"/api/v1/complaints/{second['id']}", "cheng").json()
    assert handled["status"] == "communicated"  # nothing recorded
    rejected = answer("rejection", second["code"], reason="补救不够，要求复核")
    assert rejected.status_code == 200, rejected.text
    assert "已提请内部复核" in rejected.text
    handled = gateway.get(f"/api/v1/complaints/{second['id']}", "cheng").json()
    assert handled["status"] == "escalated"
    assert handled["review"]["reason"] == "补救不够，要求复核"
    assert answer("approval", second["code"]).status_code == 404
