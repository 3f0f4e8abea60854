"""A demand's samples in custody (7.4.4), on SQLite and on PostgreSQL.

The chain of custody survives a reload with its order and conditions, and the
hash chain is intact. Two service instances hand the same sample over at the
same moment: both load the same version, one save conflicts, and its retry on
fresh state is refused because the sample has already left its holder.
"""

import threading
from datetime import date, datetime, timedelta, timezone
from uuid import uuid4

import eventlet
import pytest

from services.intake import custody
from services.intake.custody import CUSTOMER, SampleCustody
from services.intake.domain import Demand
from services.intake.registration import RegistrationForm
from shared.errors import NotFound, ValidationFailed
from tests import support

CST = timezone(timedelta(hours=8))
FORM = RegistrationForm.parse(
    {
        "applicant": "泰州某电线电缆有限公司",
        "contact_phone": "13800001111",
        "service_item_code": "6.3.1",
        "description": "电线电缆检测",
        "channel": "window",
    }
)


def at(hour: float) -> datetime:
    return datetime(2025, 3, 3, tzinfo=CST) + timedelta(hours=hour)


IntakeTestApplication = support.racing_application("intake")


@pytest.fixture
def instances(databases):
    apps = [IntakeTestApplication(), IntakeTestApplication()]
    yield apps
    for app in apps:
        app.close()


@pytest.fixture
def demand_id(instances):
    demand = Demand.register(FORM)
    instances[0].save(demand)
    return demand.id


def reloaded(demand_id) -> tuple[SampleCustody, tuple]:
    fresh = IntakeTestApplication()
    try:
        stored = fresh.repository.get(SampleCustody.create_id(demand_id))
        return stored, fresh.verify_all()
    finally:
        fresh.close()


def test_the_chain_of_custody_survives_a_reload(instances, demand_id):
    app = instances[0]
    opened = custody.custody_for(app, demand_id)
    assert opened.id == SampleCustody.create_id(demand_id) and opened.version == 1
    assert custody.custody_for(app, str(demand_id)).version == 1  # loaded, not new
    custody.request_visit(
        app,
        demand_id,
        "pickup",
        "泰州市海陵区",
        date(2025, 3, 4),
        "王工",
        "13800001111",
    )
    custody.register_sample(app, demand_id, "S1", "电线电缆 1.5mm²", 3, "完好")
    custody.register_sample(
        app, demand_id, "S2", "电线电缆 2.5mm²", 1, "受潮", "外包装潮湿"
    )
    custody.hand_over(
        app, demand_id, ["S1", "S2"], CUSTOMER, "staff-a", at(9), "受理大厅", "完好"
    )
    custody.hand_over(
        app,
        demand_id,
        ["S1"],
        "staff-a",
        "tech-1",
        at(10),
        "样品间",
        "破损",
        "运输中磕碰",
    )
    custody.deliver_report(
        app, demand_id, "R-001", "email", "staff-a", at(50), email="qa@example.cn"
    )

    stored, (streams, breaks) = reloaded(demand_id)
    chain = stored.custody_chain("S1")
    assert [(e["from_party"], e["to_party"]) for e in chain] == [
        (CUSTOMER, "staff-a"),
        ("staff-a", "tech-1"),
    ]
    assert [e["condition"] for e in chain] == ["完好", "破损"]
    assert [e["at"] for e in chain] == [at(9), at(10)]
    assert chain[1]["note"] == "运输中磕碰" and chain[0]["samples"] == ["S1", "S2"]
    assert stored.samples["S1"]["holder"] == "tech-1"
    assert stored.samples["S2"]["holder"] == "staff-a"
    assert stored.visits[0]["preferred_date"] == date(2025, 3, 4)
    assert stored.deliveries["R-001"][0]["fee"] == 0
    assert (streams, breaks) == (2, [])  # the demand and its custody record


def test_a_refused_command_stores_nothing(instances, demand_id):
    app = instances[0]
    custody.register_sample(app, demand_id, "S1", "样品", 1, "完好")
    with pytest.raises(ValidationFailed) as caught:
        custody.hand_over(
            app, demand_id, ["S1"], CUSTOMER, CUSTOMER, at(9), "大厅", "完好"
        )
    assert caught.value.errors[0]["field"] == "to_party"
    stored, _ = reloaded(demand_id)
    assert stored.version == 2 and stored.custody_chain("S1") == []


def test_custody_needs_a_registered_demand(instances):
    with pytest.raises(NotFound):
        custody.custody_for(instances[0], uuid4())


def test_of_two_concurrent_hand_overs_of_a_sample_exactly_one_succeeds(
    instances, demand_id
):
    custody.register_sample(instances[0], demand_id, "S1", "样品", 1, "完好")
    custody.hand_over(
        instances[0], demand_id, ["S1"], CUSTOMER, "staff-a", at(9), "大厅", "完好"
    )
    barrier = threading.Barrier(2)
    for app in instances:
        app.barrier = barrier

    def attempt(app, receiver):
        try:
            return custody.hand_over(
                app, demand_id, ["S1"], "staff-a", receiver, at(10), "样品间", "完好"
            )
        except ValidationFailed as refused:
            return refused

    threads = [
        eventlet.spawn(attempt, app, receiver)
        for app, receiver in zip(instances, ["tech-1", "tech-2"], strict=True)
    ]
    outcomes = [thread.wait() for thread in threads]

    won = [o for o in outcomes if isinstance(o, dict)]
    lost = [o for o in outcomes if isinstance(o, ValidationFailed)]
    assert len(won) == 1 and len(lost) == 1, outcomes
    assert lost[0].errors[0]["field"] == "from_party"
    assert won[0]["to_party"] in lost[0].errors[0]["message"]
    assert sum(app.conflicts for app in instances) == 1  # the retry path ran
    stored, (streams, breaks) = reloaded(demand_id)
    assert [e["to_party"] for e in stored.custody_chain("S1")] == [
        "staff-a",
        won[0]["to_party"],
    ]
    assert stored.samples["S1"]["holder"] == won[0]["to_party"]
    assert (streams, breaks) == (2, [])


@pytest.mark.parametrize("backend", ["postgres"])
def test_over_rpc_times_travel_as_iso_text_and_answers_are_plain_json(
    databases, runner_factory, clean_broker
):
    """As the gateway calls them: ISO text in, JSON-ready dicts out."""
    from nameko.standalone.rpc import ClusterRpcProxy

    from services.catalog.service import CatalogService
    from services.intake.service import IntakeService
    from shared import rpc  # noqa: F401 - registers our errors for deserialisation

    # intake asks catalog whether a registered item exists
    runner_factory(IntakeService, CatalogService)
    form = {**FORM.as_event_fields(), "channel": "window"}
    with ClusterRpcProxy({"AMQP_URI": clean_broker}, timeout=20) as cluster:
        intake = cluster.intake
        demand_id = intake.register_demand(form)["id"]
        assert intake.custody(demand_id)["samples"] == []  # reading opens nothing
        visit = intake.request_visit(
            demand_id, "pickup", "泰州市海陵区", "2025-03-04", "王工", "13800001111"
        )
        assert visit["preferred_date"] == "2025-03-04"
        intake.register_sample(demand_id, "S1", "电线电缆", 2, "完好", courier="李师傅")
        moved = intake.hand_over_samples(
            demand_id, ["S1"], "李师傅", "staff-a", at(9).isoformat(), "大厅", "完好"
        )
        assert moved["at"] == at(9).isoformat()
        with pytest.raises(ValidationFailed) as caught:
            intake.return_samples(demand_id, ["S1"], "staff-a", "昨天", "大厅", "完好")
        assert caught.value.errors[0]["field"] == "at"
        intake.deliver_report(
            demand_id, "R-1", "download", "staff-a", at(30), reason=None
        )
        shown = intake.custody(demand_id)
        assert shown["samples"][0]["holder"] == "staff-a"
        assert [m["to_party"] for m in shown["movements"]] == ["staff-a"]
        assert shown["deliveries"][0]["at"] == at(30).isoformat()
        chain = intake.sample_chain(demand_id, "S1")
        assert chain["sample"]["movements"] == 1 and len(chain["chain"]) == 1
        with pytest.raises(NotFound):
            intake.sample_chain(demand_id, "S9")

        plan = intake.draft_visit_plan("jsqi", "2025-Q1")
        planned = intake.plan_visit(plan["id"], "泰州某厂", "泰州市", "2025-03-02", "w")
        visit_id = planned["result"]
        record = {
            "visited_on": "2025-03-02",
            "met": {"name": "张三", "position": "厂长"},
            "findings": "需要检测",
            "demands": [form],
        }
        recorded = intake.record_visit(plan["id"], visit_id, record, "w", "2025-03-03")
        assert recorded["result"]["status"] == "recorded"
        assert intake.visit_plan(plan["id"], "2025-03-03")["completion_rate"] == 1.0
        with pytest.raises(ValidationFailed) as caught:
            intake.visit_plan(plan["id"], "明天")
        assert caught.value.errors[0]["field"] == "today"
