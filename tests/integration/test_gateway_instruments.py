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

from tests.integration import test_gateway_access as access_tests

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
