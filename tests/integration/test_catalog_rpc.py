"""Catalog's RPC entrypoints, called as the gateway calls them (real RabbitMQ)."""

import eventlet
import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.catalog.service import CatalogService
from shared import rpc  # noqa: F401 - registers our errors for deserialisation
from shared.errors import ConflictError, ValidationFailed


@pytest.fixture
def catalog_runner(databases, runner_factory, clean_broker):
    return runner_factory(CatalogService)


@pytest.fixture
def catalog(catalog_runner, clean_broker):
    with ClusterRpcProxy({"AMQP_URI": clean_broker}, timeout=20) as cluster:
        yield cluster.catalog


@pytest.fixture
def another_client(catalog_runner, clean_broker):
    """A second caller (a proxy serves one greenthread at a time)."""
    with ClusterRpcProxy({"AMQP_URI": clean_broker}, timeout=20) as cluster:
        yield cluster.catalog


def test_of_two_concurrent_overlapping_bookings_exactly_one_succeeds(
    catalog, another_client
):
    instrument = catalog.register_instrument(
        {
            "owner_id": "lab-1",
            "name": "高分辨质谱仪",
            "capabilities": ["农残检测"],
            "price_per_hour": "800.00",
        }
    )
    catalog.open_instrument_slots(
        instrument["id"],
        [["2030-12-01T08:00:00+08:00", "2030-12-01T18:00:00+08:00"]],
    )

    def book(client, booking_id, start, end):
        try:
            return client.book_instrument(
                instrument["id"], booking_id, f"customer-{booking_id}", start, end
            )
        except ConflictError as exc:
            return exc

    first = eventlet.spawn(
        book, catalog, "b1", "2030-12-01T09:00:00+08:00", "2030-12-01T11:00:00+08:00"
    )
    second = eventlet.spawn(
        book,
        another_client,
        "b2",
        "2030-12-01T10:00:00+08:00",
        "2030-12-01T12:00:00+08:00",
    )
    results = [first.wait(), second.wait()]
    conflicts = [r for r in results if isinstance(r, ConflictError)]
    booked = [r for r in results if isinstance(r, dict)]
    assert len(conflicts) == 1 and len(booked) == 1
    assert "已被预约" in str(conflicts[0])


def test_a_quote_is_drafted_issued_and_accepted_once(catalog):
    quote = catalog.draft_quote(
        "demand-1",
        {
            "lines": [
                {
                    "item_code": "6.3.1",
                    "parameter": "阻燃性能",
                    "unit_price": "120.50",
                    "samples": 10,
                }
            ],
            "customer_kind": "company",
            "green_channel": True,
        },
    )
    # 1205.00 less 5% for ten samples = 1144.75; green channel +30% = 343.43
    assert quote["breakdown"]["total"] == "1488.18"
    catalog.change_quote(quote["id"], "issue")
    accepted = catalog.change_quote(quote["id"], "accept", [1])
    assert accepted["state"] == "accepted"
    with pytest.raises(ConflictError):
        catalog.change_quote(quote["id"], "revise", [[]])
    with pytest.raises(ValidationFailed) as caught:
        catalog.draft_quote("demand-1", {"lines": [], "price": 1})
    assert caught.value.errors[0]["field"] == "price"


WEEKDAYS = {
    d: ["08:30-12:00", "13:30-17:30"] for d in ("mon", "tue", "wed", "thu", "fri")
}


def test_an_equipment_check_past_due_is_flagged_overdue(catalog):
    venue = catalog.open_venue(
        {
            "institution_id": "lab-1",
            "kind": "window",
            "name": "一站式服务窗口",
            "address": "南京市玄武区某路1号",
            "hours": WEEKDAYS,
            "accepts": ["6.3"],
            "contact_phone": "025-83210000",
        }
    )
    extinguisher = catalog.register_equipment(
        {
            "venue_id": venue["id"],
            "name": "干粉灭火器",
            "category": "fire",
            "asset_no": "XF-001",
            "interval_days": 30,
            "last_checked": "2026-03-01",
        }
    )
    assert extinguisher["next_due"] == "2026-03-31"
    assert catalog.overdue_equipment("2026-03-31") == []  # on the due day: on time
    (late,) = catalog.overdue_equipment("2026-04-01")
    assert late["asset_no"] == "XF-001" and late["overdue"] is True
    catalog.record_equipment_check(extinguisher["id"], "2026-04-02", "ok", "staff-1")
    assert catalog.overdue_equipment("2026-04-03") == []
    assert [v["name"] for v in catalog.venues("lab-1")] == ["一站式服务窗口"]
    with pytest.raises(ValidationFailed):
        catalog.overdue_equipment("next tuesday")


def test_experts_for_an_item_are_the_available_ones_best_fit_first(catalog):
    catalog.register_expert(
        {
            "name": "王工",
            "fields": ["6.3"],
            "title": "高级工程师",
            "phone": "13900000001",
        }
    )
    exact = catalog.register_expert(
        {"name": "李工", "fields": ["6.3.1"], "title": "研究员", "phone": "13900000002"}
    )
    catalog.register_expert(
        {"name": "赵工", "fields": ["6.1"], "title": "工程师", "phone": "13900000003"}
    )
    found = catalog.experts_for("6.3.1", "2026-05-01")
    assert [e["name"] for e in found] == ["李工", "王工"]
    assert found[0]["id"] == exact["id"]


def test_a_booking_is_approved_used_and_counted_in_utilisation(catalog):
    instrument = catalog.register_instrument(
        {
            "owner_id": "lab-2",
            "name": "扫描电子显微镜",
            "capabilities": ["形貌分析"],
            "price_per_hour": "600",
        }
    )
    day = "2030-12-02T{}:00+08:00"
    catalog.open_instrument_slots(
        instrument["id"], [[day.format("08:00"), day.format("18:00")]]
    )
    catalog.book_instrument(
        instrument["id"], "b1", "customer-1", day.format("09:00"), day.format("11:00")
    )
    approved = catalog.booking_action(
        instrument["id"],
        "approve",
        "b1",
        {"staff_id": "staff-3", "now": day.format("08:00")},
    )
    assert approved["state"] == "approved"
    catalog.booking_action(
        instrument["id"], "check_in", "b1", {"now": day.format("09:00")}
    )
    done = catalog.booking_action(
        instrument["id"], "check_out", "b1", {"actual_end": day.format("11:00")}
    )
    assert done["state"] == "checked_out"
    used = catalog.instrument_utilisation(
        instrument["id"], day.format("08:00"), day.format("18:00")
    )
    assert used == pytest.approx(0.2)  # 2 of 10 open hours
    with pytest.raises(ValidationFailed) as caught:
        catalog.booking_action(instrument["id"], "approve", "b1", {})
    assert caught.value.errors[0]["field"] == "staff_id"
