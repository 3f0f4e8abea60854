"""The gateway over HTTP: login, who sees what, and staff work on a demand.

Services run in this process on the real RabbitMQ; their stores are on
PostgreSQL. Accounts are opened from a seed file as `make run` does.
"""

import json
from uuid import UUID

import pytest
import requests

from services.catalog.service import CatalogService
from services.gateway.service import GatewayService
from services.intake.service import IntakeService
from tests import support
from tests.unit.test_registration_form import APPENDIX_B

PASSWORD = "correct-horse-9"
ACCOUNTS = [
    ("admin", "admin", ""),
    ("wang", "staff", "jsqi"),
    ("liqiang", "staff", "jsqi"),
    ("zhao", "manager", "jsqi"),
    ("other", "staff", "nj-lab"),
    ("othermgr", "manager", "nj-lab"),
    ("sun", "regulator", ""),
    ("ops", "ops", ""),
    ("chen", "partner", "jsmi"),
    ("cheng", "complaint_handler", "jsqi"),
    ("otherhandler", "complaint_handler", "nj-lab"),
]
ONLINE_FORM = {
    "applicant": "苏州某电子科技有限公司",
    "contact_phone": "13812345678",
    "service_item_code": "6.3.1",
    "description": "电子玩具安全性能检测",
    "channel": "website",
}
COMPLAINT = {
    "channel": "phone",
    "anonymous": False,
    "complainant_name": "刘女士",
    "complainant_phone": "13770001234",
    "description": "窗口人员未一次性告知所需材料",
    "remedy_requested": "说明原因并改进",
}


@pytest.fixture
def backend():
    return "postgres"


@pytest.fixture
def gateway(databases, runner_factory, tmp_path, monkeypatch):
    seed = support.seed_accounts(tmp_path / "accounts.json", ACCOUNTS, PASSWORD)
    monkeypatch.setenv("QI_SEED_ACCOUNTS", str(seed))
    monkeypatch.setenv("QI_GATEWAY_SECRET", "test-secret-" + "x" * 32)
    monkeypatch.setenv("QI_LOGIN_ATTEMPTS", "5")
    from services.complaints.service import ComplaintsService
    from services.evaluation.service import EvaluationService
    from services.notify.service import NotifyService
    from services.referral.service import ReferralService

    runner = runner_factory(
        IntakeService,
        ReferralService,
        CatalogService,
        ComplaintsService,
        EvaluationService,
        NotifyService,  # the console's inbox, the customer's messages
        GatewayService,
        http_port=support.free_port(),
    )
    client = Client(f"http://{runner.http_address}")
    client.runner = runner
    return client


class Client:
    def __init__(self, base: str):
        self.base = base
        self.tokens: dict[str, str] = {}

    def login(self, username: str, password: str = PASSWORD):
        return requests.post(
            f"{self.base}/api/v1/auth/login",
            json={"username": username, "password": password},
            timeout=10,
        )

    def headers(self, who: str | None) -> dict:
        if who is None:
            return {}
        if who not in self.tokens:
            answer = self.login(who)
            assert answer.status_code == 200, answer.text
            self.tokens[who] = answer.json()["token"]
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def get(self, path: str, who: str | None = None, **kwargs):
        return requests.get(
            f"{self.base}{path}", headers=self.headers(who), timeout=10, **kwargs
        )

    def post(self, path: str, body=None, who: str | None = None, headers=None):
        return requests.post(
            f"{self.base}{path}",
            json=body if body is not None else {},
            headers={**self.headers(who), **(headers or {})},
            timeout=10,
        )


def test_login_gives_a_token_and_refuses_wrong_passwords_then_slows_guessing(gateway):
    ok = gateway.login("wang")
    assert ok.status_code == 200
    assert ok.json()["account"]["role"] == "staff"
    me = gateway.get("/api/v1/me", "wang").json()
    assert me == {"username": "wang", "role": "staff", "institution": "jsqi"}

    forged = requests.get(
        f"{gateway.base}/api/v1/me",
        headers={"Authorization": "Bearer " + gateway.tokens["wang"][:-2] + "xx"},
        timeout=10,
    )
    assert forged.status_code == 401
    assert gateway.get("/api/v1/me").status_code == 401

    statuses = [gateway.login("liqiang", "wrong-pass").status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]  # failures count, successes do not
    # another name from the same address is not locked by liqiang's failures
    assert gateway.login("wang").status_code == 200
    missing = requests.post(f"{gateway.base}/api/v1/auth/login", json={}, timeout=10)
    assert {e["field"] for e in missing.json()["errors"]} == {"username", "password"}


def test_admin_opens_accounts_with_checked_fields_and_nobody_else_may(gateway):
    new = {
        "username": "zhou",
        "display_name": "周洁",
        "role": "staff",
        "institution": "jsqi",
        "password": "long-enough-1",
    }
    assert gateway.post("/api/v1/accounts", new, "wang").status_code == 403
    bad = gateway.post("/api/v1/accounts", {**new, "password": "short"}, "admin")
    assert bad.status_code == 400
    assert [e["field"] for e in bad.json()["errors"]] == ["password"]
    opened = gateway.post("/api/v1/accounts", new, "admin")
    assert opened.status_code == 201 and "password" not in opened.text
    assert gateway.post("/api/v1/accounts", new, "admin").status_code == 409
    assert gateway.login("zhou", "long-enough-1").status_code == 200
    listed = gateway.get("/api/v1/accounts", "admin").json()["items"]
    assert "zhou" in [a["username"] for a in listed]
    assert all("hash" not in json.dumps(a) for a in listed)


def test_a_customer_files_online_and_staff_work_the_demand_through_the_api(gateway):
    filed = gateway.post("/api/v1/demands", ONLINE_FORM)
    assert filed.status_code == 201, filed.text
    answer = filed.json()
    assert set(answer) == {"id", "progress_code", "status", "registered_at"}
    demand_id, code = answer["id"], answer["progress_code"]

    assert gateway.get(f"/api/v1/demands/{demand_id}").status_code == 401
    listed = gateway.get("/api/v1/demands", "wang").json()
    assert [d["demand_id"] for d in listed["items"]] == [demand_id]
    assert gateway.get("/api/v1/demands", "other").json()["items"] == []

    path = f"/api/v1/demands/{demand_id}"
    taken = gateway.post(f"{path}/take", who="wang")
    assert taken.status_code == 200 and taken.json()["owner"] == "wang"
    second = gateway.post(f"{path}/take", who="liqiang")
    assert second.status_code == 400 and second.json()["errors"][0]["field"] == "owner"

    checklist = gateway.get("/api/v1/catalog/items/6.3.1").json()["materials"]
    notice = gateway.post(
        f"{path}/materials-notice", {"provided": checklist[:1]}, "wang"
    ).json()
    assert notice["outstanding_materials"] == checklist[1:]
    supplied = gateway.post(f"{path}/supplements", {"items": checklist[1:]}, "wang")
    assert supplied.json()["outstanding_materials"] == []
    checks = dict.fromkeys(("capability", "method", "cycle", "fee"), True)
    gateway.post(f"{path}/contract-review", {"checks": checks}, "wang")
    refused = gateway.post(f"{path}/green-channel", {"reason": "出口急需"}, "wang")
    assert refused.status_code == 403
    opened = gateway.post(f"{path}/green-channel", {"reason": "出口急需"}, "zhao")
    assert opened.status_code == 200
    decided = gateway.post(f"{path}/decision", {"outcome": "referred"}, "wang")
    assert decided.status_code == 200 and decided.json()["status"] == "referred"

    progress = gateway.get(f"/api/v1/progress/{code}").json()
    assert progress["status"] == "referred" and progress["green_channel"] is True
    assert "苏州" not in json.dumps(progress, ensure_ascii=False)

    history = gateway.get(f"{path}/history", "sun").json()["items"]
    assert [h["event"] for h in history] == [
        "Registered",
        "Taken",
        "MaterialsNoticeIssued",
        "MaterialsSupplied",
        "ContractReviewed",
        "GreenChannelOpened",
        "Decided",
    ]
    for entry in history[1:]:
        assert entry["actor"]["institution"] == "jsqi", entry
        assert entry["actor"]["role"] in ("staff", "manager")
        assert entry["channel"] == "window"
    assert history[0]["actor"]["role"] == "customer"
    assert history[0]["channel"] == "website"


def test_appendix_b_round_trips_exactly_through_the_api(gateway):
    form = {**APPENDIX_B, "channel": "window"}
    created = gateway.post("/api/v1/demands", form, "wang")
    assert created.status_code == 201, created.text
    shown = gateway.get(f"/api/v1/demands/{created.json()['id']}", "wang").json()
    assert shown["registration"] == form
    assert shown["institution"] == "jsqi"
    regulator = gateway.get(f"/api/v1/demands/{created.json()['id']}", "sun").json()
    assert regulator["registration"]["applicant"] == form["applicant"]
    assert regulator["registration"]["contact_phone"] != form["contact_phone"]


def test_no_role_reaches_a_demand_of_another_institution(gateway):
    """Every demand endpoint × every role: 401/403/404 for another's demand."""
    demand_id = gateway.post("/api/v1/demands", ONLINE_FORM).json()["id"]
    path = f"/api/v1/demands/{demand_id}"
    reads = [path, f"{path}/history"]
    from services.gateway.usecases.demands import COMMANDS as DEMAND_COMMANDS

    described = gateway.get("/openapi.json").json()["paths"]
    bodies = {}  # a body valid by its schema where intake checks the demand
    for command in DEMAND_COMMANDS:
        operation = described[f"/api/v1/demands/{{demand_id}}/{command}"]["post"]
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        in_intake = operation["x-owner"]["rule"] == "demand in intake"
        bodies[command] = support.valid_body(schema) if in_intake else {"reason": "x"}
    outsiders = ["other", "othermgr", "ops", "chen", "admin", None]
    for who in outsiders:
        for url in reads:
            status = gateway.get(url, who).status_code
            assert status in (401, 403, 404), (who, url, status)
        for command in DEMAND_COMMANDS:
            answer = gateway.post(f"{path}/{command}", bodies[command], who)
            assert answer.status_code in (401, 403, 404), (who, command, answer.text)
    for command in DEMAND_COMMANDS:  # the regulator reads and writes nothing
        assert gateway.post(f"{path}/{command}", {}, "sun").status_code == 403
    assert gateway.get(path, "sun").status_code == 200
    # nothing was stored by all those attempts
    history = gateway.get(f"{path}/history", "wang").json()["items"]
    assert [h["event"] for h in history] == ["Registered"]


def test_a_retried_post_with_its_idempotency_key_registers_one_demand(gateway):
    key = {"Idempotency-Key": "web-2026-11-26-77"}
    first = gateway.post("/api/v1/demands", ONLINE_FORM, headers=key).json()
    again = gateway.post("/api/v1/demands", ONLINE_FORM, headers=key).json()
    assert first["id"] == again["id"]
    assert gateway.get("/api/v1/demands", "wang").json()["total"] == 1


def test_the_regulator_reads_one_verified_timeline_as_of_any_moment(gateway):
    from datetime import datetime

    from shared.providers import application_of

    demand_id = gateway.post("/api/v1/demands", ONLINE_FORM).json()["id"]
    path = f"/api/v1/demands/{demand_id}"
    gateway.post(f"{path}/take", who="wang")
    between = datetime.now().astimezone().isoformat()
    gateway.post(f"{path}/follow-ups", {"note": "已电话联系客户"}, "wang")

    audit = gateway.get(f"/api/v1/audit/cases/{demand_id}", "sun").json()
    assert audit["verification"]["passed"] is True, audit["verification"]
    rows = [
        (r["service"], r["event"], r["actor"], r["role"])
        for r in audit["timeline"]
        if r["service"] == "intake"
    ]
    assert rows == [
        ("intake", "Demand.Registered", "anonymous", "customer"),
        ("intake", "Demand.Taken", "wang", "staff"),
        ("intake", "Demand.FollowedUp", "wang", "staff"),
    ]
    staff_rows = [r for r in audit["timeline"] if r["role"] == "staff"]
    assert {r["institution"] for r in staff_rows} == {"jsqi"}
    assert audit["demand"]["contact_phone"] == "138****5678"  # masked for regulators

    earlier = gateway.get(
        f"/api/v1/audit/cases/{demand_id}", "sun", params={"as_of": between}
    ).json()
    assert [r["event"] for r in earlier["timeline"] if r["service"] == "intake"] == [
        "Demand.Registered",
        "Demand.Taken",
    ]
    assert earlier["demand"]["owner"] == "wang" and earlier["demand"]["version"] == 2

    # the regulator's reads are themselves in the case's history
    again = gateway.get(f"/api/v1/audit/cases/{demand_id}", "sun").json()
    reads = [r for r in again["timeline"] if r["event"] == "CaseRead.Recorded"]
    assert [(r["actor"], r["role"]) for r in reads] == [("sun", "regulator")] * 2

    page = gateway.get(
        f"/api/v1/audit/cases/{demand_id}/export", "sun", params={"format": "html"}
    )
    assert page.headers["Content-Type"].startswith("text/html"), page.text
    assert "哈希链核验：通过" in page.text and "服务人员" in page.text

    intake = application_of(support.container_of(gateway.runner, "intake"))
    support.tamper(intake, UUID(demand_id), 2, lambda s: s.update(staff_id="li"))
    tampered = gateway.get(f"/api/v1/audit/cases/{demand_id}", "sun").json()
    check = tampered["verification"]
    assert check["passed"] is False
    assert [(b["service"], b["version"]) for b in check["breaks"]] == [("intake", 2)]
    bad = gateway.get(
        f"/api/v1/audit/cases/{demand_id}", "sun", params={"as_of": "yesterday"}
    )
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "as_of"


def test_a_retried_command_with_its_key_has_its_first_answer_and_one_effect(gateway):
    demand_id = gateway.post("/api/v1/demands", ONLINE_FORM).json()["id"]
    path = f"/api/v1/demands/{demand_id}"
    key = {"Idempotency-Key": "wang-take-1"}
    first = gateway.post(f"{path}/take", who="wang", headers=key)
    again = gateway.post(f"{path}/take", who="wang", headers=key)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    other_use = gateway.post(f"{path}/follow-ups", {"note": "x"}, "wang", headers=key)
    assert other_use.status_code == 422  # the key of another request (issue 18)
    history = gateway.get(f"{path}/history", "wang").json()["items"]
    assert [h["event"] for h in history] == ["Registered", "Taken"]


def test_the_api_is_described_at_openapi_json_and_a_docs_page(gateway):
    document = gateway.get("/openapi.json").json()
    assert document["openapi"] == "3.1.0"
    assert "/api/v1/demands/{demand_id}/take" in document["paths"]
    page = gateway.get("/docs")
    assert page.headers["Content-Type"].startswith("text/html"), page.text
    assert "/api/v1/audit/cases/{demand_id}" in page.text


def test_through_the_api_alone_from_online_filing_to_the_regulators_audit(gateway):
    """Issue 9's walk: customer → staff → partner → customer → regulator."""
    lab_id = lab_with_partner(gateway, "njlab")

    # the customer files online and keeps the code
    filed = gateway.post("/api/v1/demands", ONLINE_FORM).json()
    demand_id, code = filed["id"], filed["progress_code"]
    path = f"/api/v1/demands/{demand_id}"

    # staff: first responder, one-time notice, supplements, review, referral
    gateway.post(f"{path}/take", who="wang")
    checklist = gateway.get("/api/v1/catalog/items/6.3.1").json()["materials"]
    gateway.post(f"{path}/materials-notice", {"provided": checklist[:1]}, "wang")
    gateway.post(f"{path}/supplements", {"items": checklist[1:]}, "wang")
    referral_id = refer_and_send(gateway, demand_id)
    referral_path = f"/api/v1/referrals/{referral_id}"
    referral = gateway.get(referral_path, "wang").json()
    assert referral["assignee"]["id"] == lab_id

    # the partner signs for it and completes it
    inbox = gateway.get("/api/v1/referrals", "njlab.clerk").json()["items"]
    assert [r["id"] for r in inbox] == [referral_id]
    assert gateway.get("/api/v1/referrals", "chen").json()["items"] == []
    assert gateway.get(referral_path, "chen").status_code == 404
    for command, body in (
        ("acceptance", {}),
        ("progress", {"stage": "testing", "note": "样品检测中"}),
        (
            "completion",
            {
                "report": {
                    "report_no": "NJ-2026-0077",
                    "issued_on": "2026-11-26",
                    "sha256": "ab" * 32,
                }
            },
        ),
        ("feedback", {"summary": "检测合格，报告已出具"}),
    ):
        answer = gateway.post(f"{referral_path}/{command}", body, "njlab.clerk")
        assert answer.status_code == 200, (command, answer.text)
    verification = answer.json()["report"]["verification_code"]
    checked = gateway.get(f"/api/v1/public/reports/{verification}").json()
    assert checked["status"] == "valid"

    # the customer follows progress and rates the service
    stages = support.wait_for(
        lambda: [
            s["stage"]
            for s in gateway.get(f"/api/v1/progress/{code}").json()["stages"]
            if "反馈" in s["stage"]
        ],
        timeout=15,
    )
    assert stages
    (survey,) = support.wait_for(  # issued when the referral completed
        lambda: gateway.get("/api/v1/public/surveys", params={"code": code}).json()[
            "items"
        ],
        timeout=15,
    )
    rating = {
        "code": code,
        "overall": "满意",
        "dimensions": dict.fromkeys(
            (
                "attitude",
                "efficiency",
                "professionalism",
                "timeliness",
                "fee_transparency",
                "environment",
            ),
            "满意",
        ),
        "comments": "办理及时",
    }
    url = f"/api/v1/public/surveys/{survey['id']}/rating"
    wrong_code = gateway.post(url, {**rating, "code": "ABCDEFGHJK"})
    assert wrong_code.status_code in (400, 404), wrong_code.text
    assert gateway.post(url, rating).status_code == 200
    twice = gateway.post(url, rating)
    assert twice.status_code == 400, twice.text  # once only

    # the regulator reads one timeline, and verification passes
    audit = gateway.get(f"/api/v1/audit/cases/{demand_id}", "sun").json()
    assert audit["verification"]["passed"] is True, audit["verification"]
    services = {row["service"] for row in audit["timeline"]}
    assert {"intake", "referral", "evaluation"} <= services
    events = [row["event"] for row in audit["timeline"]]
    for step in (
        "Demand.MaterialsNoticeIssued",
        "Referral.Accepted",
        "Referral.Completed",
        "Demand.ReferralFeedbackReceived",
    ):
        assert step in events, step


def lab_with_partner(gateway, key: str) -> str:
    """A lab qualified for 6.3.1, registered by the admin, with a clerk account
    ``<key>.clerk``; returns the lab's institution id."""
    lab = gateway.post(
        "/api/v1/catalog/institutions",
        {"code": f"91320100LAB0000{key}X", "name": f"{key}检测中心", "kind": "lab"},
        "admin",
    )
    assert lab.status_code == 201, lab.text
    lab_id = lab.json()["id"]
    granted = gateway.post(
        f"/api/v1/catalog/institutions/{lab_id}/qualifications",
        {
            "kind": "CMA",
            "cert_no": f"CMA-{key}",
            "scope_codes": ["6.3.1"],
            "valid_from": "2026-01-01",
            "valid_to": "2028-12-31",
        },
        "admin",
    )
    assert granted.status_code == 201, granted.text
    clerk = {
        "username": f"{key}.clerk",
        "display_name": f"{key}收样员",
        "role": "partner",
        "institution": lab_id,
        "password": PASSWORD,
    }
    assert gateway.post("/api/v1/accounts", clerk, "admin").status_code == 201
    return lab_id


def refer_and_send(gateway, demand_id: str) -> str:
    """Staff take, review and refer the demand, then send the referral."""
    path = f"/api/v1/demands/{demand_id}"
    gateway.post(f"{path}/take", who="wang")
    checks = dict.fromkeys(("capability", "method", "cycle", "fee"), True)
    gateway.post(f"{path}/contract-review", {"checks": checks}, "wang")
    referred = gateway.post(f"{path}/decision", {"outcome": "referred"}, "wang")
    assert referred.json()["status"] == "referred", referred.text
    (referral,) = support.wait_for(
        lambda: gateway.get(path, "wang").json()["referrals"], timeout=15
    )
    sent = gateway.post(f"/api/v1/referrals/{referral['id']}/sending", who="wang")
    assert sent.status_code == 200, sent.text
    return referral["id"]


def test_no_role_reaches_a_referral_of_another_institution(gateway):
    from services.gateway.usecases.referrals import COMMANDS as REFERRAL_COMMANDS

    lab_a = lab_with_partner(gateway, "aa")
    lab_with_partner(gateway, "bb")
    demand_id = gateway.post("/api/v1/demands", ONLINE_FORM).json()["id"]
    referral_id = refer_and_send(gateway, demand_id)
    path = f"/api/v1/referrals/{referral_id}"
    assert gateway.get(path, "aa.clerk").json()["assignee"]["id"] == lab_a

    outsiders = ["bb.clerk", "other", "othermgr", "ops", "admin", None]
    for who in outsiders:
        assert gateway.get(path, who).status_code in (401, 403, 404), who
        inbox = gateway.get("/api/v1/referrals", who)
        assert inbox.status_code in (401, 403) or referral_id not in inbox.text
        for command in REFERRAL_COMMANDS:
            answer = gateway.post(f"{path}/{command}", {"reason": "x"}, who)
            assert answer.status_code in (401, 403, 404), (who, command, answer.text)
    for command in REFERRAL_COMMANDS:  # the regulator reads and writes nothing
        assert gateway.post(f"{path}/{command}", {}, "sun").status_code == 403
    assert gateway.get(path, "sun").status_code == 200
    unchanged = gateway.get(path, "aa.clerk").json()
    assert unchanged["state"] == "sent"


def test_a_complaint_filed_without_login_is_followed_by_its_code(gateway):
    filed = gateway.post(
        "/api/v1/public/complaints",
        {
            "channel": "website",
            "anonymous": True,
            "description": "报告出具时间超过承诺周期",
            "remedy_requested": "尽快出具报告并说明原因",
            "received_at": "2020-01-01T00:00:00+08:00",
        },
    )
    assert filed.status_code == 201, filed.text
    code = filed.json()["code"]
    status = gateway.get(f"/api/v1/public/complaints/{code}")
    assert status.status_code == 200, status.text
    assert "报告出具" not in status.text  # stage labels only
    bad = gateway.post(
        "/api/v1/public/complaints", {"channel": "website", "anonymous": True}
    )
    assert bad.status_code == 400
    assert "description" in [e["field"] for e in bad.json()["errors"]]


def test_ops_see_parked_messages_and_nobody_else_does(gateway):
    answer = gateway.get("/api/v1/ops/parked-messages", "ops")
    assert answer.status_code == 200, answer.text
    services = answer.json()["services"]
    assert services["referral"] == [] and services["intake"] == []
    for who in ("wang", "zhao", "sun", "admin", None):
        assert gateway.get("/api/v1/ops/parked-messages", who).status_code in (
            401,
            403,
        )


def test_complaint_handlers_work_their_institutions_complaints_only(gateway):
    filed = gateway.post("/api/v1/public/complaints", COMPLAINT).json()
    path = f"/api/v1/complaints/{filed['id']}"
    acknowledged = gateway.post(f"{path}/acknowledge", {"handler": "x"}, "cheng")
    assert acknowledged.status_code == 200, acknowledged.text
    assert acknowledged.json()["handler"] == "cheng"  # not what the body said
    shown = gateway.get(path, "cheng").json()
    assert shown["complainant_phone"] == COMPLAINT["complainant_phone"]
    for who in ("otherhandler", "othermgr"):
        assert gateway.get(path, who).status_code == 404
        assert gateway.post(f"{path}/assess", {}, who).status_code in (403, 404)
    # the institution's manager follows it, the complainant masked
    followed = gateway.get(path, "zhao")
    assert followed.status_code == 200, followed.text
    assert followed.json()["complainant_phone"] != COMPLAINT["complainant_phone"]
    assert COMPLAINT["complainant_name"] not in followed.text
    assert gateway.post(f"{path}/assess", {}, "zhao").status_code == 403
    for who in ("wang", "ops", "admin", "chen", None):
        assert gateway.get(path, who).status_code in (401, 403)
        assert gateway.post(f"{path}/assess", {}, who).status_code in (401, 403)
    assert gateway.get(path, "sun").status_code == 200
    assert gateway.post(f"{path}/assess", {}, "sun").status_code == 403
    assert gateway.post(f"{path}/no-such-step", {}, "cheng").status_code == 404


def test_a_half_year_summary_is_its_institutions_own(gateway):
    drafted = gateway.post(
        "/api/v1/evaluation/half-year-summaries", {"year": 2026, "half": 2}, "othermgr"
    )
    assert drafted.status_code == 201, drafted.text
    path = f"/api/v1/evaluation/half-year-summaries/{drafted.json()['id']}"
    assert gateway.get(path, "othermgr").json()["institution_id"] == "nj-lab"
    pdf = gateway.get(path, "othermgr", params={"format": "pdf"})
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    page = gateway.get(path, "othermgr", params={"format": "html"})
    assert page.headers["Content-Type"].startswith("text/html")
    assert "<h1>nj-lab 2026年下半年一站式服务工作总结</h1>" in page.text
    for who in ("zhao", "wang", "ops", "chen", None):
        assert gateway.get(path, who).status_code in (401, 403, 404), who
        signed = gateway.post(f"{path}/sign-off", {"note": "x"}, who)
        assert signed.status_code in (401, 403, 404), who
    assert gateway.get(path, "sun").status_code == 200  # the regulator reads
    assert gateway.post(f"{path}/sign-off", {}, "sun").status_code == 403


def test_a_nul_character_anywhere_is_refused_and_nothing_is_stored(gateway):
    """PostgreSQL text cannot hold NUL: stored in an event, it would stop a
    read model for good; so no body, query, path or form may carry one."""
    before = gateway.get("/api/v1/demands", "wang").json()["total"]
    nul_body = gateway.post("/api/v1/demands", {**ONLINE_FORM, "applicant": "某\x00"})
    assert nul_body.status_code == 400
    assert nul_body.json()["errors"][0]["field"] == "applicant"
    nested = gateway.post("/api/v1/demands", {**ONLINE_FORM, "needs": [{"a": "\x00"}]})
    assert nested.json()["errors"][0]["field"] == "needs[0].a"
    query = gateway.get("/api/v1/catalog/venues", params={"institution": "x\x00"})
    assert query.status_code == 400
    assert query.json()["errors"][0]["field"] == "institution"
    path = gateway.get("/api/v1/catalog/items/6.3%00", "wang")
    assert path.status_code == 400
    page = requests.post(
        f"{gateway.base}/complaint", data={"description": "a\x00"}, timeout=10
    )
    assert page.status_code == 400 and "空字符" in page.text
    assert gateway.get("/api/v1/demands", "wang").json()["total"] == before
    # and a request without one goes through as before
    assert gateway.post("/api/v1/demands", ONLINE_FORM).status_code == 201
