"""Shared instruments over HTTP (6.7) and the admin's catalog upkeep (4.1,
5.1.5): an owner opens slots, staff of any institution book for their own,
the owner decides and records use and no-shows, and reads the utilisation
with the regulator; the admin keeps items, the guide and qualifications.
Everyone else gets 401/403/404, bad input a 400 naming the field, and
neither stores anything.

Services run in this process on the real RabbitMQ, stores on PostgreSQL.
Times are the clock's, so the lifecycle books a few seconds ahead and waits.
"""

import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from tests.integration import test_gateway_access as access_tests
from tests.integration.test_gateway_efficiency import stored_events

# the fixtures of the access tests: the same services, accounts and client
backend = access_tests.backend
gateway = access_tests.gateway

CST = timezone(timedelta(hours=8))
INSTRUMENTS = "/api/v1/catalog/instruments"
MICROSCOPE = {
    "name": "场发射扫描电子显微镜",
    "capabilities": ["微区形貌观察"],
    "price_per_hour": "380",
    "rules": {"grace_minutes": 0},  # a check-in is due at the start, not later
}


def iso(moment: datetime) -> str:
    return moment.isoformat()


def instrument_with_slots(gateway, who="wang", **extra) -> tuple[str, datetime]:
    """An instrument registered by ``who``, open from an hour ago for four
    hours; returns its path and the moment it was opened."""
    registered = gateway.post(INSTRUMENTS, {**MICROSCOPE, **extra}, who)
    assert registered.status_code == 201, registered.text
    path = f"{INSTRUMENTS}/{registered.json()['id']}"
    now = datetime.now(CST).replace(microsecond=0)
    keeper = "zhao" if who == "wang" else who
    slots = [[iso(now - timedelta(hours=1)), iso(now + timedelta(hours=3))]]
    opened = gateway.post(f"{path}/slots", {"slots": slots}, keeper)
    assert opened.status_code == 200, opened.text
    assert len(opened.json()["slots"]) == 1
    return path, now


def booked(gateway, path: str, who: str, start: datetime, end: datetime, key=""):
    answer = gateway.post(
        f"{path}/bookings",
        {"start": iso(start), "end": iso(end)},
        who,
        headers={"Idempotency-Key": key} if key else None,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def wait_until(moment: datetime) -> None:
    time.sleep(max(0.0, (moment - datetime.now(CST)).total_seconds()) + 0.2)


def test_an_instrument_is_booked_decided_used_and_measured_through_the_api(gateway):
    path, opened_at = instrument_with_slots(gateway)
    listed = gateway.get(INSTRUMENTS, "other", params={"owner": "jsqi"}).json()
    assert [f"{INSTRUMENTS}/{i['id']}" for i in listed["items"]] == [path]

    t = datetime.now(CST).replace(microsecond=0) + timedelta(seconds=5)
    absent = booked(gateway, path, "other", t, t + timedelta(seconds=1))
    assert absent["requester"] == "nj-lab"  # the caller's institution, always
    hour = (t + timedelta(seconds=1), t + timedelta(hours=1))
    used = booked(gateway, path, "othermgr", *hour, key="k-1")
    again = booked(gateway, path, "othermgr", *hour, key="k-1")
    assert again["id"] == used["id"]  # the same key books once
    later = t + timedelta(hours=2)
    dropped = booked(gateway, path, "other", later, later + timedelta(minutes=30))
    overlap = gateway.post(
        f"{path}/bookings",
        {"start": iso(later), "end": iso(later + timedelta(minutes=10))},
        "liqiang",
    )
    assert overlap.status_code == 409, overlap.text

    def act(booking: dict, action: str, who: str, body=None):
        answer = gateway.post(f"{path}/bookings/{booking['id']}/{action}", body, who)
        assert answer.status_code == 200, (action, who, answer.text)
        return answer.json()

    assert act(absent, "approval", "zhao")["decided_by"] == "zhao"
    assert act(used, "approval", "wang")["state"] == "approved"
    assert act(used, "check-in", "wang")["state"] == "checked_in"
    cancelled = act(dropped, "cancellation", "othermgr", {"reason": "样品未到"})
    assert (cancelled["state"], cancelled["decided_by"]) == ("cancelled", "othermgr")
    mine = booked(gateway, path, "liqiang", later, later + timedelta(minutes=10))
    rejected = act(mine, "rejection", "zhao", {"reason": "设备维护"})
    assert (rejected["state"], rejected["reason"]) == ("rejected", "设备维护")
    held = (later + timedelta(minutes=40), later + timedelta(minutes=50))
    waiting = booked(gateway, path, "liqiang", *held)

    seen = gateway.get(path, "other").json()
    assert {b["id"] for b in seen["bookings"]} == {
        absent["id"],
        used["id"],
        dropped["id"],
    }  # nj-lab sees its own bookings, and when the instrument is taken
    busy = [tuple(datetime.fromisoformat(x) for x in pair) for pair in seen["busy"]]
    assert held in busy  # jsqi's booking, without its name
    assert (later, later + timedelta(minutes=10)) not in busy  # rejected: free
    assert len(gateway.get(path, "zhao").json()["bookings"]) == 5

    wait_until(t + timedelta(seconds=2))
    recorded = gateway.post(f"{path}/no-shows", who="zhao")
    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["no_shows"] == [absent["id"]]
    done = act(used, "check-out", "wang")
    assert done["state"] == "checked_out"

    window = {
        "start": iso(opened_at - timedelta(hours=1)),
        "end": iso(opened_at + timedelta(hours=3)),
    }
    owner = gateway.get(f"{path}/utilisation", "zhao", params=window)
    assert owner.status_code == 200, owner.text
    in_use = datetime.fromisoformat(done["checked_out_at"]) - (
        datetime.fromisoformat(done["start"])
    )
    assert owner.json()["utilisation"] == pytest.approx(
        in_use.total_seconds() / (4 * 3600)
    )
    assert owner.json()["utilisation"] > 0
    regulator = gateway.get(f"{path}/utilisation", "sun", params=window)
    assert regulator.json() == owner.json()
    states = {b["id"]: b["state"] for b in gateway.get(path, "sun").json()["bookings"]}
    assert states == {
        absent["id"]: "no_show",
        used["id"]: "checked_out",
        dropped["id"]: "cancelled",
        mine["id"]: "rejected",
        waiting["id"]: "requested",
    }


def test_no_one_else_keeps_books_or_decides_and_nothing_is_stored(gateway):
    """An instrument of sz-lab (kept by the admin here), booked by nj-lab:
    jsqi is a third institution, which does not see the booking at all."""
    path, now = instrument_with_slots(gateway, "admin", owner_id="sz-lab")
    start = now + timedelta(hours=1)
    booking = booked(gateway, path, "other", start, start + timedelta(hours=1))
    one = f"{path}/bookings/{booking['id']}"
    slots = {"slots": [[iso(now), iso(now + timedelta(hours=4))]]}
    before = stored_events(gateway, "catalog")

    people = ["other", "othermgr", "wang", "zhao", "chen", "ops", "cheng", "sun"]
    for who in [*people, None]:
        for url, body in [(f"{path}/slots", slots), (f"{path}/no-shows", {})]:
            answer = gateway.post(url, body, who)
            assert answer.status_code == (401 if who is None else 403), (who, url)
        for action in ("approval", "rejection", "check-in", "check-out"):
            answer = gateway.post(f"{one}/{action}", {"reason": "x"}, who)
            expected = {None: 401, "wang": 404, "zhao": 404}.get(who, 403)
            assert answer.status_code == expected, (who, action, answer.text)
        if who not in ("other", "othermgr"):  # theirs to cancel
            cancel = gateway.post(f"{one}/cancellation", {"reason": "x"}, who)
            assert cancel.status_code == expected, (who, cancel.text)
        if who not in ("other", "othermgr", "wang", "zhao"):
            later = {"start": iso(start + timedelta(hours=2)), "end": iso(now)}
            answer = gateway.post(f"{path}/bookings", later, who)
            assert answer.status_code in (401, 403), (who, answer.text)
        if who not in ("sun",):
            window = {"start": iso(now), "end": iso(now + timedelta(hours=1))}
            answer = gateway.get(f"{path}/utilisation", who, params=window)
            assert answer.status_code in (401, 403), (who, answer.text)
    for who in ["chen", "ops", "cheng", None]:
        for url in (INSTRUMENTS, path):
            assert gateway.get(url, who).status_code in (401, 403), (who, url)
    assert gateway.get(f"{INSTRUMENTS}/nothing-here", "wang").status_code == 404
    unknown = gateway.post(f"{INSTRUMENTS}/nothing-here/bookings", {}, "wang")
    assert unknown.status_code == 404
    assert gateway.post(f"{path}/bookings", {}, "admin").status_code == 403

    assert stored_events(gateway, "catalog") == before
    seen = gateway.get(path, "wang").json()
    assert seen["bookings"] == []  # a third institution sees no one's booking
    assert [b["state"] for b in gateway.get(path, "admin").json()["bookings"]] == [
        "requested"
    ]


def test_bad_input_is_refused_by_field_and_nothing_is_stored(gateway):
    path, now = instrument_with_slots(gateway)
    start = now + timedelta(hours=1)
    booking = booked(gateway, path, "other", start, start + timedelta(hours=1))
    before = stored_events(gateway, "catalog")

    naive = (now + timedelta(hours=1)).replace(tzinfo=None).isoformat()
    ahead = [iso(now + timedelta(hours=5)), iso(now + timedelta(hours=4))]
    for body, field in [
        ({"slots": "tomorrow"}, "slots"),
        ({"slots": []}, "slots"),
        ({"slots": [["2026-12-01T09:00:00+08:00"]]}, "slots[0]"),
        ({"slots": [[naive, iso(now + timedelta(hours=2))]]}, "slots[0].start"),
        ({"slots": [ahead]}, "slots[0].end"),
    ]:
        answer = gateway.post(f"{path}/slots", body, "zhao")
        assert answer.status_code == 400, (body, answer.text)
        assert answer.json()["errors"][0]["field"] == field, body

    hour = timedelta(hours=1)
    for body, field in [
        ({}, "start"),
        ({"start": 9, "end": iso(start + hour)}, "start"),
        ({"start": iso(now - hour), "end": iso(now)}, "start"),  # in the past
        ({"start": iso(start + 2 * hour), "end": iso(start + hour)}, "end"),
        ({"start": iso(now + 5 * hour), "end": iso(now + 6 * hour)}, "start"),
        ({"start": naive, "end": iso(start + hour)}, "start"),
    ]:
        answer = gateway.post(f"{path}/bookings", body, "other")
        assert answer.status_code == 400, (body, answer.text)
        assert answer.json()["errors"][0]["field"] == field, body
    not_json = requests_post(gateway, f"{path}/bookings", "other", "{start")
    assert not_json.json()["errors"][0]["field"] == "body"

    one = f"{path}/bookings/{booking['id']}"
    answer = gateway.post(f"{one}/rejection", {"reason": " "}, "zhao")
    assert answer.json()["errors"][0]["field"] == "reason"
    answer = gateway.post(f"{one}/check-in", {}, "zhao")  # not approved yet
    assert answer.json()["errors"][0]["field"] == "booking_id"
    answer = gateway.get(f"{path}/utilisation", "zhao", params={"end": iso(now)})
    assert answer.json()["errors"][0]["field"] == "start"
    answer = gateway.get(INSTRUMENTS, "wang", params={"owner": "jsqi\x00"})
    assert answer.json()["errors"][0]["field"] == "owner"
    answer = gateway.post(f"{one}/rejection", {"reason": "维护\x00"}, "zhao")
    assert answer.json()["errors"][0]["field"] == "reason"

    assert stored_events(gateway, "catalog") == before
    stored = gateway.get(path, "zhao").json()["bookings"]
    assert [{**b, "instrument_id": booking["instrument_id"]} for b in stored] == [
        booking
    ]  # still as requested


def requests_post(gateway, path: str, who: str, data: str):
    return requests.post(
        f"{gateway.base}{path}",
        data=data,
        headers={**gateway.headers(who), "Content-Type": "application/json"},
        timeout=10,
    )


# -- the admin's catalog upkeep (4.1, 5.1.5, 6) --------------------------------

INSTITUTION = {"code": "JSCT-01", "name": "江苏某检测中心", "kind": "lab"}
QUALIFICATION = {
    "kind": "CMA",
    "cert_no": "CMA-2026-01",
    "scope_codes": ["6.3"],
    "valid_from": "2026-01-01",
    "valid_to": "2026-12-31",
}


def qualified_on(gateway, day: str) -> list[str]:
    answer = gateway.get(
        "/api/v1/catalog/qualified-institutions", params={"item": "6.3", "on": day}
    )
    return [i["institution_code"] for i in answer.json()["institutions"]]


def qualified_institution(gateway) -> str:
    """An institution with a CMA for 6.3 through 2026; its qualification path."""
    registered = gateway.post("/api/v1/catalog/institutions", INSTITUTION, "admin")
    assert registered.status_code == 201, registered.text
    institution = f"/api/v1/catalog/institutions/{registered.json()['id']}"
    granted = gateway.post(f"{institution}/qualifications", QUALIFICATION, "admin")
    assert granted.status_code == 201, granted.text
    return f"{institution}/qualifications/{QUALIFICATION['cert_no']}"


def test_the_admin_keeps_qualifications_items_and_the_guide(gateway):
    qualification = qualified_institution(gateway)
    assert qualified_on(gateway, "2026-06-01") == ["JSCT-01"]

    def status(action: str, day: str) -> dict:
        body = {"action": action, "effective_on": day, "reason": "监督检查发现问题"}
        answer = gateway.post(f"{qualification}/status", body, "admin")
        assert answer.status_code == 200, answer.text
        return answer.json()

    suspended = status("suspend", "2026-05-01")
    assert suspended["qualifications"][0]["status"] in ("valid", "suspended")
    assert qualified_on(gateway, "2026-04-30") == ["JSCT-01"]
    assert qualified_on(gateway, "2026-06-01") == []
    status("reinstate", "2026-07-01")
    assert qualified_on(gateway, "2026-07-15") == ["JSCT-01"]
    assert qualified_on(gateway, "2027-06-01") == []
    renewed = gateway.post(
        f"{qualification}/renewal", {"valid_to": "2027-12-31"}, "admin"
    )
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["qualifications"][0]["valid_to"] == "2027-12-31"
    assert qualified_on(gateway, "2027-06-01") == ["JSCT-01"]

    item = gateway.get("/api/v1/catalog/items/6.3.1").json()
    revised = gateway.post(
        "/api/v1/catalog/items/6.3.1/revision",
        {"cycle_days": item["cycle_days"] + 2, "materials": ["检测委托书"]},
        "admin",
    )
    assert revised.status_code == 200, revised.text
    public = gateway.get("/api/v1/catalog/items/6.3.1").json()
    assert (public["cycle_days"], public["materials"]) == (
        item["cycle_days"] + 2,
        ["检测委托书"],
    )
    assert public["name"] == item["name"]  # what was not sent stays

    guide = gateway.post(
        "/api/v1/catalog/guide/revision", {"complaint_phone": "025-66668888"}, "admin"
    )
    assert guide.status_code == 200, guide.text
    shown = gateway.get("/api/v1/public/guide").json()
    assert shown["complaint_phone"] == "025-66668888"
    assert shown["version"] == guide.json()["version"] == 2


def test_only_the_admin_keeps_the_catalog_and_bad_upkeep_stores_nothing(gateway):
    qualification = qualified_institution(gateway)
    before = stored_events(gateway, "catalog")
    writes = [
        (
            f"{qualification}/status",
            {"action": "suspend", "effective_on": "2026-05-01"},
        ),
        (f"{qualification}/renewal", {"valid_to": "2027-12-31"}),
        ("/api/v1/catalog/items/6.3.1/revision", {"cycle_days": 9}),
        ("/api/v1/catalog/guide/revision", {"complaint_phone": "025-11112222"}),
    ]
    for who in ["wang", "zhao", "other", "sun", "ops", "chen", "cheng", None]:
        for url, body in writes:
            answer = gateway.post(url, body, who)
            assert answer.status_code == (401 if who is None else 403), (who, url)

    bad = [
        (f"{qualification}/status", {"action": "pause"}, "action"),
        (
            f"{qualification}/status",
            {"action": "suspend", "effective_on": "2026-05-01"},
            "reason",
        ),
        (
            f"{qualification}/status",
            {"action": "revoke", "effective_on": "五月", "reason": "x"},
            "effective_on",
        ),
        (f"{qualification}/renewal", {"valid_to": "2026-06-30"}, "valid_to"),
        (f"{qualification}/renewal", {"valid_to": 2027}, "valid_to"),
        (f"{qualification}X/renewal", {"valid_to": "2027-12-31"}, "cert_no"),
        ("/api/v1/catalog/items/6.3.1/revision", {"cycle_days": "9"}, "cycle_days"),
        ("/api/v1/catalog/items/6.3.1/revision", {"cycle_days": True}, "cycle_days"),
        ("/api/v1/catalog/items/6.3.1/revision", {"materials": 5}, "materials"),
        ("/api/v1/catalog/items/6.3.1/revision", {"owner": "x"}, "owner"),
        ("/api/v1/catalog/items/6.3.1/revision", {"name": "检测\x00"}, "name"),
        (
            "/api/v1/catalog/items/6.3.1/revision",
            {"materials": ["委托书", "样品\x00"]},
            "materials[1]",
        ),
        ("/api/v1/catalog/institutions", {**INSTITUTION, "code": "JS\x00CT"}, "code"),
        ("/api/v1/catalog/guide/revision", {"process": []}, "process"),
        ("/api/v1/catalog/guide/revision", {"fax": "025-1"}, "fax"),
    ]
    for url, body, field in bad:
        answer = gateway.post(url, body, "admin")
        assert answer.status_code == 400, (url, body, answer.text)
        assert field in [e["field"] for e in answer.json()["errors"]], (body, field)
    missing = "/api/v1/catalog/items/6.99/revision"
    assert gateway.post(missing, {"cycle_days": 9}, "admin").status_code == 404
    unknown = "/api/v1/catalog/institutions/nobody/qualifications/CMA-1/renewal"
    assert gateway.post(unknown, {"valid_to": "2027-12-31"}, "admin").status_code == 404

    assert stored_events(gateway, "catalog") == before
    assert qualified_on(gateway, "2026-06-01") == ["JSCT-01"]
