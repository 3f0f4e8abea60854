"""The demo province `make run` opens (services/gateway/demo_accounts.json):
seeded once through the domain, and the README's demand for 6.3 reaches the
demo partner's inbox through the gateway's HTTP API.

Services run in this process on the real RabbitMQ; stores are on SQLite and
PostgreSQL (the seed) or PostgreSQL (the walk through the API).
"""

import pytest

from services.catalog.application import CatalogApplication
from services.catalog.domain import institution_id
from services.catalog.seed_institutions import demo_institutions
from services.catalog.service import CatalogService
from services.gateway.service import GatewayService
from services.intake.service import IntakeService
from tests import support
from tests.api_client import DEMO_ACCOUNTS, PASSED_REVIEW, STAFF, ApiClient

README_DEMAND = {
    "applicant": "江苏某检测科技有限公司",
    "contact_phone": "13912345678",
    "service_item_code": "6.3",
    "description": "电线电缆阻燃性能检测",
    "channel": "website",
}
PARTNERS = {
    "chen.partner": "jsmi",
    "zhou.partner": "jsfi",
    "wu.partner": "jsqc",
}
PARTNER_PASSWORD = "partner-demo-2026"


def started(monkeypatch, seed_file) -> CatalogApplication:
    """A catalog as its service starts it, with QI_SEED_ACCOUNTS = ``seed_file``."""
    monkeypatch.setenv("QI_SEED_ACCOUNTS", str(seed_file))
    app = CatalogApplication()
    app.start()
    return app


def test_the_demo_province_is_seeded_once_by_the_seed_through_the_domain(
    databases, monkeypatch
):
    first = started(monkeypatch, DEMO_ACCOUNTS)
    try:
        stored = first.recorder.max_notification_id()
        seeded = {i["code"]: i for i in first.institutions()}
        province = demo_institutions(DEMO_ACCOUNTS)
        assert set(seeded) == {"jsqi"} | {seed.code for seed in province}
        for seed in province:
            shown = seeded[seed.code]
            assert shown["id"] == str(institution_id(seed.code))
            assert shown["name"] == seed.name and shown["kind"] == seed.kind
            assert sorted(q["cert_no"] for q in shown["qualifications"]) == sorted(
                q.cert_no for q in seed.qualifications
            )
            assert all(q["status"] == "valid" for q in shown["qualifications"])
        assert seeded["jsqi"]["qualifications"] == []  # the front door, as before
        events = list(first.repository.event_store.get(institution_id("jsmi")))
        assert [type(e).__name__ for e in events][0] == "Registered"
        assert {e.__dict__["audit"]["actor"]["id"] for e in events} == {"seed"}
        answer = first.qualified_institutions("6.4.3", "2026-05-31")
        assert [row["institution_code"] for row in answer] == ["jsqc"]
        assert first.seed_demo_province(str(DEMO_ACCOUNTS)) == 0
    finally:
        first.close()

    again = started(monkeypatch, DEMO_ACCOUNTS)  # a restart seeds nothing twice
    try:
        assert again.recorder.max_notification_id() == stored
    finally:
        again.close()


def test_without_the_demo_file_only_the_front_door_is_registered(
    databases, monkeypatch, tmp_path
):
    accounts = tmp_path / "accounts.json"
    accounts.write_text('{"accounts": []}', encoding="utf-8")
    app = started(monkeypatch, accounts)
    try:
        assert [i["code"] for i in app.institutions()] == ["jsqi"]
        assert app.qualified_institutions("6.4.3", "2026-05-31") == []
    finally:
        app.close()


@pytest.fixture
def demo(databases, runner_factory, monkeypatch):
    """Every service, accounts and institutions from the demo file."""
    monkeypatch.setenv("QI_SEED_ACCOUNTS", str(DEMO_ACCOUNTS))
    monkeypatch.setenv("QI_GATEWAY_SECRET", "test-secret-" + "x" * 32)
    from services.complaints.service import ComplaintsService
    from services.evaluation.service import EvaluationService
    from services.referral.service import ReferralService

    runner = runner_factory(
        IntakeService,
        ReferralService,
        CatalogService,
        ComplaintsService,
        EvaluationService,
        GatewayService,
        http_port=support.free_port(),
    )
    return f"http://{runner.http_address}"


ON_POSTGRES = pytest.mark.parametrize("backend", ["postgres"])


@ON_POSTGRES
def test_the_readme_demand_for_6_3_reaches_the_demo_partners_inbox(demo):
    filed = ApiClient(demo).post("/api/v1/demands", README_DEMAND)
    assert filed.status_code == 201, filed.text
    path = f"/api/v1/demands/{filed.json()['id']}"

    staff = ApiClient(demo).login(*STAFF)
    for step, body in (
        ("take", None),
        ("contract-review", {"checks": PASSED_REVIEW}),
        ("decision", {"outcome": "referred"}),
    ):
        answer = staff.post(f"{path}/{step}", body)
        assert answer.status_code == 200, (step, answer.text)
    (referral,) = support.wait_for(
        lambda: staff.get(path).json()["referrals"], timeout=15
    )
    sent = staff.post(f"/api/v1/referrals/{referral['id']}/sending")
    assert sent.status_code == 200, sent.text
    assignee = staff.get(f"/api/v1/referrals/{referral['id']}").json()["assignee"]
    assert assignee["id"] == str(institution_id("jsmi"))
    assert assignee["name"] == "江苏省计量测试研究院（演示）"

    for username, code in PARTNERS.items():
        partner = ApiClient(demo).login(username, PARTNER_PASSWORD)
        inbox = partner.get("/api/v1/referrals")
        assert inbox.status_code == 200, inbox.text
        ids = [r["id"] for r in inbox.json()["items"]]
        assert ids == ([referral["id"]] if code == "jsmi" else []), username
    chen = ApiClient(demo).login("chen.partner", PARTNER_PASSWORD)
    opened = chen.get(f"/api/v1/referrals/{referral['id']}")
    assert opened.status_code == 200 and opened.json()["item_code"] == "6.3"


@ON_POSTGRES
def test_the_readmes_catalog_queries_answer_the_demo_province(demo):
    public = ApiClient(demo)
    qualified = public.get(
        "/api/v1/catalog/qualified-institutions",
        params={"item": "6.4.3", "on": "2026-05-31"},
    )
    assert qualified.status_code == 200, qualified.text
    rows = qualified.json()["institutions"]
    assert rows and {r["institution_code"] for r in rows} == {"jsqc"}
    bodies = public.get(
        "/api/v1/catalog/certification-bodies", params={"on": "2026-05-31"}
    )
    assert [i["code"] for i in bodies.json()["institutions"]] == ["jsqc"]
    for item in ("6.1.2", "6.3", "6.3.1", "6.8"):
        found = public.get(
            "/api/v1/catalog/qualified-institutions",
            params={"item": item, "on": "2026-12-02"},
        )
        assert found.json()["institutions"], item
