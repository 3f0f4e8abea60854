"""Service policy over HTTP (issue 20, item 9): every limit is configuration
per institution with the standard's or a documented default, read from one
place (catalog), changed only by the admin with a reason, each change an
event; a referral is judged by the policy in force when it was opened.

Services run in this process on the real RabbitMQ, stores on PostgreSQL.
"""

from datetime import datetime

import requests

from services.catalog.contract import POLICY_DEFAULTS
from shared.calendar import calendar_from_env
from tests import support
from tests.integration import test_gateway_access as access_tests
from tests.integration.test_gateway_efficiency import settled_events

backend = access_tests.backend
gateway = access_tests.gateway

POLICY = "/api/v1/catalog/policies/jsqi"
CHECKS = dict.fromkeys(("capability", "method", "cycle", "fee"), True)


def test_the_limits_have_documented_defaults_and_change_only_as_events(gateway):
    shown = gateway.get(POLICY, "admin")
    assert shown.status_code == 200, shown.text
    policy = shown.json()
    assert policy["version"] == 0 and policy["limits"] == POLICY_DEFAULTS
    assert policy["limits"]["referral_accept_days"] == 2
    assert policy["limits"]["green_channel_surcharge_percent"] == 30
    by_key = {item["key"]: item for item in policy["items"]}
    assert by_key["complaint_respond_days"]["basis"] == "9.4"
    assert gateway.get(POLICY, "zhao").status_code == 200  # its own
    assert gateway.get("/api/v1/catalog/policies/nj-lab", "zhao").status_code in (
        403,
        404,
    )
    assert gateway.get(POLICY, "wang").status_code == 403
    assert gateway.get(POLICY, "sun").status_code == 200

    before = settled_events(gateway, "catalog")
    for body, field in [
        (
            {"limits": {"referral_accept_days": 0}, "reason": "x"},
            "referral_accept_days",
        ),
        ({"limits": {"referral_accept_days": 3}, "reason": ""}, "reason"),
        ({"limits": {}, "reason": "本市规定"}, "limits"),
    ]:
        refused = gateway.post(f"{POLICY}/revision", body, "admin")
        assert refused.status_code == 400, refused.text
        assert field in [e["field"] for e in refused.json()["errors"]], refused.text
    unknown = {"limits": {"fax_days": 3}, "reason": "x"}
    assert gateway.post(f"{POLICY}/revision", unknown, "admin").status_code == 400
    good = {
        "limits": {"referral_accept_days": 3},
        "reason": "本市规定签收期限3个工作日",
    }
    assert gateway.post(f"{POLICY}/revision", good, "zhao").status_code == 403
    assert settled_events(gateway, "catalog") == before

    changed = gateway.post(f"{POLICY}/revision", good, "admin")
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 1
    assert changed.json()["limits"]["referral_accept_days"] == 3
    assert changed.json()["limits"]["complaint_close_days"] == 30
    assert gateway.get(POLICY, "zhao").json()["version"] == 1

    manager = console(gateway, "zhao")
    page = manager.get(f"{gateway.base}/console/policy", timeout=10)
    assert page.status_code == 200, page.text
    assert "转办签收期限" in page.text and "修改限值" not in page.text

    admin = console(gateway, "admin")
    csrf = admin.cookies["qi_csrf"]
    form = f"{gateway.base}/console/policy/jsqi"
    bad = admin.post(form, data={"survey_days": "99", "reason": "x", "csrf": csrf})
    assert bad.status_code == 400 and "aria-invalid" in bad.text
    done = admin.post(
        form, data={"survey_days": "7", "reason": "本市规定7个工作日", "csrf": csrf}
    )
    assert done.status_code == 200 and "限值已修改" in done.text, done.text
    assert gateway.get(POLICY, "sun").json()["limits"]["survey_days"] == 7


def console(gateway, who: str) -> requests.Session:
    browser = requests.Session()
    browser.get(f"{gateway.base}/console/login", timeout=10)
    csrf = browser.cookies["qi_csrf"]
    signed = browser.post(
        f"{gateway.base}/console/login",
        data={"username": who, "password": access_tests.PASSWORD, "csrf": csrf},
        timeout=10,
        allow_redirects=False,  # the admin has no workbench to land on
    )
    assert signed.status_code in (302, 303), signed.text
    return browser


def referral_of(gateway) -> str:
    """A demand filed online, taken, reviewed and referred: its referral."""
    demand_id = gateway.post("/api/v1/demands", access_tests.ONLINE_FORM).json()["id"]
    path = f"/api/v1/demands/{demand_id}"
    gateway.post(f"{path}/take", who="wang")
    gateway.post(f"{path}/contract-review", {"checks": CHECKS}, "wang")
    referred = gateway.post(f"{path}/decision", {"outcome": "referred"}, "wang")
    assert referred.status_code == 200, referred.text
    (referral,) = support.wait_for(
        lambda: gateway.get(path, "wang").json()["referrals"], timeout=15
    )
    return f"/api/v1/referrals/{referral['id']}"


def test_a_referral_is_judged_by_the_policy_in_force_when_it_opened(gateway):
    access_tests.lab_with_partner(gateway, "pol")
    older = referral_of(gateway)  # opened under the defaults
    good = {
        "limits": {"referral_accept_days": 4},
        "reason": "本市规定签收期限4个工作日",
    }
    assert gateway.post(f"{POLICY}/revision", good, "admin").status_code == 200
    settled_events(gateway, "referral")  # referral has its copy of version 1
    newer = referral_of(gateway)

    calendar = calendar_from_env()
    for path, days, version in ((older, 2, 0), (newer, 4, 1)):
        sent = gateway.post(f"{path}/sending", who="wang")
        assert sent.status_code == 200, sent.text
        found = sent.json()
        assert found["policy_version"] == version
        due = calendar.deadline(datetime.fromisoformat(found["sent_at"]), days)
        assert datetime.fromisoformat(found["acceptance_due"]) == due, (path, days)
