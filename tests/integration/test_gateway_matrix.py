"""Issue 9's access matrix: every documented operation × every outsider ×
an object of another institution gives 401, 403 or 404, never data.

The operations are read from the gateway's own /openapi.json, which is
written from the routes' declarations (services/gateway/routing), so a route
added later is swept too; one without an ownership rule (``x-owner``) or a
path parameter this test cannot fill fails it.
Objects belong to jsqi (the referral is also the partner lab's); the
outsiders are nj-lab's staff, manager and complaint handler, the partner of
another institution, ops, the admin (where the object is not platform-wide)
and the anonymous caller. The regulator reads (masked) but writes nothing:
every POST of theirs is refused. Their reads are not swept: each is recorded
in the case's history by design, and the sweep must store nothing.

Services run in this process on the real RabbitMQ, stores on PostgreSQL.
"""

import re
from datetime import timedelta

import requests

from services.evaluation.rules import DIMENSIONS
from shared.config import SERVICES
from tests import support
from tests.integration import test_gateway_access as access_tests
from tests.integration import test_gateway_catalog_resources as resources_tests
from tests.integration import test_gateway_custody as custody_tests
from tests.integration import test_gateway_instruments as instrument_tests
from tests.integration.test_gateway_complaints_work import CARD, file_complaint
from tests.integration.test_gateway_efficiency import (
    assessed_with_item,
    settled_events,
)

# the fixtures of the access tests: the same services, accounts and client
backend = access_tests.backend
gateway = access_tests.gateway

OUTSIDERS = ["other", "othermgr", "otherhandler", "chen", "ops", "admin", None]
# The partner lab jsqi referred the demand to is an outsider to all the rest:
# the referral is the one object it shares with jsqi.
PARTNER = "mx.clerk"
REGULATOR = "sun"

# Path parameters that name no institution's object, so no outsider exists:
# a customer's progress code, a complaint's code and a report's verification
# code are read without login (`security` empty) by whoever holds them.
PUBLIC_OR_SELF = {"code"}
# The one login route naming a code: an item of the public catalog, whose
# revision is the admin's (platform-wide); any other one fails the test.
CATALOG_ITEM = ("/api/v1/catalog/items/{code}", "6.3.1")

# Operations on what the admin keeps for the whole platform: accounts, the
# catalog (institutions, qualifications, items, venues, equipment and
# instruments of any institution) and a partner's standing. The admin is no
# outsider there; everyone else still is.
ADMIN_KEEPS = ("/api/v1/accounts", "/api/v1/catalog/", "/api/v1/partners/")

# Instruments are shared across institutions (6.7): staff of another one find
# the instrument (never its bookings) and may request a booking of it. Those
# calls are checked for leaks and for storing nothing, not for a refusal.
SHARED_WITH_STAFF = {
    ("get", "/api/v1/catalog/instruments"),
    ("get", "/api/v1/catalog/instruments/{instrument_id}"),
    ("post", "/api/v1/catalog/instruments/{instrument_id}/bookings"),
}
OTHER_STAFF = ("other", "othermgr")
# what the sweep must not have stored: every service the access tests run
# (notify, which only sends messages out of the platform and holds no object
# an outsider could reach, is not one of them)
STORES = [service for service in SERVICES if service != "notify"]


def jsqi_objects(gateway) -> tuple[dict[str, str], set[str]]:
    """One object of each kind a path names, made through the API only;
    returns the value for each path parameter and the strings (ids and
    personal data) no outsider may read."""
    lab_id = access_tests.lab_with_partner(gateway, "mx")
    filed = gateway.post("/api/v1/demands", access_tests.ONLINE_FORM).json()
    demand_id = filed["id"]
    demand = f"/api/v1/demands/{demand_id}"
    referral_id = access_tests.refer_and_send(gateway, demand_id)

    quote = gateway.post(f"{demand}/quotes", resources_tests.QUOTE, "wang")
    assert quote.status_code == 201, quote.text
    sample = {"sample_id": "S-MATRIX-1", "description": "样品", "quantity": 1}
    kept = gateway.post(f"{demand}/samples", {**sample, "condition": "完好"}, "wang")
    assert kept.status_code == 201, kept.text
    visit = gateway.post(f"{demand}/visits", custody_tests.PICKUP, "wang")
    assert visit.status_code == 201, visit.text

    today = custody_tests.today()
    plan = gateway.post("/api/v1/visit-plans", {"period": today[:4]}, "zhao")
    assert plan.status_code == 201, plan.text
    company = {"company": "矩阵某厂", "address": "矩阵某地", "planned_on": today}
    planned = gateway.post(
        f"/api/v1/visit-plans/{plan.json()['id']}/visits", company, "wang"
    )
    assert planned.status_code == 201, planned.text

    complaint = file_complaint(gateway)
    card = gateway.post("/api/v1/comment-cards", CARD, "cheng")
    assert card.status_code == 201, card.text
    survey_id, call_back_id = unsatisfied_survey(gateway)
    assessment_id, item_id = assessed_with_item(gateway)
    summary = gateway.post(
        "/api/v1/evaluation/half-year-summaries", {"year": 2026, "half": 2}, "zhao"
    )
    assert summary.status_code == 201, summary.text

    instrument, now = instrument_tests.instrument_with_slots(gateway, "wang")
    start = now + timedelta(hours=1)
    booking = instrument_tests.booked(
        gateway, instrument, "liqiang", start, start + timedelta(hours=1)
    )
    venue_id = resources_tests.own_venue(gateway)
    equipment = gateway.post(
        f"/api/v1/catalog/venues/{venue_id}/equipment",
        resources_tests.EQUIPMENT,
        "wang",
    )
    assert equipment.status_code == 201, equipment.text

    values = {
        "username": "wang",
        "staff_id": "wang",
        "demand_id": demand_id,
        "referral_id": referral_id,
        "institution_id": lab_id,
        "cert_no": "CMA-mx",
        "quote_id": quote.json()["id"],
        "sample_id": "S-MATRIX-1",
        "plan_id": plan.json()["id"],
        "visit_id": "V001",
        "complaint_id": complaint["id"],
        "card_id": card.json()["id"],
        "survey_id": survey_id,
        "call_back_id": call_back_id,
        "assessment_id": assessment_id,
        "item_id": item_id,
        "summary_id": summary.json()["id"],
        "instrument_id": instrument.rsplit("/", 1)[1],
        "booking_id": booking["id"],
        "venue_id": venue_id,
        "equipment_id": equipment.json()["id"],
        # a file's digest: whichever it is, the demand's institution comes first
        "sha256": "0" * 64,
    }
    personal = {
        access_tests.ONLINE_FORM["applicant"],
        access_tests.ONLINE_FORM["contact_phone"],
        access_tests.COMPLAINT["complainant_name"],
        access_tests.COMPLAINT["complainant_phone"],
        CARD["contact_name"],
        CARD["contact_phone"],
        custody_tests.PICKUP["address"],
        company["company"],
        filed["progress_code"],
        complaint["code"],
    }
    ids = {v for k, v in values.items() if k not in ("username", "staff_id")}
    return values, personal | ids


def unsatisfied_survey(gateway) -> tuple[str, str]:
    """A second demand, answered at once by wang and so ended (8.3.1), rated
    unsatisfied: its survey and the call-back that opened."""
    filed = gateway.post("/api/v1/demands", access_tests.ONLINE_FORM).json()
    path = f"/api/v1/demands/{filed['id']}"
    gateway.post(f"{path}/take", who="wang")
    answer = {"outcome": "answered", "details": {"answer": "可按 GB 6675 检测"}}
    assert gateway.post(f"{path}/decision", answer, "wang").status_code == 200
    code = filed["progress_code"]
    (survey,) = support.wait_for(
        lambda: gateway.get("/api/v1/public/surveys", params={"code": code}).json()[
            "items"
        ],
        timeout=15,
    )
    rating = {
        "code": code,
        "overall": "不满意",
        "dimensions": dict.fromkeys(DIMENSIONS, "不满意"),
        "comments": "答复太慢",
    }
    rated = gateway.post(f"/api/v1/public/surveys/{survey['id']}/rating", rating)
    assert rated.status_code == 200, rated.text
    return survey["id"], rated.json()["follow_up"][0]


def operations(document: dict) -> list[tuple[str, str]]:
    """Every documented (method, path) that needs a login."""
    default = document.get("security", [])
    return [
        (method, path)
        for path, described in document["paths"].items()
        for method, operation in described.items()
        if operation.get("security", default) != []
    ]


def filled(path: str, values: dict[str, str]) -> str:
    if path.startswith(CATALOG_ITEM[0]):
        values = {**values, "code": CATALOG_ITEM[1]}
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


def test_no_outsider_reaches_any_documented_operation_on_jsqis_objects(gateway):
    document = gateway.get("/openapi.json").json()
    # each operation is declared with the rule that checks whose object it is
    unruled = [
        (method, path)
        for path, described in document["paths"].items()
        for method, operation in described.items()
        if not operation.get("x-owner", {}).get("rule") or not operation.get("x-roles")
    ]
    assert not unruled, f"operations without an ownership rule: {unruled}"
    named = {
        name for path in document["paths"] for name in re.findall(r"\{(\w+)\}", path)
    }
    values, secret = jsqi_objects(gateway)
    unfilled = named - set(values) - PUBLIC_OR_SELF
    assert not unfilled, f"path parameters without an object: {sorted(unfilled)}"
    swept = operations(document)
    for method, path in swept:
        names = set(re.findall(r"\{(\w+)\}", path))
        public_only = names & PUBLIC_OR_SELF
        catalog_item = path.startswith(CATALOG_ITEM[0])
        assert not public_only or catalog_item, f"{method} {path} needs a login"

    session = requests.Session()
    headers = {who: gateway.headers(who) for who in [*OUTSIDERS, PARTNER, REGULATOR]}
    before = {service: settled_events(gateway, service) for service in STORES}

    calls, leaks, statuses = 0, [], {}
    for method, template in swept:
        url = filled(template, values)
        on_object = "{" in template
        body = {} if method == "post" else None
        described = document["paths"][template][method]
        if described["x-owner"]["rule"] == "demand in intake":
            schema = described["requestBody"]["content"]["application/json"]
            body = support.valid_body(schema["schema"])
        partner_shares = "{referral_id}" in template or not on_object
        for who in [*OUTSIDERS, *([] if partner_shares else [PARTNER])]:
            if who == "admin" and template.startswith(ADMIN_KEEPS):
                continue
            answer = session.request(
                method,
                f"{gateway.base}{url}",
                json=body,
                headers=headers[who],
                timeout=10,
            )
            calls += 1
            statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
            shared = (method, template) in SHARED_WITH_STAFF and who in OTHER_STAFF
            hidden = secret - {values["instrument_id"]} if shared else secret
            shown = [s for s in hidden if s in answer.text and s not in url]
            if on_object and not shared:
                refused = answer.status_code in (401, 403, 404)
            else:  # a list or a new object: the caller's own, or a refusal
                refused = answer.status_code < 500
            if shown or not refused:
                leaks.append((method, url, who, answer.status_code, shown))
        if method == "post":
            answer = session.post(
                f"{gateway.base}{url}", json={}, headers=headers[REGULATOR], timeout=10
            )
            calls += 1
            statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
            if answer.status_code != 403:
                leaks.append((method, url, REGULATOR, answer.status_code, []))

    after = {service: settled_events(gateway, service) for service in STORES}
    print(
        f"matrix: {len(swept)} operations × up to {len(OUTSIDERS) + 2} identities = "
        f"{calls} calls, {len(leaks)} leaks; answers {dict(sorted(statuses.items()))}"
    )
    assert not leaks, "\n".join(map(str, leaks))
    assert after == before  # nothing was stored by the sweep
