"""The whole system as ``make run`` starts it, driven through its HTTP API."""

import sqlite3
import subprocess
import sys
import time

import pytest
import requests

from tests import support
from tests.api_client import DEMO_ACCOUNTS, STAFF, ApiClient

FORM = {
    "applicant": "无锡某食品有限公司",
    "contact_phone": "13952012345",
    "service_item_code": "6.8",
    "description": "食品生产许可审查咨询",
    "channel": "wechat",
}


@pytest.fixture
def platform(amqp_uri, tmp_path):
    support.delete_topology(amqp_uri)
    services = support.ServicesProcess(
        {
            "QI_AMQP_URI": amqp_uri,
            "QI_VAR_DIR": str(tmp_path),
            "QI_SEED_ACCOUNTS": str(DEMO_ACCOUNTS),
        }
    ).start()
    yield services
    services.kill()


def stored_notifications(path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0]


def test_a_demand_filed_online_and_referred_by_staff_is_shown_with_its_referral(
    platform,
):
    created = requests.post(f"{platform.base_url}/api/v1/demands", json=FORM, timeout=5)
    assert created.status_code == 201, created.text
    demand = created.json()
    assert created.headers["Location"] == f"/api/v1/demands/{demand['id']}"
    assert FORM["contact_phone"] not in created.text  # the customer gets a code

    staff = ApiClient(platform.base_url).login(*STAFF)
    started = time.monotonic()
    staff.refer(demand["id"])

    def with_referral():
        shown = staff.demand(demand["id"])
        return shown if shown["referrals"] else None

    shown = support.wait_for(with_referral, timeout=2.0)
    assert time.monotonic() - started < 2.0
    assert shown["needs"] == [{"item_code": "6.8", "description": FORM["description"]}]
    assert shown["registration"]["contact_phone"] == FORM["contact_phone"]
    assert shown["owner"] == STAFF[0] and shown["status"] == "referred"
    (referral,) = shown["referrals"]
    assert referral["demand_id"] == demand["id"] and referral["item_code"] == "6.8"


def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(
    platform, tmp_path
):
    url = f"{platform.base_url}/api/v1/demands"
    bad = requests.post(url, json={**FORM, "contact_phone": "110"}, timeout=5)
    assert bad.status_code == 400
    assert bad.headers["Content-Type"].startswith("application/problem+json")
    assert [e["field"] for e in bad.json()["errors"]] == ["contact_phone"]

    json_type = {"Content-Type": "application/json"}
    not_json = requests.post(url, data="{oops", headers=json_type, timeout=5)
    assert not_json.status_code == 400
    assert not_json.json()["errors"][0]["field"] == "body"
    untyped = requests.post(url, data="{oops", timeout=5)
    assert untyped.status_code == 415

    assert stored_notifications(tmp_path / "intake.sqlite") == 0
    assert requests.get(f"{url}/not-a-demand", timeout=5).status_code == 401
    staff = ApiClient(platform.base_url).login(*STAFF)
    assert staff.get("/api/v1/demands/not-a-demand").status_code == 404


def test_the_same_submission_retried_with_its_key_is_registered_once(platform):
    url = f"{platform.base_url}/api/v1/demands"
    headers = {"Idempotency-Key": "window-3-2026-11-26-0001"}
    first = requests.post(url, json=FORM, headers=headers, timeout=5).json()
    again = requests.post(url, json=FORM, headers=headers, timeout=5).json()
    assert first["id"] == again["id"]


def test_metrics_are_served(platform):
    created = requests.post(f"{platform.base_url}/api/v1/demands", json=FORM, timeout=5)
    ApiClient(platform.base_url).login(*STAFF).refer(created.json()["id"])
    support.wait_for(
        lambda: (
            'qi_referral_events_consumed_total{event_type="DemandReferred"'
            in requests.get(platform.metrics_url, timeout=5).text
        )
    )
    text = requests.get(platform.metrics_url, timeout=5).text
    for name in (
        "qi_intake_events_published_total",
        "qi_intake_relay_lag_notifications",
        "qi_referral_duplicates_ignored_total",
        "qi_referral_messages_parked_total",
        'qi_gateway_http_requests_total{method="POST",route="/api/v1/demands",'
        'status="201"}',
    ):
        assert name in text


def test_ctrl_c_stops_everything_cleanly(platform):
    assert platform.stop() == 0
    output = platform.output()
    assert "Traceback" not in output, output[-4000:]


def test_without_rabbitmq_it_says_so_in_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "shared.run"],
        env={
            **support.ServicesProcess({}).env,
            "QI_AMQP_URI": "amqp://guest:guest@127.0.0.1:1/",
            "QI_VAR_DIR": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert "RabbitMQ is not reachable at 127.0.0.1:1" in lines[0]
    assert "rabbitmq-server" in lines[0]


def test_public_catalog_lists_clause_6_items_and_answers_who_is_qualified(platform):
    items = requests.get(f"{platform.base_url}/api/v1/catalog/items", timeout=5)
    assert items.status_code == 200
    codes = [i["code"] for i in items.json()["items"]]
    assert codes[0] == "6.1" and "6.10" in codes and "6.4.3" in codes
    item = requests.get(f"{platform.base_url}/api/v1/catalog/items/6.4.3", timeout=5)
    assert item.json()["materials"]
    query = requests.get(
        f"{platform.base_url}/api/v1/catalog/qualified-institutions",
        params={"item": "6.4.3", "on": "2026-05-31"},
        timeout=5,
    )
    assert query.status_code == 200  # the demo province's certification body
    assert [i["institution_code"] for i in query.json()["institutions"]] == ["jsqc"]
    bad = requests.get(
        f"{platform.base_url}/api/v1/catalog/qualified-institutions",
        params={"item": "6.4.3", "on": "31/05/2026"},
        timeout=5,
    )
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "on"
    missing = requests.get(f"{platform.base_url}/api/v1/catalog/items/9.9", timeout=5)
    assert missing.status_code == 404


def test_the_public_guide_shows_process_and_no_invented_phone(platform):
    guide = requests.get(f"{platform.base_url}/api/v1/public/guide", timeout=5)
    assert guide.status_code == 200
    body = guide.json()
    # contacts are empty until an admin sets them; 12315 is not an institution's
    assert body["complaint_phone"] == "" and len(body["process"]) >= 4


def test_certification_bodies_and_their_scopes_can_be_queried(platform):
    url = f"{platform.base_url}/api/v1/catalog/certification-bodies"
    found = requests.get(url, params={"on": "2026-05-31"}, timeout=5)
    assert found.status_code == 200
    assert [i["code"] for i in found.json()["institutions"]] == ["jsqc"]
    bad = requests.get(url, params={"on": "tomorrow"}, timeout=5)
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "on"


def test_a_customer_follows_the_demand_by_its_progress_code(platform):
    created = requests.post(f"{platform.base_url}/api/v1/demands", json=FORM, timeout=5)
    code = created.json()["progress_code"]
    shown = requests.get(f"{platform.base_url}/api/v1/progress/{code}", timeout=5)
    assert shown.status_code == 200
    body = shown.json()
    assert body["status_label"] == "已登记"
    assert [s["stage"] for s in body["stages"]] == ["需求已登记"]
    assert (
        FORM["applicant"] not in shown.text and FORM["contact_phone"] not in shown.text
    )
    wrong = requests.get(f"{platform.base_url}/api/v1/progress/ABCDEFGHJK", timeout=5)
    assert wrong.status_code == 404


def test_the_full_appendix_b_form_is_accepted_and_shown_back(platform):
    from tests.unit.test_registration_form import APPENDIX_B

    url = f"{platform.base_url}/api/v1/demands"
    created = requests.post(url, json=APPENDIX_B, timeout=5)
    assert created.status_code == 201, created.text
    assert requests.get(f"{url}/{created.json()['id']}", timeout=5).status_code == 401
    staff = ApiClient(platform.base_url).login(*STAFF)
    shown = staff.demand(created.json()["id"])
    assert shown["registration"] == APPENDIX_B  # exactly, Chinese text included
