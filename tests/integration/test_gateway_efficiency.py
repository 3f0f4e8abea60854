"""Evaluation over HTTP, the manager's side (9.1.2, 9.2.2, 9.3): efficiency
figures, assessments and their comments, the improvement item opened from a
finding and worked to closure, and the records per demand, staff member and
institution — each reached only by the staff member's own institution.

Services run in this process on the real RabbitMQ, stores on PostgreSQL.
"""

import eventlet

from shared.providers import application_of
from tests import support
from tests.integration import test_gateway_access as access_tests

ONLINE_FORM = access_tests.ONLINE_FORM
# the fixtures of the access tests: the same services, accounts and client
backend = access_tests.backend
gateway = access_tests.gateway

PERIOD = {"since": "2026-01-01T00:00:00+08:00", "until": "2027-01-01T00:00:00+08:00"}
OUTSIDERS = ["other", "othermgr", "ops", "chen", "admin", "cheng", None]


def stored_events(gateway, service: str) -> int:
    """How many events a service has stored: attempts refused store none."""
    app = application_of(support.container_of(gateway.runner, service))
    return app.recorder.max_notification_id() or 0


def settled_events(gateway, service: str) -> int:
    """The count once the service has handled what other services published
    (a filed demand opens its case record a moment later)."""
    counts = [stored_events(gateway, service)]

    def still() -> bool:
        eventlet.sleep(0.5)
        counts.append(stored_events(gateway, service))
        return counts[-1] == counts[-2]

    support.wait_for(still, timeout=15)
    return counts[-1]


def assessed_with_item(gateway) -> tuple[str, str]:
    """zhao (manager, jsqi) assesses wang, comments, and opens an item owned by
    wang; returns the assessment's and the item's ids."""
    assessed = gateway.post(
        "/api/v1/evaluation/staff/wang/efficiency-assessments", PERIOD, "zhao"
    )
    assert assessed.status_code == 201, assessed.text
    assessment_id = assessed.json()["id"]
    opened = gateway.post(
        f"/api/v1/evaluation/efficiency-assessments/{assessment_id}/improvements",
        {
            "finding": "首问响应偏慢",
            "owner": "wang",
            "actions": ["每日晨会复盘待办"],
            "deadline": "2026-12-31",
            "institution_id": "nj-lab",  # ignored: the institution is the staff's
        },
        "zhao",
    )
    assert opened.status_code == 201, opened.text
    assert opened.json()["institution_id"] == "jsqi"
    assert opened.json()["staff_id"] == "wang"
    return assessment_id, opened.json()["id"]


def test_a_manager_assesses_comments_and_works_an_improvement_item(gateway):
    figures = gateway.get(
        "/api/v1/evaluation/staff/wang/efficiency", "zhao", params=PERIOD
    )
    assert figures.status_code == 200, figures.text
    assert figures.json()["staff_id"] == "wang"
    assessment_id, item_id = assessed_with_item(gateway)

    path = f"/api/v1/evaluation/efficiency-assessments/{assessment_id}"
    commented = gateway.post(f"{path}/comments", {"comment": "请加快响应"}, "zhao")
    assert commented.status_code == 200, commented.text
    assert gateway.get(path, "sun").json()["id"] == assessment_id

    item = f"/api/v1/evaluation/improvements/{item_id}"
    planned = gateway.post(
        f"{item}/plan",
        {"owner": "wang", "actions": ["晨会复盘", "周报"], "deadline": "2026-12-31"},
        "zhao",
    )
    assert planned.status_code == 200, planned.text
    assert planned.json()["actions"] == ["晨会复盘", "周报"]
    progress = gateway.post(f"{item}/progress", {"note": "已执行两周"}, "wang")
    assert progress.status_code == 200, progress.text
    assert [p["note"] for p in progress.json()["progress"]] == ["已执行两周"]
    closed = gateway.post(f"{item}/closure", {"result": "响应时间达标"}, "zhao")
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] != "open"
    assert gateway.get(item, "wang").json()["closure"] == {"result": "响应时间达标"}
    # a bad body names its field and stores nothing
    before = stored_events(gateway, "evaluation")
    bad = gateway.post(f"{path}/comments", {"comment": 7}, "zhao")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "comment"
    assert stored_events(gateway, "evaluation") == before


def test_records_per_demand_staff_and_institution(gateway):
    demand_id = gateway.post("/api/v1/demands", ONLINE_FORM).json()["id"]
    of_demand = gateway.get(f"/api/v1/demands/{demand_id}/evaluation-records", "wang")
    assert of_demand.status_code == 200, of_demand.text
    assert of_demand.json()["demand_id"] == demand_id
    own = gateway.get("/api/v1/evaluation/staff/wang/records", "wang", params=PERIOD)
    assert own.status_code == 200 and own.json()["staff_id"] == "wang"
    by_manager = gateway.get(
        "/api/v1/evaluation/staff/wang/records", "zhao", params=PERIOD
    )
    assert by_manager.json()["services"] == own.json()["services"]
    institution = gateway.get(
        "/api/v1/evaluation/institutions/jsqi/records", "zhao", params=PERIOD
    )
    assert institution.status_code == 200, institution.text
    assert "satisfaction" in institution.json()
    no_period = gateway.get("/api/v1/evaluation/institutions/jsqi/records", "zhao")
    assert no_period.status_code == 400
    assert no_period.json()["errors"][0]["field"] == "since"


def period_of(url: str) -> dict:
    """The period for the reads that take one (figures and records); the
    others refuse query parameters they do not declare."""
    return PERIOD if url.endswith(("/efficiency", "/records")) else {}


def test_no_role_reaches_another_institutions_efficiency_or_items(gateway):
    """Every route × every role: 401/403/404 outside the staff's institution;
    the regulator reads and writes nothing; nothing is stored by refusals."""
    assessment_id, item_id = assessed_with_item(gateway)
    demand_id = gateway.post("/api/v1/demands", ONLINE_FORM).json()["id"]
    assessment = f"/api/v1/evaluation/efficiency-assessments/{assessment_id}"
    item = f"/api/v1/evaluation/improvements/{item_id}"
    reads = [
        "/api/v1/evaluation/staff/wang/efficiency",
        assessment,
        item,
        f"/api/v1/demands/{demand_id}/evaluation-records",
        "/api/v1/evaluation/staff/wang/records",
        "/api/v1/evaluation/institutions/jsqi/records",
    ]
    writes = [
        "/api/v1/evaluation/staff/wang/efficiency-assessments",
        f"{assessment}/comments",
        f"{assessment}/improvements",
        f"{item}/plan",
        f"{item}/progress",
        f"{item}/closure",
    ]
    body = {
        **PERIOD,
        "comment": "x",
        "finding": "x",
        "owner": "other",
        "actions": ["x"],
        "deadline": "2026-12-31",
        "note": "x",
        "result": "x",
    }
    before = settled_events(gateway, "evaluation")
    for who in OUTSIDERS:
        for url in reads:
            answer = gateway.get(url, who, params=period_of(url))
            assert answer.status_code in (401, 403, 404), (who, url, answer.text)
        for url in writes:
            answer = gateway.post(url, body, who)
            assert answer.status_code in (401, 403, 404), (who, url, answer.text)
    # a colleague who is neither manager nor owner reads the own institution's
    # records only, and changes nothing
    for url in writes:
        assert gateway.post(url, body, "liqiang").status_code == 403, url
    for url in writes:  # the regulator reads and writes nothing
        assert gateway.post(url, body, "sun").status_code == 403, url
    for url in reads:
        assert gateway.get(url, "sun", params=period_of(url)).status_code == 200, url
    unknown = gateway.get("/api/v1/evaluation/staff/nobody/efficiency", "zhao")
    assert unknown.status_code == 404
    assert stored_events(gateway, "evaluation") == before
    assert gateway.get(item, "zhao").json()["progress"] == []
