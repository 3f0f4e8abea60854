"""Catalog resources over HTTP: venues and their equipment (5.1, 5.1.6),
instruments (6.7), experts (5.2.2 c) and the fee quotes of a demand (5.3.1.5).
An institution's staff keep their own resources, the admin any; a quote is its
demand's institution's; the regulator reads and writes nothing.

Services run in this process on the real RabbitMQ, stores on PostgreSQL.
"""

from datetime import date

from tests.integration import test_gateway_access as access_tests
from tests.integration.test_gateway_efficiency import settled_events

# the fixtures of the access tests: the same services, accounts and client
backend = access_tests.backend
gateway = access_tests.gateway

WEEKDAYS = {d: ["08:30-12:00", "13:30-17:30"] for d in ("mon", "tue", "wed")}
VENUE = {
    "kind": "window",
    "name": "一站式服务窗口",
    "address": "南京市玄武区某路1号",
    "hours": WEEKDAYS,
    "accepts": ["6.3"],
    "contact_phone": "025-83210000",
}
EQUIPMENT = {
    "name": "干粉灭火器",
    "category": "fire",
    "asset_no": "XF-001",
    "interval_days": 30,
    "last_checked": "2026-03-01",
}
QUOTE = {
    "lines": [
        {
            "item_code": "6.3.1",
            "parameter": "阻燃性能",
            "unit_price": "120.50",
            "samples": 10,
        }
    ],
    "customer_kind": "company",
}


def own_venue(gateway) -> str:
    opened = gateway.post(
        "/api/v1/catalog/venues", {**VENUE, "institution_id": "nj-lab"}, "wang"
    )
    assert opened.status_code == 201, opened.text
    assert opened.json()["institution_id"] == "jsqi"  # the caller's, not the body's
    return opened.json()["id"]


def test_staff_keep_their_venues_equipment_and_instruments(gateway):
    venue_id = own_venue(gateway)
    public = gateway.get("/api/v1/catalog/venues", params={"institution": "jsqi"})
    assert [v["id"] for v in public.json()["items"]] == [venue_id]

    equipment = gateway.post(
        f"/api/v1/catalog/venues/{venue_id}/equipment", EQUIPMENT, "zhao"
    )
    assert equipment.status_code == 201, equipment.text
    assert equipment.json()["next_due"] == "2026-03-31"
    overdue = gateway.get(
        "/api/v1/catalog/overdue-equipment", "wang", params={"today": "2026-04-01"}
    ).json()["items"]
    assert [e["id"] for e in overdue] == [equipment.json()["id"]]
    assert (
        gateway.get(
            "/api/v1/catalog/overdue-equipment", "other", params={"today": "2026-04-01"}
        ).json()["items"]
        == []
    )
    checked = gateway.post(
        f"/api/v1/catalog/equipment/{equipment.json()['id']}/checks",
        {"checked_on": date.today().isoformat(), "result": "ok"},
        "admin",
    )
    assert checked.status_code == 200, checked.text
    assert checked.json()["overdue"] is False

    instrument = gateway.post(
        "/api/v1/catalog/instruments",
        {"name": "高分辨质谱仪", "capabilities": ["农残检测"], "price_per_hour": "800"},
        "wang",
    )
    assert instrument.status_code == 201, instrument.text
    assert instrument.json()["owner_id"] == "jsqi"


def test_the_admin_keeps_experts_and_platform_staff_find_them(gateway):
    expert = {"name": "李工", "fields": ["6.3.1"], "title": "研究员"}
    refused = gateway.post("/api/v1/catalog/experts", expert, "wang")
    assert refused.status_code == 403
    registered = gateway.post(
        "/api/v1/catalog/experts", {**expert, "phone": "13900000002"}, "admin"
    )
    assert registered.status_code == 201, registered.text
    found = gateway.get(
        "/api/v1/catalog/experts", "wang", params={"item": "6.3.1", "on": "2026-05-01"}
    )
    assert [e["name"] for e in found.json()["items"]] == ["李工"]
    assert "13900000002" not in found.text  # no contact data in the list
    assert (
        gateway.get("/api/v1/catalog/experts", params={"item": "6.3.1"}).status_code
        == 401
    )


def test_a_quote_is_drafted_issued_and_accepted_by_the_demands_institution(gateway):
    demand_id = gateway.post("/api/v1/demands", access_tests.ONLINE_FORM).json()["id"]
    drafted = gateway.post(f"/api/v1/demands/{demand_id}/quotes", QUOTE, "wang")
    assert drafted.status_code == 201, drafted.text
    quote = f"/api/v1/quotes/{drafted.json()['id']}"
    assert gateway.post(f"{quote}/issue", who="wang").json()["state"] == "issued"
    bad = gateway.post(f"{quote}/acceptance", {"revision": "1"}, "wang")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "revision"
    accepted = gateway.post(f"{quote}/acceptance", {"revision": 1}, "wang")
    assert accepted.status_code == 200 and accepted.json()["state"] == "accepted"
    again = gateway.post(f"{quote}/withdrawal", {"reason": "客户取消"}, "wang")
    assert again.status_code == 409
    assert gateway.get(quote, "sun").json()["state"] == "accepted"


def test_no_role_changes_another_institutions_resources_or_quotes(gateway):
    venue_id = own_venue(gateway)
    demand_id = gateway.post("/api/v1/demands", access_tests.ONLINE_FORM).json()["id"]
    quote_id = gateway.post(
        f"/api/v1/demands/{demand_id}/quotes", QUOTE, "wang"
    ).json()["id"]
    quote = f"/api/v1/quotes/{quote_id}"
    writes = [
        (f"/api/v1/catalog/venues/{venue_id}/equipment", EQUIPMENT),
        (f"/api/v1/demands/{demand_id}/quotes", QUOTE),
        (f"{quote}/issue", {}),
        (f"{quote}/acceptance", {"revision": 1}),
        (f"{quote}/withdrawal", {"reason": "x"}),
        (f"{quote}/revision", QUOTE),
    ]
    before = {s: settled_events(gateway, s) for s in ("catalog", "intake")}
    for who in ["other", "othermgr", "ops", "chen", "cheng", "sun", None]:
        for url, body in writes:
            answer = gateway.post(url, body, who)
            assert answer.status_code in (401, 403, 404), (who, url, answer.text)
        assert gateway.get(quote, who).status_code in (401, 403, 404) or who == "sun"
    for url, body in writes[1:]:  # the admin keeps resources, not quotes
        assert gateway.post(url, body, "admin").status_code == 403, url
    for url, body in (
        ("/api/v1/catalog/venues", VENUE),
        ("/api/v1/catalog/instruments", {"name": "质谱仪"}),
        ("/api/v1/catalog/experts", {"name": "王工"}),
        ("/api/v1/catalog/equipment/any/checks", {"checked_on": "2026-04-02"}),
    ):
        for who in ["sun", "ops", "chen", "cheng", None]:
            answer = gateway.post(url, body, who)
            assert answer.status_code in (401, 403), (who, url, answer.text)
    for who in ["ops", "chen", None]:
        status = gateway.get("/api/v1/catalog/overdue-equipment", who).status_code
        assert status in (401, 403), who
    assert gateway.get(quote, "sun").json()["state"] == "drafted"
    assert {s: settled_events(gateway, s) for s in before} == before
