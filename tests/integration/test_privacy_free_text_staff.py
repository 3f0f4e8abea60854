"""Words staff and admins type stay out of integration events too (issue 18,
item 6): what is wrong with a material of the one-time notice
(MaterialsNoticeIssued v2), the reason an admin gives for suspending a
qualification or changing a service policy (QualificationChanged and
PolicyChanged v2) and the detail of a referral's qualification flag
(ReferralEscalated v2) are published as ids, codes and facts only. Whoever
shows them to a person reads them from the service that owns them when it
does (notify from intake and referral, referral from catalog, by RPC), so the
customer's notice, the referral's page and the managers' message still show
them. (A corrective action's owner, CorrectiveActionAgreed v3: in
test_privacy_free_text.py.)

Services run in this process on the real RabbitMQ, stores on PostgreSQL; the
published envelopes are read from a queue of the test's own bound to the
publishers' exchanges, as any consumer would receive them.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from services.complaints.application import ComplaintsApplication
from services.evaluation.application import EvaluationApplication
from services.referral.application import ReferralApplication
from tests import support
from tests.integration import test_gateway_access as access_tests
from tests.integration.test_privacy_free_text import carries_none_of, event_tap

backend = access_tests.backend
gateway = access_tests.gateway

TAP = "test.privacy-free-text-staff"
TAPPED = (
    ("intake", "MaterialsNoticeIssued"),
    ("catalog", "QualificationChanged"),
    ("catalog", "PolicyChanged"),
    ("referral", "ReferralEscalated"),
)
# each names a person, as staff's and admins' words can
NONCONFORMITY = "委托书经办人陈志刚未签字"
SUSPENSION = "监督抽查不合格，由检查员吴海涛现场确认"
POLICY_REASON = "应局长马丽华要求缩短签收期限"


@pytest.fixture
def tap(gateway, clean_broker):
    with event_tap(clean_broker, TAP, TAPPED) as published:
        yield published


def today() -> str:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()


def test_the_materials_notice_names_the_materials_and_the_customer_reads_why(
    gateway, tap
):
    filed = gateway.post("/api/v1/demands", access_tests.ONLINE_FORM).json()
    path = f"/api/v1/demands/{filed['id']}"
    assert gateway.post(f"{path}/take", who="wang").status_code == 200
    checklist = gateway.get("/api/v1/catalog/items/6.3.1").json()["materials"]
    flawed = checklist[0]
    notice = gateway.post(
        f"{path}/materials-notice",
        {"provided": checklist, "nonconforming": {flawed: NONCONFORMITY}},
        "wang",
    )
    assert notice.status_code == 200, notice.text

    (issued,) = support.wait_for(lambda: tap("MaterialsNoticeIssued"), timeout=15)
    assert issued["schema_version"] == 2
    assert issued["data"]["demand_id"] == filed["id"]
    assert issued["data"]["requested"] == [flawed]
    assert issued["data"]["nonconforming"] == [flawed]  # the names only
    assert carries_none_of(issued, NONCONFORMITY, "陈志刚")

    # notify read the words from intake as it wrote the customer's notice
    def notices():
        shown = gateway.get(f"/api/v1/progress/{filed['progress_code']}").json()
        return [m for m in shown["messages"] or () if m["kind"] == "materials_notice"]

    (shown,) = support.wait_for(notices, timeout=15)
    assert f"1. {flawed}（不符合要求：{NONCONFORMITY}）" in shown["text"]


def test_a_suspension_flags_the_referral_and_the_managers_read_why(gateway, tap):
    lab_id = access_tests.lab_with_partner(gateway, "flag")
    filed = gateway.post("/api/v1/demands", access_tests.ONLINE_FORM).json()
    referral_id = access_tests.refer_and_send(gateway, filed["id"])
    suspended = gateway.post(
        f"/api/v1/catalog/institutions/{lab_id}/qualifications/CMA-flag/status",
        {"action": "suspend", "effective_on": today(), "reason": SUSPENSION},
        "admin",
    )
    assert suspended.status_code == 200, suspended.text

    def changes():  # the lab's (the seeded institutions' may come too)
        found = tap("QualificationChanged")
        return [b for b in found if b["data"]["institution_id"] == lab_id]

    support.wait_for(lambda: len(changes()) == 2, timeout=15)
    granted, change = changes()
    assert granted["data"]["change"] == "granted"
    assert change["schema_version"] == 2
    assert change["data"]["change"] == "suspended"
    assert change["data"]["effective_on"] == today()
    assert "reason" not in change["data"]
    assert carries_none_of(change, SUSPENSION, "吴海涛")

    (alert,) = support.wait_for(lambda: tap("ReferralEscalated"), timeout=15)
    assert alert["schema_version"] == 2
    assert alert["data"]["referral_id"] == referral_id
    assert alert["data"]["reason"] == "qualification_suspended"
    assert alert["data"]["cert_no"] == "CMA-flag"
    assert "detail" not in alert["data"]
    assert carries_none_of(alert, SUSPENSION, "吴海涛")

    # referral read the reason from catalog as it flagged the referral
    (flag,) = gateway.get(f"/api/v1/referrals/{referral_id}", "wang").json()["flags"]
    assert flag["reason"] == SUSPENSION and flag["cert_no"] == "CMA-flag"

    # notify read the detail from referral as it wrote the managers' message
    def flags():
        inbox = gateway.get("/api/v1/inbox", "zhao").json()["items"]
        return [m for m in inbox if m["kind"] == "qualification_flag"]

    (message,) = support.wait_for(flags, timeout=15)
    assert f"CMA-flag: {SUSPENSION}" in message["text"]


def test_a_policy_change_is_published_without_the_admins_reason(gateway, tap):
    changed = gateway.post(
        "/api/v1/catalog/policies/jsqi/revision",
        {"limits": {"referral_accept_days": 3}, "reason": POLICY_REASON},
        "admin",
    )
    assert changed.status_code == 200, changed.text

    (policy,) = support.wait_for(lambda: tap("PolicyChanged"), timeout=15)
    assert policy["schema_version"] == 2
    assert policy["data"]["institution"] == "jsqi"
    assert policy["data"]["changed"] == ["referral_accept_days"]
    assert policy["data"]["limits"]["referral_accept_days"] == 3
    assert "reason" not in policy["data"]
    assert carries_none_of(policy, POLICY_REASON, "马丽华")

    # its consumers keep the version (v2 accepted, not parked): they never
    # needed the reason
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    for kind in (ReferralApplication, ComplaintsApplication, EvaluationApplication):
        app = kind()
        try:
            support.wait_for(
                lambda app=app: app.policy_at("jsqi", now)["version"] == 1,
                timeout=15,
            )
        finally:
            app.close()
    parked = gateway.get("/api/v1/ops/parked-messages", "ops").json()["services"]
    for consumer in ("referral", "complaints", "evaluation"):
        assert parked[consumer] == [], parked[consumer]
