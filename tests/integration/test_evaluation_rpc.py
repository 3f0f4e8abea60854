"""Evaluation over real RabbitMQ beside intake: a resolved demand's survey
arrives through intake's outbox, the applicant rates it with the progress code
(checked by intake's RPC), a partner's completed referral issues its own
survey, and the manager signs off a printable summary."""

import base64
import io
from datetime import UTC, datetime, timedelta

import pytest
from nameko.standalone.rpc import ClusterRpcProxy
from pypdf import PdfReader
from sqlalchemy import select

from services.catalog.service import CatalogService
from services.evaluation import tables
from services.evaluation.rules import DIMENSIONS
from services.evaluation.service import EvaluationService
from services.intake.service import IntakeService
from shared import rpc  # noqa: F401 - registers our errors for deserialisation
from shared.amqp import ConfirmingPublisher
from shared.envelope import Envelope
from shared.errors import NotFound, ValidationFailed
from shared.topology import event_exchange
from tests import support

FORM = {
    "applicant": "扬州某玩具有限公司",
    "contact_phone": "0514-87651234",
    "service_item_code": "6.3.1",
    "description": "玩具安全性能检测",
    "channel": "window",
}


def as_role(actor_id: str, role: str) -> dict:
    return {
        "actor": {"id": actor_id, "role": role, "institution": "jsqi"},
        "channel": "window",
    }


@pytest.fixture
def cluster(databases, runner_factory, clean_broker):
    # intake asks catalog whether a registered item exists
    runner_factory(IntakeService, EvaluationService, CatalogService)
    with ClusterRpcProxy({"AMQP_URI": clean_broker}, timeout=20) as proxy:
        yield proxy


def rating(overall: str, comments: str = "") -> dict:
    dims = {key: overall for key in DIMENSIONS}
    return {"overall": overall, "dimensions": dims, "comments": comments}


def referral_completed(demand_id: str, position: int) -> Envelope:
    now = datetime.now(UTC).isoformat()
    referral_id = "5d2c0e1a-0000-4000-8000-000000000001"
    return Envelope(
        event_id=Envelope.event_id_for("referral", referral_id, 4),
        type="ReferralCompleted",
        schema_version=1,
        occurred_at=now,
        source="referral",
        position=position,
        aggregate_id=referral_id,
        aggregate_version=4,
        correlation_id=demand_id,
        causation_id="",
        actor={"id": "partner-1", "role": "institution_admin", "institution": "lab-x"},
        channel="internal",
        data={
            "referral_id": referral_id,
            "demand_id": demand_id,
            "item_code": "6.3.1",
            "institution_id": "lab-x",
            "sent_at": now,
            "accepted_at": now,
            "completed_at": now,
            "acceptance_due": now,
            "completion_due": now,
            "on_time": True,
            "report_no": "R-2026-001",
        },
    )


def test_a_resolved_demand_is_rated_by_its_applicant_over_rabbitmq(
    cluster, clean_broker
):
    staff = as_role("staff-a", "staff")
    demand = cluster.intake.register_demand(FORM, audit_data=staff)
    code, demand_id = demand["progress_code"], demand["id"]
    assert cluster.intake.demand_for_progress_code(code) == {"demand_id": demand_id}
    with pytest.raises(NotFound):
        cluster.intake.demand_for_progress_code("NOSUCHCODE")

    cluster.intake.take(demand_id, "staff-a", audit_data=staff)
    cluster.intake.decide(
        demand_id,
        "staff-a",
        "answered",
        {"answer": "可按GB 6675检测"},
        audit_data=staff,
    )
    (survey,) = support.wait_for(lambda: cluster.evaluation.surveys_for_code(code))
    assert survey["demand_id"] == demand_id and survey["staff_id"] == "staff-a"
    assert survey["institution_id"] == "jsqi"

    other = cluster.intake.register_demand(FORM, audit_data=staff)
    with pytest.raises(ValidationFailed) as caught:
        cluster.evaluation.rate(survey["id"], other["progress_code"], rating("满意"))
    assert caught.value.errors[0]["field"] == "code"

    rated = cluster.evaluation.rate(survey["id"], code, rating("不满意", "答复太简单"))
    assert rated["status"] == "rated" and len(rated["follow_up"]) == 2
    with pytest.raises(ValidationFailed) as caught:
        cluster.evaluation.rate(survey["id"], code, rating("满意"))
    assert caught.value.errors[0]["field"] == "status"

    record = support.wait_for(
        lambda: (
            (r := cluster.evaluation.records_for_demand(demand_id))["case"]
            and r["case"]["first_taker"]
            and r
        )
    )
    assert record["case"]["institution_id"] == "jsqi"
    assert record["case"]["outcome"] == "answered"
    assert record["opinions"][0]["comments"] == "答复太简单"
    (call_back,) = cluster.evaluation.call_backs("jsqi")
    assert call_back["survey_id"] == survey["id"]
    (item,) = cluster.evaluation.improvements("jsqi", "open")
    planned = cluster.evaluation.change_improvement(
        item["item_id"],
        "plan",
        {
            "owner": "staff-a",
            "actions": ["答复附检测标准条款"],
            "deadline": "2027-01-15",
        },
        audit_data=as_role("manager-1", "manager"),
    )
    assert planned["owner"] == "staff-a" and planned["deadline"].startswith(
        "2027-01-15"
    )

    # a partner's completed referral: its own survey for the same applicant
    publisher = ConfirmingPublisher(clean_broker)
    try:
        publisher.publish_batch(
            event_exchange("referral").name,
            [("ReferralCompleted", support.signed(referral_completed(demand_id, 1)))],
        )
    finally:
        publisher.close()

    def both_surveys():
        found = cluster.evaluation.surveys_for_code(code)
        return found if len(found) == 2 else None

    surveys = support.wait_for(both_surveys)
    partner = next(s for s in surveys if s["source"] == "referral")
    assert partner["institution_id"] == "lab-x" and partner["staff_id"] == "staff-a"


def test_a_manager_signs_off_a_printable_half_year_summary(cluster):
    staff = as_role("staff-a", "staff")
    demand = cluster.intake.register_demand(FORM, audit_data=staff)
    support.wait_for(
        lambda: (cluster.evaluation.records_for_demand(demand["id"])["case"] or {}).get(
            "registered_at"
        )
    )
    today = datetime.now(UTC) + timedelta(hours=8)
    half = 1 if today.month <= 6 else 2
    manager = as_role("manager-1", "manager")
    summary = cluster.evaluation.draft_half_year(
        "jsqi", today.year, half, audit_data=manager
    )
    assert summary["figures"]["demands"]["by_channel"] == {"window": 1}
    with pytest.raises(ValidationFailed) as caught:
        cluster.evaluation.sign_off_half_year(summary["id"], "同意", audit_data=staff)
    assert caught.value.errors[0]["field"] == "role"
    signed = cluster.evaluation.sign_off_half_year(
        summary["id"], "同意", audit_data=manager
    )
    assert signed["signed_off"] == {"manager": "manager-1", "note": "同意"}
    html = cluster.evaluation.half_year_html(summary["id"])
    assert "一站式服务工作总结" in html and "签发人：manager-1" in html
    pdf = base64.b64decode(cluster.evaluation.half_year_pdf(summary["id"]))
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "登记需求数" in text and "签发人：manager-1" in text


def test_a_duplicate_is_ignored_and_a_bad_fact_parked_over_rabbitmq(
    databases, runner_factory, clean_broker
):
    from shared.metrics import for_service
    from shared.parking import PARKED, ParkingLot
    from shared.providers import application_of

    runner = runner_factory(EvaluationService)
    app = application_of(support.container_of(runner, "evaluation"))
    demand_id = "4c1f0d2e-0000-4000-8000-0000000000e1"
    now = datetime.now(UTC).isoformat()
    good = Envelope(
        event_id=Envelope.event_id_for("intake", demand_id, 5),
        type="DemandResolved",
        schema_version=1,
        occurred_at=now,
        source="intake",
        position=7,
        aggregate_id=demand_id,
        aggregate_version=5,
        correlation_id=demand_id,
        causation_id="",
        actor={"id": "staff-a", "role": "staff", "institution": "jsqi"},
        channel="window",
        data={
            "demand_id": demand_id,
            "outcome": "in_house",
            "resolved_by": "staff-a",
            "resolved_at": now,
        },
    )
    bad = Envelope.from_dict(
        {
            **good.to_dict(),
            "event_id": Envelope.event_id_for("intake", demand_id, 6),
            "position": 8,
            "aggregate_version": 6,
            "data": {**good.data, "resolved_at": "yesterday"},
        }
    )
    duplicates = for_service("evaluation").duplicates.labels(
        source="intake", event_type="DemandResolved"
    )
    before = duplicates._value.get()
    publisher = ConfirmingPublisher(clean_broker)
    try:
        publisher.publish_batch(
            event_exchange("intake").name,
            [("DemandResolved", support.signed(e)) for e in (good, good, bad)],
        )
    finally:
        publisher.close()
    lot = ParkingLot(app.kernel)
    (parked,) = support.wait_for(lambda: lot.list(PARKED))
    assert parked["event_id"] == bad.event_id and "ended_at" in parked["error"]
    support.wait_for(lambda: duplicates._value.get() == before + 1)
    app.view.catch_up()
    surveys = app.kernel.query(select(tables.surveys.c.survey_id))
    assert len(surveys) == 1
