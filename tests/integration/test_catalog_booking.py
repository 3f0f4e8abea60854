"""Concurrent bookings of one instrument, on SQLite and on PostgreSQL (6.7).

Two service instances (two application objects on one database) request
bookings at the same moment. Both load the instrument before either saves, so
one save hits a version conflict; its retry sees the fresh state: an overlap
is refused with ``BookingConflict``, a separate interval is booked as well.
"""

import threading
from datetime import datetime, timedelta, timezone

import eventlet
import pytest

from services.catalog.instruments import BookingConflict, Instrument, request_booking
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
