"""One case, several services: the history a regulator reads (audit contract)."""

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.catalog.service import CatalogService
from services.complaints.service import ComplaintsService
from services.intake.service import IntakeService
from services.referral.service import ReferralService
from shared import rpc  # noqa: F401 - registers our errors for deserialisation
from shared.case_history import merge_timelines
from tests import support

STAFF = {
    "actor": {"id": "staff-a", "role": "staff", "institution": "jsqi"},
    "channel": "window",
}


@pytest.fixture
def cluster(databases, runner_factory, clean_broker):
    runner_factory(IntakeService, ReferralService, ComplaintsService, CatalogService)
    with ClusterRpcProxy({"AMQP_URI": clean_broker}, timeout=20) as proxies:
        yield proxies


def test_a_linked_complaint_appears_in_the_demands_case_history(cluster):
    demand = cluster.intake.register_demand(
        {
            "applicant": "镇江某阀门有限公司",
            "contact_phone": "0511-85551234",
            "service_item_code": "6.3.1",
            "description": "阀门密封性能检测",
            "channel": "window",
        },
        audit_data=STAFF,
    )
    case = demand["id"]
    cluster.intake.take(case, "staff-a", audit_data=STAFF)
    checks = {"capability": True, "method": True, "cycle": True, "fee": True}
    cluster.intake.review_contract(case, "staff-a", checks, audit_data=STAFF)
    cluster.intake.decide(case, "staff-a", "referred", audit_data=STAFF)
    support.wait_for(lambda: cluster.referral.case_events(case))
    cluster.complaints.receive(
        {
            "channel": "phone",
            "anonymous": True,
            "description": "检测周期超出承诺",
            "remedy_requested": "尽快出具报告",
            "received_at": "2026-11-26T10:00:00+08:00",
            # 9.4: a complaint names its case by the customer's code; the
            # case's links are looked up, never taken from the form
            "progress_code": demand["progress_code"],
        }
    )

    timeline = merge_timelines(
        cluster.intake.case_events(case),
        cluster.referral.case_events(case),
        cluster.complaints.case_events(case),
        cluster.catalog.case_events(case),
    )
    seen = [(e["service"], e["event"]) for e in timeline]
    assert ("intake", "Demand.Registered") in seen
    assert ("intake", "Demand.Taken") in seen
    assert ("referral", "Referral.Requested") in seen
    assert ("complaints", "Complaint.Received") in seen
    assert [e["at"] for e in timeline] == sorted(e["at"] for e in timeline)
    registered = next(e for e in timeline if e["event"] == "Demand.Registered")
    assert registered["actor"]["id"] == "staff-a" and registered["channel"] == "window"
    requested = next(e for e in timeline if e["event"] == "Referral.Requested")
    assert requested["causation_id"]  # caused by the published DemandReferred
