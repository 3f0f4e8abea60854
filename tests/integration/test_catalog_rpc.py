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
