"""Issue 18, item 3: only the customer rates. The progress code is the
customer's credential for progress and rating (7.4.6, 9.2.1): it is in the
registration's answer and nowhere else. Staff, managers, complaint handlers,
partners, the regulator, ops and the admin read every documented operation
of the demand (its page, history, case audit and exports, lists, surveys,
referrals…) and never find it; the customer rates with it, and a staff
member who does not hold it cannot.

The operations are the gateway's own /openapi.json, so a route added later is
swept too. Services run in this process on the real RabbitMQ (the access
tests' fixture), stores in SQLite files.
"""

import re

import pytest
import requests

from services.evaluation.rules import DIMENSIONS
from tests import support
from tests.integration import test_gateway_access as access_tests
from tests.integration import test_gateway_matrix as matrix

gateway = access_tests.gateway


@pytest.fixture
def backend():
    # what is swept is the gateway's answers, whichever database: SQLite files
    # keep this test off PostgreSQL's connection limit while others run
    return "sqlite"


INSIDERS = ["wang", "liqiang", "zhao", "cheng", "sun", "ops", "admin", "chen"]
# the exports of a case and the half-year summaries, in each of their formats
FORMATS = ("json", "html", "pdf")


def readable(document: dict) -> list[str]:
    """Every documented GET path."""
    return [path for path, described in document["paths"].items() if "get" in described]


def test_no_staff_or_regulator_read_returns_the_progress_code(gateway):
    values, _ = matrix.jsqi_objects(gateway)
    # a demand the customer filed online, worked to its end by jsqi: taken,
    # answered (8.3.1), so a survey is issued for the customer to rate
    filed = gateway.post("/api/v1/demands", access_tests.ONLINE_FORM)
    assert filed.status_code == 201, filed.text
    assert set(filed.json()) == {"id", "progress_code", "status", "registered_at"}
    demand_id, code = filed.json()["id"], filed.json()["progress_code"]
    path = f"/api/v1/demands/{demand_id}"
    taken = gateway.post(f"{path}/take", who="wang")
    assert taken.status_code == 200 and code not in taken.text
    answer = {"outcome": "answered", "details": {"answer": "可按 GB 6675 检测"}}
    decided = gateway.post(f"{path}/decision", answer, "wang")
    assert decided.status_code == 200 and code not in decided.text
    (survey,) = support.wait_for(
        lambda: gateway.get("/api/v1/public/surveys", params={"code": code}).json()[
            "items"
        ],
        timeout=15,
    )
    # a demand registered at the window: staff see its code once, to print
    at_window = gateway.post(
        "/api/v1/demands", {**access_tests.ONLINE_FORM, "channel": "window"}, "wang"
    )
    assert at_window.status_code == 201, at_window.text
    window_id, window_code = at_window.json()["id"], at_window.json()["progress_code"]
    codes = {code, window_code}

    document = gateway.get("/openapi.json").json()
    session = requests.Session()
    calls, shown = 0, []
    for template in readable(document):
        if "{code}" in template and not template.startswith(matrix.CATALOG_ITEM[0]):
            continue  # a code's own route: the customer's, by the code
        on_demand = "{demand_id}" in template
        for demand in (demand_id, window_id) if on_demand else (demand_id,):
            url = matrix.filled(template, {**values, "demand_id": demand})
            for who in INSIDERS:
                params = [{}]
                described = document["paths"][template]["get"]
                if any(p["name"] == "format" for p in described.get("parameters", [])):
                    params += [{"format": f} for f in FORMATS]
                for query in params:
                    answer = session.get(
                        f"{gateway.base}{url}",
                        params=query,
                        headers=gateway.headers(who),
                        timeout=10,
                    )
                    calls += 1
                    assert answer.status_code < 500, (url, who, answer.text)
                    body = answer.content.decode("utf-8", "replace")
                    leaked = [c for c in codes if c in body]
                    if leaked:
                        shown.append((url, query, who, answer.status_code))
    print(f"{calls} reads by {len(INSIDERS)} insiders; the code shown in {shown}")
    assert calls > 100
    assert not shown

    # staff without the code cannot rate the customer's service
    rating = {
        "overall": "满意",
        "dimensions": dict.fromkeys(DIMENSIONS, "满意"),
        "comments": "很好",
    }
    rate = f"/api/v1/public/surveys/{survey['id']}/rating"
    for guess in ("", "ABCDEFGHJK", window_code):
        refused = gateway.post(rate, {**rating, "code": guess}, "wang")
        assert refused.status_code in (400, 404, 422), refused.text
    # the customer, who holds it, does: once
    rated = gateway.post(rate, {**rating, "code": code})
    assert rated.status_code == 200, rated.text
    again = gateway.post(rate, {**rating, "code": code})
    assert again.status_code in (400, 409), again.text


def test_the_progress_code_is_read_nowhere_but_in_the_registration_answer(gateway):
    """Every answer carrying a demand: only registration names the code."""
    filed = gateway.post("/api/v1/demands", access_tests.ONLINE_FORM).json()
    shown = gateway.get(f"/api/v1/demands/{filed['id']}", "wang").json()
    audit = gateway.get(f"/api/v1/audit/cases/{filed['id']}", "sun")
    assert audit.status_code == 200, audit.text
    assert "progress_code" not in shown
    assert "progress_code" not in audit.json()["demand"]
    assert not re.search(filed["progress_code"], audit.text + str(shown))
    # no cache keeps a case's answers or its exported file
    export = gateway.get(
        f"/api/v1/audit/cases/{filed['id']}/export", "sun", params={"format": "html"}
    )
    assert export.status_code == 200, export.text
    assert filed["progress_code"] not in export.text
    for answer in (audit, export):
        assert answer.headers["Cache-Control"] == "no-store"
