"""4.1 at every step and for every way a service is delivered, over HTTP:
in-house service needs the institution's own valid qualification for the
item; a referral is sent, signed for, progressed and completed only while its
partner's qualification is valid that day (409, nothing stored); a manager
re-routes a suspended partner's referral, or rules when no one is left.

Services run in this process on the real RabbitMQ, stores on PostgreSQL.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from services.catalog.domain import Institution
from tests import support
from tests.integration import test_gateway_access as access_tests
from tests.integration.test_gateway_efficiency import settled_events

backend = access_tests.backend
gateway = access_tests.gateway

CHECKS = dict.fromkeys(("capability", "method", "cycle", "fee"), True)
REPORT = {
    "report_no": "JSQI-2026-4101",
    "issued_on": "",
    "sha256": "4a" * 32,
    "conclusion": "所检项目符合要求",
}


def today() -> str:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()


def change_status(gateway, lab_id: str, cert_no: str, action: str) -> None:
    answer = gateway.post(
        f"/api/v1/catalog/institutions/{lab_id}/qualifications/{cert_no}/status",
        {"action": action, "effective_on": today(), "reason": "监督检查发现问题"},
        "admin",
    )
    assert answer.status_code == 200, answer.text


def ready_demand(gateway) -> str:
    """A demand filed online, taken by wang, its contract reviewed."""
    demand_id = gateway.post("/api/v1/demands", access_tests.ONLINE_FORM).json()["id"]
    path = f"/api/v1/demands/{demand_id}"
    assert gateway.post(f"{path}/take", who="wang").status_code == 200
    reviewed = gateway.post(f"{path}/contract-review", {"checks": CHECKS}, "wang")
    assert reviewed.status_code == 200, reviewed.text
    return demand_id


def test_the_front_door_serves_in_house_only_what_it_is_qualified_for(gateway):
    demand_id = ready_demand(gateway)
    path = f"/api/v1/demands/{demand_id}"
    in_house = {"outcome": "in_house", "details": {"department": "电器检测部"}}
    before = settled_events(gateway, "intake")
    refused = gateway.post(f"{path}/decision", in_house, "wang")
    assert refused.status_code == 409, refused.text
    assert "6.3.1" in refused.json()["detail"] and "4.1" in refused.json()["detail"]
    assert gateway.get(path, "wang").json()["status"] == "registered"
    assert settled_events(gateway, "intake") == before

    front_door = {"id": str(Institution.create_id("jsqi"))}  # a catalog institution
    granted = gateway.post(
        f"/api/v1/catalog/institutions/{front_door['id']}/qualifications",
        {
            "kind": "CMA",
            "cert_no": "CMA-JSQI-1",
            "scope_codes": ["6.3"],
            "valid_from": "2026-01-01",
            "valid_to": "2030-12-31",
        },
        "admin",
    )
    assert granted.status_code == 201, granted.text
    served = gateway.post(f"{path}/decision", in_house, "wang")
    assert served.status_code == 200, served.text
    assert served.json()["status"] == "in_service"

    # suspended today: the next demand may no longer be served in-house
    change_status(gateway, front_door["id"], "CMA-JSQI-1", "suspend")
    second = f"/api/v1/demands/{ready_demand(gateway)}"
    assert gateway.post(f"{second}/decision", in_house, "wang").status_code == 409


def test_a_referral_moves_only_while_its_partner_is_qualified_that_day(gateway):
    lab_a = access_tests.lab_with_partner(gateway, "qa")
    demand_id = ready_demand(gateway)
    path = f"/api/v1/demands/{demand_id}"
    decided = gateway.post(f"{path}/decision", {"outcome": "referred"}, "wang")
    assert decided.status_code == 200, decided.text
    (opened,) = support.wait_for(
        lambda: gateway.get(path, "wang").json()["referrals"], timeout=15
    )
    referral = f"/api/v1/referrals/{opened['id']}"
    matched = gateway.get(referral, "wang").json()
    assert (matched["state"], matched["assignee"]["id"]) == ("matched", lab_a)

    # matched while qualified, suspended before it is sent: not sent (4.1)
    change_status(gateway, lab_a, "CMA-qa", "suspend")
    support.wait_for(lambda: gateway.get(referral, "wang").json()["flags"], 15)
    before = settled_events(gateway, "referral")
    refused = gateway.post(f"{referral}/sending", who="wang")
    assert refused.status_code == 409, refused.text
    assert "4.1" in refused.json()["detail"]
    assert gateway.get(referral, "wang").json()["state"] == "matched"
    assert settled_events(gateway, "referral") == before

    # the manager re-routes it to the next qualified partner, which signs for it
    lab_b = access_tests.lab_with_partner(gateway, "qb")
    reason = {"reason": "原承接机构资质暂停"}
    assert (
        gateway.post(f"{referral}/qualification-rerouting", reason, "wang").status_code
        == 403
    )
    rerouted = gateway.post(f"{referral}/qualification-rerouting", reason, "zhao")
    assert rerouted.status_code == 200, rerouted.text
    assert (rerouted.json()["state"], rerouted.json()["assignee"]["id"]) == (
        "sent",
        lab_b,
    )
    accepted = gateway.post(f"{referral}/acceptance", who="qb.clerk")
    assert accepted.status_code == 200, accepted.text
    progress = {"stage": "testing"}
    assert gateway.post(f"{referral}/progress", progress, "qb.clerk").status_code == 200

    # suspended while it works: no progress, no completion, nothing stored
    change_status(gateway, lab_b, "CMA-qb", "suspend")
    before = settled_events(gateway, "referral")
    refused = gateway.post(f"{referral}/progress", progress, "qb.clerk")
    assert refused.status_code == 409, refused.text
    report = {"report": {**REPORT, "issued_on": today()}}
    refused = gateway.post(f"{referral}/completion", report, "qb.clerk")
    assert refused.status_code == 409, refused.text
    assert gateway.get(referral, "wang").json()["state"] == "in_progress"
    assert settled_events(gateway, "referral") == before

    # nobody qualified is left: the manager is asked to rule, and rules the
    # first partner once it is reinstated; that one may sign for it again
    rerouted = gateway.post(f"{referral}/qualification-rerouting", reason, "zhao")
    assert rerouted.status_code == 200, rerouted.text
    assert rerouted.json()["state"] == "returned"
    ruling = {"institution_id": lab_a, "reason": "恢复资质后裁定承办"}
    refused = gateway.post(f"{referral}/ruling", ruling, "zhao")
    assert refused.status_code == 400, refused.text  # still suspended
    change_status(gateway, lab_a, "CMA-qa", "reinstate")
    ruled = gateway.post(f"{referral}/ruling", ruling, "zhao")
    assert ruled.status_code == 200, ruled.text
    assert (ruled.json()["state"], ruled.json()["assignee"]["id"]) == ("sent", lab_a)
    assert gateway.post(f"{referral}/acceptance", who="qa.clerk").status_code == 200


def test_a_partner_suspended_after_sending_cannot_sign_for_it(gateway):
    lab = access_tests.lab_with_partner(gateway, "qc")
    demand_id = gateway.post("/api/v1/demands", access_tests.ONLINE_FORM).json()["id"]
    referral_id = access_tests.refer_and_send(gateway, demand_id)
    referral = f"/api/v1/referrals/{referral_id}"
    change_status(gateway, lab, "CMA-qc", "suspend")
    refused = gateway.post(f"{referral}/acceptance", who="qc.clerk")
    assert refused.status_code == 409, refused.text
    assert gateway.get(referral, "wang").json()["state"] == "sent"
    again = gateway.post(f"{referral}/qualification-rerouting", {"reason": "x"}, "zhao")
    assert again.status_code == 200 and again.json()["state"] == "returned"
