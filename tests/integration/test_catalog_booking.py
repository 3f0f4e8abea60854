"""Concurrent bookings of one instrument, on SQLite and on PostgreSQL (6.7).

Two service instances (two application objects on one database) request
bookings at the same moment. Both load the instrument before either saves, so
one save hits a version conflict; its retry sees the fresh state: an overlap
is refused with ``BookingConflict``, a separate interval is booked as well.

Behind the gateway the catalog checks the caller of the audit context too: an
institution books in its own name, the owner keeps the instrument and decides,
a booking's institution may cancel it, anyone else finds no such booking.
"""

import threading
from datetime import datetime, timedelta, timezone

import eventlet
import pytest
from sqlalchemy import delete

from services.catalog import sharing
from services.catalog.application import CatalogApplication
from services.catalog.instruments import BookingConflict, Instrument, request_booking
from services.catalog.projections import directory
from shared.audit import Actor, AuditContext, audit_scope
from shared.errors import NotFound, ValidationFailed
from tests import support

CST = timezone(timedelta(hours=8))
NOW = datetime(2025, 3, 2, 9, tzinfo=CST)


def at(hour: float) -> datetime:
    return datetime(2025, 3, 3, tzinfo=CST) + timedelta(hours=hour)


CatalogTestApplication = support.racing_application("catalog")


@pytest.fixture
def instances(databases):
    apps = [CatalogTestApplication(), CatalogTestApplication()]
    yield apps
    for app in apps:
        app.close()


@pytest.fixture
def instrument_id(instances):
    instrument = Instrument.register(
        owner_id="jsqi",
        name="高分辨透射电子显微镜",
        capabilities=["晶体结构分析"],
        price_per_hour="650",
    )
    instrument.open_slots([(at(8), at(17))])
    instances[0].save(instrument)
    return instrument.id


def race(instances, instrument_id, *requests):
    """Run one request on each instance concurrently; return result or error."""
    barrier = threading.Barrier(len(requests))
    for app in instances:
        app.barrier = barrier

    def attempt(app, booking_id, requester, start, end):
        try:
            return request_booking(
                app, instrument_id, booking_id, requester, start, end, NOW
            )
        except BookingConflict as conflict:
            return conflict

    threads = [
        eventlet.spawn(attempt, app, *request)
        for app, request in zip(instances, requests, strict=True)
    ]
    return [thread.wait() for thread in threads]


def test_of_two_concurrent_overlapping_bookings_exactly_one_succeeds(
    instances, instrument_id
):
    outcomes = race(
        instances,
        instrument_id,
        ("b-1", "cust-1", at(9), at(11)),
        ("b-2", "cust-2", at(10), at(12)),
    )

    won = [o for o in outcomes if isinstance(o, dict)]
    lost = [o for o in outcomes if isinstance(o, BookingConflict)]
    assert len(won) == 1 and len(lost) == 1
    assert "该时段已被预约" in str(lost[0])
    assert sum(app.conflicts for app in instances) == 1  # the retry path ran
    fresh = CatalogTestApplication()
    try:
        stored = fresh.repository.get(instrument_id)
        assert list(stored.bookings) == [won[0]["id"]]
        assert fresh.verify_all() == (1, [])
    finally:
        fresh.close()


def test_two_concurrent_bookings_of_separate_intervals_both_succeed(
    instances, instrument_id
):
    outcomes = race(
        instances,
        instrument_id,
        ("b-1", "cust-1", at(9), at(11)),
        ("b-2", "cust-2", at(11), at(12)),  # starts when the other ends
    )

    assert all(isinstance(o, dict) for o in outcomes), outcomes
    assert sum(app.conflicts for app in instances) == 1
    stored = instances[0].repository.get(instrument_id)
    assert sorted(stored.bookings) == ["b-1", "b-2"]
    assert stored.version == 4  # registered, slots opened, two requests


def acting(role: str, institution: str = "", who: str = "someone"):
    return audit_scope(AuditContext(Actor(who, role, institution), channel="web"))


def refused(command) -> str:
    """The field a ValidationFailed names, or "404" for NotFound."""
    try:
        command()
    except ValidationFailed as exc:
        return exc.errors[0]["field"]
    except NotFound:
        return "404"
    raise AssertionError("the command was not refused")


def test_the_catalog_itself_lets_only_the_right_institution_act(
    instances, instrument_id
):
    app = instances[0]
    ninth = at(9).isoformat(), at(10).isoformat()
    with acting("staff", "nj-lab", "other"):
        assert refused(lambda: sharing.book(app, instrument_id, "b-0", "jsqi", *ninth))
        sharing.book(app, instrument_id, "b-1", "nj-lab", *ninth, now=NOW.isoformat())
    version = app.repository.get(instrument_id).version
    decide = {"staff_id": "x", "now": NOW.isoformat()}
    cancel = {"by": "x", "now": NOW.isoformat()}

    def action(name, args):
        return lambda: sharing.booking_action(app, instrument_id, name, "b-1", **args)

    slots = [[at(18).isoformat(), at(19).isoformat()]]
    with acting("staff", "nj-lab", "other"):  # the booking's, not the owner
        assert refused(action("approve", decide)) == "role"
        assert refused(action("check_in", {"now": NOW.isoformat()})) == "role"
        assert refused(lambda: sharing.open_slots(app, instrument_id, slots)) == "role"
        no_shows = sharing.record_no_shows
        assert refused(lambda: no_shows(app, instrument_id, at(12).isoformat()))
    for role, institution in [("staff", "sz-lab"), ("regulator", ""), ("ops", "")]:
        with acting(role, institution):
            assert refused(action("cancel", cancel)) == "404"
            assert refused(action("approve", decide)) == "404"
    with acting("admin"):
        assert refused(lambda: sharing.book(app, instrument_id, "b-2", "", *ninth))
    assert app.repository.get(instrument_id).version == version  # nothing stored

    with acting("manager", "jsqi", "zhao"):
        assert action("approve", {**decide, "staff_id": "zhao"})()["state"] == (
            "approved"
        )
    with acting("manager", "nj-lab", "othermgr"):
        assert action("cancel", {**cancel, "by": "othermgr"})()["state"] == (
            "cancelled"
        )


def test_instruments_are_listed_across_the_network_or_by_owner(databases):
    app = CatalogApplication()
    try:
        for owner in ("jsqi", "nj-lab", "jsqi"):
            sharing.register_instrument(
                app,
                {
                    "owner_id": owner,
                    "name": "电感耦合等离子体质谱仪",
                    "capabilities": ["重金属检测"],
                    "price_per_hour": "500",
                },
            )
        every = sharing.list_instruments(app)
        assert sorted(i["owner_id"] for i in every) == ["jsqi", "jsqi", "nj-lab"]
        own = sharing.list_instruments(app, "nj-lab")
        assert [i["id"] for i in own] == [
            i["id"] for i in every if i["owner_id"] == "nj-lab"
        ]
        assert sharing.get_instrument(app, own[0]["id"]) == own[0]

        # stores from before instruments were listed: a rebuild lists them
        app.kernel.execute(delete(directory).where(directory.c.kind == "instrument"))
        assert sharing.list_instruments(app) == []
        app.view.rebuild()
        assert sharing.list_instruments(app) == every
    finally:
        app.close()
