"""Intake's convenience services over HTTP (7.4.4, 8.2.2): a visit requested,
samples registered and handed along their chain of custody, returned and
disposed of, a report delivered, and a visit plan worked to a recorded visit
that registers a demand. Only the demand's (or plan's) institution writes; the
regulator reads, masked; everyone else is refused and nothing is stored.

Services run in this process on the real RabbitMQ, stores on PostgreSQL.
"""

from datetime import datetime, timedelta, timezone

from tests.integration import test_gateway_access as access_tests
from tests.integration.test_gateway_efficiency import OUTSIDERS, settled_events

# the fixtures of the access tests: the same services, accounts and client
backend = access_tests.backend
gateway = access_tests.gateway

BEIJING = timezone(timedelta(hours=8))
PICKUP = {
    "kind": "pickup",
    "address": "苏州市工业园区某路8号",
    "preferred_date": "2026-03-04",
    "contact": "刘洋",
    "phone": "13812345678",
}
MORNING = "2026-03-05T09:00:00+08:00"


def test_no_route_module_shadows_another_ones_handler():
    """The gateway is one class of mixins: a name defined twice would silently
    serve only the first one's route."""
    from services.gateway.service import GatewayService

    seen: dict[str, str] = {}
    for mixin in GatewayService.__mro__:
        for name in vars(mixin):
            if name.startswith("__"):
                continue
            assert name not in seen, (name, mixin.__name__, seen.get(name))
            seen[name] = mixin.__name__


def filed(gateway) -> str:
    """A demand filed online; jsqi, the front door, receives it."""
    answer = gateway.post("/api/v1/demands", access_tests.ONLINE_FORM)
    assert answer.status_code == 201, answer.text
    return f"/api/v1/demands/{answer.json()['id']}"


def at(hour: int) -> str:
    return datetime(2026, 3, 5, hour, tzinfo=BEIJING).isoformat()


def today() -> str:
    return datetime.now(BEIJING).date().isoformat()


def test_samples_travel_a_chain_of_custody_and_a_report_is_delivered(gateway):
    demand = filed(gateway)
    key = {"Idempotency-Key": "visit-2026-03-04-1"}
    visit = gateway.post(f"{demand}/visits", PICKUP, "wang", headers=key)
    assert visit.status_code == 201, visit.text
    assert visit.json()["preferred_date"] == "2026-03-04"
    retried = gateway.post(f"{demand}/visits", PICKUP, "wang", headers=key)
    assert retried.json() == visit.json()  # the first answer, one visit stored
    # the generic demand commands still answer beside these static paths
    assert gateway.post(f"{demand}/take", who="wang").json()["owner"] == "wang"

    for body in (
        {"sample_id": "S1", "description": "电子玩具", "quantity": 3},
        {"sample_id": "S2", "description": "包装", "quantity": 1},
    ):
        body.update(condition="完好", courier="李师傅")
        registered = gateway.post(f"{demand}/samples", body, "wang")
        assert registered.status_code == 201, registered.text  # not the generic 404
    assert registered.json()["holder"] == "李师傅"

    def move(kind: str, body: dict, who="wang"):
        return gateway.post(f"{demand}/samples/{kind}", body, who)

    first = {"sample_ids": ["S1", "S2"], "from_party": "李师傅", "to_party": "wang"}
    first.update(place="受理大厅", condition="完好", at=at(9))
    assert move("handovers", first).status_code == 201
    twice = move("handovers", {**first, "to_party": "liqiang", "at": at(10)})
    assert twice.status_code == 400  # the courier no longer holds them
    assert twice.json()["errors"][0]["field"] == "from_party"
    to_lab = {"sample_ids": ["S1"], "from_party": "wang", "to_party": "tech-1"}
    to_lab.update(place="样品间", condition="破损", note="外盒压痕", at=at(10))
    assert move("handovers", to_lab, "zhao").status_code == 201
    back = {"sample_ids": ["S1"], "from_party": "tech-1", "place": "受理大厅"}
    returned = move(
        "returns", {**back, "condition": "破损", "note": "检后", "at": at(15)}
    )
    assert returned.status_code == 201, returned.text
    assert returned.json()["to_party"] == "customer"
    disposal = {"sample_ids": ["S2"], "from_party": "wang", "place": "样品间"}
    disposed = move("disposals", {**disposal, "method": "按规定销毁", "at": at(16)})
    assert disposed.status_code == 201, disposed.text

    chain = gateway.get(f"{demand}/samples/S1", "liqiang").json()
    assert [(m["action"], m["to_party"]) for m in chain["chain"]] == [
        ("handed_over", "wang"),
        ("handed_over", "tech-1"),
        ("returned", "customer"),
    ]
    assert (
        chain["sample"]["state"] == "returned"
        and chain["sample"]["condition"] == "破损"
    )
    assert gateway.get(f"{demand}/samples/S9", "wang").status_code == 404

    by_email = {"report_no": "R-2026-001", "method": "email", "email": "qa@example.cn"}
    delivered = gateway.post(f"{demand}/report-deliveries", by_email, "wang")
    assert delivered.status_code == 201, delivered.text
    assert delivered.json()["by"] == "wang" and delivered.json()["fee"] == 0
    again = gateway.post(f"{demand}/report-deliveries", by_email, "wang")
    assert again.status_code == 400 and again.json()["errors"][0]["field"] == "reason"
    again = {
        **by_email,
        "method": "post",
        "address": "苏州市某路8号",
        "reason": "客户要纸质版",
    }
    assert gateway.post(f"{demand}/report-deliveries", again, "zhao").status_code == 201

    custody = gateway.get(f"{demand}/custody", "wang").json()
    assert len(custody["visits"]) == 1 and custody["visits"][0]["kind_label"]
    assert custody["visits"][0]["phone"] == PICKUP["phone"]
    assert {s["id"]: s["state"] for s in custody["samples"]} == {
        "S1": "returned",
        "S2": "disposed",
    }
    assert [m["action"] for m in custody["movements"]] == [
        "handed_over",
        "handed_over",
        "returned",
        "disposed",
    ]
    assert [d["method"] for d in custody["deliveries"]] == ["email", "post"]

    seen = gateway.get(f"{demand}/custody", "sun")  # the regulator: masked
    assert seen.status_code == 200
    text = seen.text
    for personal in (
        PICKUP["phone"],
        PICKUP["address"],
        "qa@example.cn",
        "苏州市某路8号",
    ):
        assert personal not in text, personal
    assert seen.json()["samples"] == custody["samples"]

    # the custody record is part of the case: who moved what, when
    case = gateway.get(f"/api/v1/audit/cases/{demand.rsplit('/', 1)[1]}", "sun")
    handed = [e for e in case.json()["timeline"] if e["event"].endswith("HandedOver")]
    assert [(e["actor"], e["institution"]) for e in handed] == [
        ("wang", "jsqi"),
        ("zhao", "jsqi"),
    ]
    assert case.json()["verification"]["passed"] is True


def test_a_visit_plan_is_drafted_worked_and_a_visit_registers_a_demand(gateway):
    year = today()[:4]
    drafted = gateway.post(
        "/api/v1/visit-plans", {"period": year, "institution_id": "nj-lab"}, "zhao"
    )
    assert drafted.status_code == 201, drafted.text
    plan = drafted.json()
    assert plan["institution_id"] == "jsqi"  # the caller's, not the body's
    path = f"/api/v1/visit-plans/{plan['id']}"
    assert drafted.headers["Location"] == path
    repeated = gateway.post("/api/v1/visit-plans", {"period": year}, "wang")
    assert repeated.status_code == 400
    assert repeated.json()["errors"][0]["field"] == "period"

    company = {
        "company": "苏州某电子有限公司",
        "address": "苏州市",
        "planned_on": today(),
    }
    elsewhere = gateway.post(f"{path}/visits", {**company, "staff_id": "other"}, "zhao")
    assert elsewhere.status_code == 400
    assert elsewhere.json()["errors"][0]["field"] == "staff_id"
    planned = [
        gateway.post(f"{path}/visits", {**company, "staff_id": "wang"}, "zhao"),
        gateway.post(f"{path}/visits", company, "liqiang"),  # the caller visits
        gateway.post(f"{path}/visits", company, "wang"),
    ]
    assert [p.status_code for p in planned] == [201] * 3, planned[0].text
    assert [p.json()["result"] for p in planned] == ["V001", "V002", "V003"]
    assert planned[1].json()["visits"][1]["staff_id"] == "liqiang"

    later = f"{year}-12-31" if today() != f"{year}-12-31" else f"{year}-12-30"
    moved = gateway.post(
        f"{path}/visits/V002/reschedule",
        {"planned_on": later, "reason": "企业要求"},
        "wang",
    )
    assert moved.status_code == 200, moved.text
    cancelled = gateway.post(
        f"{path}/visits/V003/cancellation", {"reason": "企业已停产"}, "zhao"
    )
    assert cancelled.status_code == 200, cancelled.text

    demand = {k: v for k, v in access_tests.ONLINE_FORM.items() if k != "channel"}
    record = {
        "visited_on": today(),
        "met": {"name": "周建国", "position": "质量部经理"},
        "findings": "新产品出口，需要检测",
        "demands": [demand],
    }
    recorded = gateway.post(f"{path}/visits/V001/record", record, "wang")
    assert recorded.status_code == 200, recorded.text
    result = recorded.json()["result"]
    assert result["status"] == "recorded" and result["record"]["recorded_by"] == "wang"
    (demand_id,) = result["record"]["demand_ids"]
    registered = gateway.get(f"/api/v1/demands/{demand_id}", "liqiang").json()
    assert registered["channel"] == "visit" and registered["institution"] == "jsqi"
    once = gateway.post(f"{path}/visits/V001/record", record, "wang")
    assert once.status_code == 400 and once.json()["errors"][0]["field"] == "visit_id"

    report = gateway.get(path, "wang", params={"on": today()}).json()
    assert report["completion_rate"] == 0.5  # V001 of V001, V002 (V003 cancelled)
    assert [v["status"] for v in report["visits"]] == [
        "recorded",
        "planned",
        "cancelled",
    ]
    assert report["visits"][0]["record"]["met"]["name"] == "周建国"
    assert report["visits"][1]["changes"][0]["reason"] == "企业要求"
    masked = gateway.get(path, "sun").json()
    assert masked["visits"][0]["record"]["met"]["name"] != "周建国"
    assert masked["completion_rate"] == 0.5

    found = gateway.get("/api/v1/visit-plans", "liqiang", params={"period": year})
    assert found.json()["id"] == plan["id"]
    for who in ("other", "othermgr"):  # their institution has no plan: not ours
        elsewhere = gateway.get("/api/v1/visit-plans", who, params={"period": year})
        assert elsewhere.status_code == 404, elsewhere.text
    named = {"period": year, "institution": "jsqi"}
    regulated = gateway.get("/api/v1/visit-plans", "sun", params=named).json()
    assert regulated == masked
    unnamed = gateway.get("/api/v1/visit-plans", "sun", params={"period": year})
    assert unnamed.json()["errors"][0]["field"] == "institution"
    for who in ("ops", "chen", "admin", "cheng", None):
        refused = gateway.get("/api/v1/visit-plans", who, params=named)
        assert refused.status_code in (401, 403), (who, refused.text)


def test_no_outsider_reaches_custody_or_visit_plans(gateway):
    demand = filed(gateway)
    sample = {"sample_id": "S1", "description": "样品", "quantity": 1}
    kept = gateway.post(f"{demand}/samples", {**sample, "condition": "完好"}, "wang")
    assert kept.status_code == 201, kept.text
    plan = gateway.post("/api/v1/visit-plans", {"period": today()[:4]}, "zhao").json()
    path = f"/api/v1/visit-plans/{plan['id']}"
    company = {"company": "某厂", "address": "某地", "planned_on": today()}
    assert gateway.post(f"{path}/visits", company, "wang").status_code == 201
    movement = {"sample_ids": ["S1"], "from_party": "customer", "place": "大厅"}
    writes = [
        (f"{demand}/visits", PICKUP),
        (f"{demand}/samples", {**sample, "sample_id": "S2", "condition": "完好"}),
        (
            f"{demand}/samples/handovers",
            {**movement, "to_party": "x", "condition": "完好"},
        ),
        (f"{demand}/samples/returns", {**movement, "condition": "完好"}),
        (f"{demand}/samples/disposals", {**movement, "method": "销毁"}),
        (f"{demand}/report-deliveries", {"report_no": "R1", "method": "download"}),
        (f"{path}/visits", company),
        (f"{path}/visits/V001/reschedule", {"planned_on": today(), "reason": "x"}),
        (f"{path}/visits/V001/cancellation", {"reason": "x"}),
        (f"{path}/visits/V001/record", {"visited_on": today()}),
    ]
    reads = [f"{demand}/custody", f"{demand}/samples/S1", path]
    before = settled_events(gateway, "intake")
    for who in OUTSIDERS:  # other institutions, partner, ops, admin, anonymous
        for url, body in writes:
            answer = gateway.post(url, body, who)
            assert answer.status_code in (401, 403, 404), (who, url, answer.text)
        for url in reads:
            answer = gateway.get(url, who)
            assert answer.status_code in (401, 403, 404), (who, url, answer.text)
            assert "S1" not in answer.text and "某厂" not in answer.text
        if who not in ("other", "othermgr"):  # staff elsewhere plan their own
            drafted = gateway.post("/api/v1/visit-plans", {"period": "2030"}, who)
            assert drafted.status_code in (401, 403), (who, drafted.text)
    for url, body in [*writes, ("/api/v1/visit-plans", {"period": "2030"})]:
        # the regulator reads and writes nothing
        assert gateway.post(url, body, "sun").status_code == 403, url
    for url in reads:
        assert gateway.get(url, "sun").status_code == 200, url
    assert settled_events(gateway, "intake") == before
    custody = gateway.get(f"{demand}/custody", "wang").json()
    assert [s["id"] for s in custody["samples"]] == ["S1"]
    assert custody["visits"] == [] and custody["movements"] == []


def test_bad_input_is_refused_by_field_and_stores_nothing(gateway):
    demand = filed(gateway)
    plan = gateway.post("/api/v1/visit-plans", {"period": today()[:4]}, "zhao").json()
    path = f"/api/v1/visit-plans/{plan['id']}"
    company = {"company": "某厂", "address": "某地", "planned_on": today()}
    assert gateway.post(f"{path}/visits", company, "wang").status_code == 201
    sample = {"sample_id": "S1", "description": "样品", "quantity": 1}
    movement = {"sample_ids": ["S1"], "from_party": "customer", "place": "大厅"}
    bad = [
        (f"{demand}/visits", {**PICKUP, "preferred_date": "下周"}, "preferred_date"),
        (f"{demand}/visits", {**PICKUP, "phone": "12"}, "phone"),
        (f"{demand}/visits", {**PICKUP, "kind": "repair"}, "kind"),
        (
            f"{demand}/samples",
            {**sample, "quantity": "3", "condition": "完好"},
            "quantity",
        ),
        (f"{demand}/samples", {**sample, "condition": "很好"}, "condition"),
        (
            f"{demand}/samples",
            {**sample, "condition": "完好", "courier": "李"},
            "courier",
        ),
        (f"{demand}/samples/handovers", {**movement, "to_party": "x"}, "sample_ids"),
        (
            f"{demand}/samples/returns",
            {**movement, "condition": "完好", "at": "2026-03-05T09:00"},
            "at",
        ),
        (f"{demand}/report-deliveries", {"report_no": "R1", "method": "fax"}, "method"),
        (
            f"{demand}/report-deliveries",
            {"report_no": "R1", "method": "email", "email": "not-mail"},
            "email",
        ),
        ("/api/v1/visit-plans", {"period": "2026-Q5"}, "period"),
        (f"{path}/visits", {**company, "planned_on": "2999-01-01"}, "planned_on"),
        (f"{path}/visits/V001/reschedule", {"planned_on": today()}, "planned_on"),
        (f"{path}/visits/V001/cancellation", {}, "reason"),
        (f"{path}/visits/V001/record", {"visited_on": "2999-01-01"}, "visited_on"),
        (f"{path}/visits/V001/record", {"weather": "晴"}, "weather"),
    ]
    wrong_period = gateway.get("/api/v1/visit-plans", "wang", params={"period": "Q1"})
    assert wrong_period.json()["errors"][0]["field"] == "period"
    before = settled_events(gateway, "intake")
    for url, body, field in bad:
        answer = gateway.post(url, body, "wang")
        assert answer.status_code == 400, (url, answer.text)
        assert field in [e["field"] for e in answer.json()["errors"]], (
            url,
            answer.text,
        )
    not_json = gateway.post(f"{demand}/samples", ["S1"], "wang")
    assert (
        not_json.status_code == 400 and not_json.json()["errors"][0]["field"] == "body"
    )
    assert gateway.get(path, "wang", params={"on": "今天"}).status_code == 400
    assert settled_events(gateway, "intake") == before
    assert gateway.get(f"{demand}/custody", "wang").json()["samples"] == []
