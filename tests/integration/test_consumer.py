"""Idempotent consumers and parking, with the referral service on real RabbitMQ."""

import json
import subprocess
import sys
import uuid

import pytest

from services.catalog.service import CatalogService
from services.referral.application import ReferralApplication
from services.referral.domain import Referral
from services.referral.service import ReferralService
from shared import parked, topology
from shared.amqp import ConfirmingPublisher
from shared.metrics import for_service
from shared.parking import PARKED, RESOLVED, ParkingLot
from shared.providers import application_of
from tests import support
from tests.integration.test_application_kernel import demand_referred

EXCHANGE = topology.event_exchange("intake").name


@pytest.fixture
def referral_service(databases, runner_factory):
    # opening a referral asks catalog for the item's cycle and candidates
    runner = runner_factory(ReferralService, CatalogService)
    return application_of(support.container_of(runner, "referral"))


def publish(amqp_uri, *bodies):
    publisher = ConfirmingPublisher(amqp_uri)
    try:
        publisher.publish_batch(EXCHANGE, [("DemandReferred", b) for b in bodies])
    finally:
        publisher.close()


def referral_exists(app, demand_id):
    try:
        return app.repository.get(Referral.create_id(demand_id, "6.3"))
    except Exception:  # noqa: BLE001 - not there yet
        return None


def counter(metric, **labels) -> float:
    return metric.labels(**labels)._value.get()


def test_a_duplicate_delivery_has_one_effect_and_is_counted(
    referral_service, clean_broker
):
    duplicates = for_service("referral").duplicates
    before = counter(duplicates, source="intake", event_type="DemandReferred")
    envelope = demand_referred(position=11, demand_id=str(uuid.uuid4()))

    publish(clean_broker, support.signed(envelope), support.signed(envelope))

    support.wait_for(
        lambda: (
            counter(duplicates, source="intake", event_type="DemandReferred")
            == before + 1
        )
    )
    opened = referral_service.repository.get(
        Referral.create_id(envelope.aggregate_id, "6.3")
    )
    assert opened.version == 1
    assert referral_service.recorder.max_notification_id() == 1


def test_a_failing_handler_parks_the_message_and_a_replay_succeeds(
    referral_service, clean_broker, capsys
):
    def catalog_down(*args):
        raise RuntimeError("catalog unavailable")

    lot = ParkingLot(referral_service.kernel)
    envelope = demand_referred(position=21, demand_id=str(uuid.uuid4()))
    with pytest.MonkeyPatch.context() as outage:
        outage.setattr(ReferralApplication, "_new_referral", catalog_down)
        publish(clean_broker, support.signed(envelope))

        (row,) = support.wait_for(lambda: lot.list(PARKED))
        assert row["event_id"] == envelope.event_id
        assert row["attempts"] == 1 and "catalog unavailable" in row["error"]
        assert (
            support.queue_depth(clean_broker, topology.SUBSCRIPTIONS[0].queue_name) == 0
        )
        support.wait_for(lambda: for_service("referral").parked_open._value.get() == 1)

        assert parked.main(["--service", "referral", "list"]) == 0
        assert "catalog unavailable" in capsys.readouterr().out

        # replaying before the cause is fixed parks it again, one attempt more
        assert parked.main(["--service", "referral", "replay", str(row["id"])]) == 0
        support.wait_for(lambda: (lot.get(row["id"]) or {}).get("attempts") == 2)
        assert lot.get(row["id"])["status"] == PARKED

    # the outage is over: the cause is fixed
    assert parked.main(["--service", "referral", "replay", "--all"]) == 0
    support.wait_for(lambda: referral_exists(referral_service, envelope.aggregate_id))
    support.wait_for(lambda: lot.get(row["id"])["status"] == RESOLVED)
    # the gauge is recounted just after the row is resolved, by the same worker
    support.wait_for(lambda: for_service("referral").parked_open._value.get() == 0)


def test_a_service_not_answering_puts_the_message_back_instead_of_parking_it(
    referral_service, clean_broker
):
    from shared.errors import DependencyUnavailable

    lot = ParkingLot(referral_service.kernel)
    requeued = for_service("referral").requeued
    before = counter(requeued, source="intake", event_type="DemandReferred")
    envelope = demand_referred(position=31, demand_id=str(uuid.uuid4()))
    calls = []
    original = ReferralApplication._new_referral

    def catalog_slow_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise DependencyUnavailable("catalog.item did not answer within 10s")
        return original(*args, **kwargs)

    with pytest.MonkeyPatch.context() as outage:
        outage.setattr(
            ReferralApplication, "_new_referral", staticmethod(catalog_slow_once)
        )
        publish(clean_broker, support.signed(envelope))
        support.wait_for(
            lambda: referral_exists(referral_service, envelope.aggregate_id)
        )
    assert len(calls) == 2
    assert counter(requeued, source="intake", event_type="DemandReferred") == (
        before + 1
    )
    assert lot.list(PARKED) == []


def test_a_malformed_message_is_parked_not_lost(referral_service, clean_broker):
    publish(clean_broker, {"type": "DemandReferred", "data": "garbage"})
    lot = ParkingLot(referral_service.kernel)
    (row,) = support.wait_for(lambda: lot.list(PARKED))
    assert row["error"].startswith("EnvelopeError")
    assert json.loads(row["payload"])["data"] == "garbage"


def test_the_parked_command_runs_as_a_process(referral_service):
    result = subprocess.run(
        [sys.executable, "-m", "shared.parked", "--service", "referral", "list"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "no parked messages" in result.stdout
    missing = subprocess.run(
        [
            sys.executable,
            "-m",
            "shared.parked",
            "--service",
            "referral",
            "replay",
            "999",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 1
    assert "no parked message with id 999" in missing.stderr
