"""Fault: events published while their consumers' queues do not exist.

RabbitMQ drops a message that no queue is bound to receive (delivery contract
4). The outbox relay declares every subscribed queue before it publishes, so
events stored while a consumer has never run wait in its queue; and a queue
that vanished while the relay was publishing (deleted by hand, lost with a
node) is noticed from the broker's return of the unroutable message, declared
again and the batch published again.
"""

from __future__ import annotations

import eventlet
import pytest

from services.evaluation.service import EvaluationService
from services.intake.application import IntakeApplication
from services.intake.schemas import to_envelope
from shared import topology
from shared.amqp import Unroutable
from shared.outbox import OutboxRelay
from tests import support
from tests.faults import tally

FORM = {
    "applicant": "盐城某汽车零部件有限公司",
    "contact_phone": "0515-88201234",
    "service_item_code": "6.3",
    "description": "汽车座椅阻燃性能检测",
    "channel": "website",
}
REGISTERED_QUEUE = next(
    s.queue_name
    for s in topology.SUBSCRIPTIONS
    if (s.source, s.event_type) == ("intake", "DemandRegistered")
)


@pytest.fixture
def intake(databases, clean_broker):
    app = IntakeApplication()
    yield app
    app.close()


def delete_queue(amqp_uri: str, name: str) -> None:
    from kombu import Connection

    with Connection(amqp_uri) as conn:
        conn.channel().queue_delete(name)


def queue_exists(amqp_uri: str, name: str) -> bool:
    import amqp.exceptions

    try:
        support.queue_depth(amqp_uri, name)
        return True
    except amqp.exceptions.NotFound:
        return False


@pytest.mark.parametrize("backend", ["postgres"])
def test_events_stored_before_any_consumer_ran_wait_in_its_queue(
    intake, databases, runner_factory, clean_broker, fault_report
):
    demands = 30
    for _ in range(demands):
        intake.register_demand(FORM)
    assert not queue_exists(clean_broker, REGISTERED_QUEUE)

    relay = OutboxRelay(intake, to_envelope, amqp_uri=clean_broker)
    assert relay.pump_once() == demands
    waiting = support.queue_depth(clean_broker, REGISTERED_QUEUE)

    runner_factory(EvaluationService)  # evaluation starts only now
    url = databases["evaluation"]
    support.wait_for(
        lambda: tally.facts_noted(url)[1] >= demands, timeout=30, interval=0.1
    )
    noted, distinct = tally.facts_noted(url)
    fault_report(
        "published before its consumer existed",
        sent=demands,
        effects=distinct,
        lost=demands - distinct,
        duplicated=noted - distinct,
        parked=len(tally.parked_rows(url)),
        note=f"{waiting} waited in the queue the relay declared",
    )
    assert waiting == demands
    assert (noted, distinct) == (demands, demands)


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_queue_deleted_under_a_running_relay_is_declared_again_and_refilled(
    intake, databases, runner_factory, clean_broker, fault_report
):
    url = databases["evaluation"]
    relay = OutboxRelay(intake, to_envelope, amqp_uri=clean_broker)
    relaying = eventlet.spawn(relay.run, eventlet.sleep)
    try:
        evaluation = runner_factory(EvaluationService)
        for _ in range(10):
            intake.register_demand(FORM)
        support.wait_for(
            lambda: tally.facts_noted(url)[1] >= 10, timeout=30, interval=0.1
        )
        evaluation.stop()  # the consumer is down, and its queue goes missing
        delete_queue(clean_broker, REGISTERED_QUEUE)

        for _ in range(20):
            intake.register_demand(FORM)
        support.wait_for(lambda: relay.lag() == 0, timeout=30)
        support.wait_for(lambda: queue_exists(clean_broker, REGISTERED_QUEUE))
        waiting = support.queue_depth(clean_broker, REGISTERED_QUEUE)

        runner_factory(EvaluationService)
        support.wait_for(
            lambda: tally.facts_noted(url)[1] >= 30, timeout=30, interval=0.1
        )
    finally:
        relay.stop()
        relaying.wait()
    noted, distinct = tally.facts_noted(url)
    fault_report(
        "queue deleted under a running relay",
        sent=30,
        effects=distinct,
        lost=30 - distinct,
        duplicated=noted - distinct,
        parked=len(tally.parked_rows(url)),
        note=f"{waiting} waited in the queue declared again",
    )
    assert waiting >= 20
    assert (noted, distinct) == (30, 30)


@pytest.mark.parametrize("backend", ["postgres"])
def test_only_an_event_someone_subscribes_to_fails_the_batch_when_returned(
    intake, clean_broker
):
    relay = OutboxRelay(intake, to_envelope, amqp_uri=clean_broker)
    relay.publisher.connect()
    relay._declare()
    try:
        # nobody subscribes to it: the broker returns it and the relay lets go
        relay._publish([("NobodyListens", {"event_id": "e-1"})])
        delete_queue(clean_broker, REGISTERED_QUEUE)
        with pytest.raises(Unroutable, match="DemandRegistered"):
            relay._publish([("DemandRegistered", {"event_id": "e-2"})])
    finally:
        relay.publisher.close()
