"""Referral over nameko RPC and real RabbitMQ, with intake and catalog running:
the closed loop from a referral decision to the first responder's feedback."""

from datetime import datetime, timedelta

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.catalog.service import CatalogService
from services.intake.service import IntakeService
from services.referral.domain import Referral
from services.referral.service import ReferralService
from shared import rpc  # noqa: F401 - registers our errors for deserialisation
from shared.case_history import merge_timelines
from shared.errors import NotFound, ValidationFailed
from tests import support

STAFF = {
    "actor": {"id": "staff-a", "role": "staff", "institution": "jsqi"},
    "channel": "window",
}
ADMIN = {"actor": {"id": "admin-1", "role": "manager", "institution": "jsqi"}}
PASSED = {"capability": True, "method": True, "cycle": True, "fee": True}
REPORT = {
    "report_no": "JSQI-2026-0288",
    "issued_on": "2026-01-05",
    "sha256": "9c" * 32,
}


def lab_staff(lab: dict) -> dict:
    return {
        "actor": {
            "id": f"clerk-{lab['code'][-1]}",
            "role": "staff",
            "institution": lab["id"],
        },
        "channel": "web",
    }


@pytest.fixture
def cluster(databases, runner_factory, clean_broker):
    runner_factory(IntakeService, ReferralService, CatalogService)
    with ClusterRpcProxy({"AMQP_URI": clean_broker}, timeout=20) as proxies:
        yield proxies


def register_labs(cluster) -> dict:
    labs = {}
    for key in ("A", "B"):
        lab = cluster.catalog.register_institution(
            {"code": f"91320000LAB0000{key}9", "name": f"{key}检测中心", "kind": "lab"},
            audit_data=ADMIN,
        )
        cluster.catalog.grant_qualification(
            lab["id"],
            {
                "kind": "CMA",
                "cert_no": f"CMA-{key}",
                "scope_codes": ["6.3.1"],
                "valid_from": "2026-01-01",
                "valid_to": "2027-12-31",
            },
            audit_data=ADMIN,
        )
        labs[key] = lab
    return labs


def referred_demand(cluster) -> tuple[str, str]:
    demand = cluster.intake.register_demand(
        {
            "applicant": "常州某阀门有限公司",
            "contact_phone": "0519-86661234",
            "service_item_code": "6.3.1",
            "description": "球阀壳体强度试验",
            "channel": "window",
        },
        audit_data=STAFF,
    )
    case = demand["id"]
    cluster.intake.take(case, "staff-a", audit_data=STAFF)
    cluster.intake.review_contract(case, "staff-a", PASSED, audit_data=STAFF)
    cluster.intake.decide(case, "staff-a", "referred", audit_data=STAFF)
    referral_id = str(Referral.create_id(case, "6.3.1"))
    support.wait_for(lambda: cluster.referral.referrals_for(case, ["6.3.1"]))
    return case, referral_id


def test_over_rpc_a_referral_closes_the_loop_to_the_first_responder(cluster):
    labs = register_labs(cluster)
    case, rid = referred_demand(cluster)
    (listed,) = cluster.referral.referrals_for(case, ["6.3.1"])
    assert listed["state"] == "matched" and listed["id"] == rid

    sent = cluster.referral.send(rid, audit_data=STAFF)
    assert sent["assignee"]["id"] == labs["A"]["id"]
    lab_a, lab_b = lab_staff(labs["A"]), lab_staff(labs["B"])
    assert [
        r["id"] for r in cluster.referral.inbox(labs["A"]["id"], audit_data=lab_a)
    ] == [rid]
    assert cluster.referral.inbox(labs["B"]["id"], audit_data=lab_b) == []
    with pytest.raises(NotFound):
        cluster.referral.referral(rid, audit_data=lab_b)
    with pytest.raises(ValidationFailed) as caught:
        cluster.referral.inbox(labs["A"]["id"], audit_data=lab_b)
    assert caught.value.errors[0]["field"] == "institution_id"

    cluster.referral.accept(rid, audit_data=lab_a)
    cluster.referral.report_progress(rid, "testing", audit_data=lab_a)
    done = cluster.referral.complete(rid, REPORT, audit_data=lab_a)
    code = done["report"]["verification_code"]
    assert cluster.referral.verify_report(code)["status"] == "valid"
    cluster.referral.deliver_feedback(rid, "强度试验合格，报告已出具", audit_data=lab_a)

    feedback = support.wait_for(
        lambda: cluster.intake.get_demand(case)["referral_feedback"]
    )
    assert feedback[0]["report_no"] == "JSQI-2026-0288"
    assert feedback[0]["for_staff"] == "staff-a" and feedback[0]["on_time"] is True

    timeline = merge_timelines(
        cluster.intake.case_events(case), cluster.referral.case_events(case)
    )
    steps = [e["event"] for e in timeline]
    for step in (
        "Demand.Decided",
        "Referral.Requested",
        "Referral.Matched",
        "Referral.Sent",
        "Referral.Accepted",
        "Referral.ProgressReported",
        "Referral.Completed",
        "Referral.FeedbackDelivered",
        "Demand.ReferralFeedbackReceived",
    ):
        assert step in steps, step
    actors = {e["event"]: e["actor"] for e in timeline}
    assert actors["Referral.Sent"]["institution"] == "jsqi"
    assert actors["Referral.Completed"]["institution"] == labs["A"]["id"]
    assert actors["Referral.Requested"]["id"] == "service:referral"


def test_over_rpc_each_acceptance_deadline_escalates_once_and_re_routes(cluster):
    labs = register_labs(cluster)
    case, rid = referred_demand(cluster)
    due = datetime.fromisoformat(
        cluster.referral.send(rid, audit_data=STAFF)["acceptance_due"]
    )
    late = (due + timedelta(minutes=1)).isoformat()
    assert cluster.referral.escalate_all_overdue(late) == {rid: ["acceptance"]}
    now = cluster.referral.referral(rid, audit_data=STAFF)
    assert now["assignee"]["id"] == labs["B"]["id"] and now["state"] == "sent"
    assert now["returns"][0]["timed_out"] is True
    # B's own acceptance deadline (sent now, due the same day) has passed too
    assert cluster.referral.escalate_all_overdue(late) == {rid: ["acceptance"]}
    assert cluster.referral.escalate_all_overdue(late) == {}
    now = cluster.referral.referral(rid, audit_data=STAFF)
    assert now["state"] == "returned" and len(now["escalated"]) == 3
    assert now["escalated"][-1] == "routing@2"  # no candidate left: rule it
    with pytest.raises(ValidationFailed) as caught:
        cluster.referral.escalate_all_overdue("not a time")
    assert caught.value.errors[0]["field"] == "now"
