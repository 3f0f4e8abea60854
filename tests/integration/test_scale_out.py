"""Two instances of every service on PostgreSQL and RabbitMQ, as a province
runs them when one machine is not enough.

Demands are driven through intake's RPC (register, take, review the contract,
refer) by concurrent clients; half-way, one instance is killed (SIGKILL). The
test shows that both instances did the work, that exactly one outbox relay
per service was active at every look, that each command took effect once,
that every stored event reached RabbitMQ and every subscribed consumer
processed it once (its tracking record), and that the survivor took over the
relays and the rest of the load.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter

import eventlet
import pytest
from kombu import Connection, Exchange, Queue
from nameko.standalone.rpc import ClusterRpcProxy

from services.intake.schemas import to_envelope
from shared import (
    rpc,  # noqa: F401 - registers our errors for deserialisation
    topology,
)
from shared.application import ServiceApplication
from shared.run import SERVICE_CLASSES
from tests import support

DEMANDS = 48
CONCURRENCY = 8
KILL_AFTER = DEMANDS // 2
PASSED = {"capability": True, "method": True, "cycle": True, "fee": True}
STAFF = {"actor": {"id": "staff-a", "role": "staff", "institution": "jsqi"}}
FORM = {
    "applicant": "扬州某玩具有限公司",
    "contact_phone": "0514-87651234",
    "service_item_code": "6.3.1",
    "description": "玩具安全性能检测",
    "channel": "window",
}
RELAY_GAUGE = re.compile(r"^qi_([a-z]+)_relay_active$")


def reader(service: str, url: str) -> ServiceApplication:
    """A plain application on ``service``'s database, to read what it stored."""
    return type(f"{service.title()}Reader", (ServiceApplication,), {"name": service})(
        url
    )


def relayed_services() -> set[str]:
    """The services that publish events, each through its outbox relay."""
    from shared.providers import OutboxRelayRunner
    from shared.run import load

    return {
        name
        for name in SERVICE_CLASSES
        if any(isinstance(v, OutboxRelayRunner) for v in vars(load(name)).values())
    }


def relay_holders(instances) -> dict[str, int]:
    """Per service with a relay: how many instances say they hold its lock.

    (Every process exports the relay gauge, at 0 where no relay runs.)"""
    relayed = relayed_services()
    holders: Counter = Counter()
    for instance in instances:
        for family, value in _relay_gauges(instance.scrape()):
            if family in relayed:
                holders[family] += int(value)
    return dict(holders)


def _relay_gauges(text: str):
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        found = RELAY_GAUGE.match(family.name)
        if found:
            for sample in family.samples:
                yield found.group(1), sample.value


CLIENT_ERRORS: Counter = Counter()


def attempt(step, done, tries: int = 4):
    """Run one RPC command; after an error (an instance died under it, so the
    request may have been applied and redelivered), look before trying again."""
    for remaining in range(tries - 1, -1, -1):
        try:
            return step()
        except Exception as exc:  # noqa: BLE001 - timeout, lost reply, refused repeat
            CLIENT_ERRORS[type(exc).__name__] += 1
            if done():
                return None
            if not remaining:
                raise
            eventlet.sleep(0.5)


def drive(intake, number: int) -> str:
    """One demand from registration to referral; returns its id."""
    key = f"scale-out-{number}"
    demand = attempt(
        lambda: intake.register_demand(FORM, audit_data=STAFF, idempotency_key=key),
        lambda: False,
    )
    demand_id = demand["id"]

    def state():
        return intake.get_demand(demand_id)

    attempt(
        lambda: intake.take(demand_id, "staff-a", audit_data=STAFF),
        lambda: state()["owner"] == "staff-a",
    )
    attempt(
        lambda: intake.review_contract(demand_id, "staff-a", PASSED, audit_data=STAFF),
        lambda: any(
            e["event"] == "ContractReviewed" for e in intake.history(demand_id)
        ),
    )
    attempt(
        lambda: intake.decide(demand_id, "staff-a", "referred", {}, audit_data=STAFF),
        lambda: state()["status"] == "referred",
    )
    return demand_id


@pytest.fixture
def two_instances(clean_broker, tmp_path):
    urls, cleanup = support.database_urls("postgres", tmp_path)
    env = {f"QI_{s.upper()}_DATABASE_URL": url for s, url in urls.items()}
    env.update(
        QI_AMQP_URI=clean_broker,
        QI_VAR_DIR=str(tmp_path),
        QI_PROCESSES="one",
        QI_METRICS_REFRESH_SECONDS="0.2",
        QI_RELAY_STANDBY_SECONDS="0.2",
        QI_RPC_TIMEOUT_SECONDS="20",
    )
    # eventsourcing's per-application override (<APP>_POSTGRES_...): twelve
    # containers with the default pool of 5 would exceed max_connections=100
    for service in SERVICE_CLASSES:
        env[f"{service.upper()}_POSTGRES_POOL_SIZE"] = "1"
        env[f"{service.upper()}_POSTGRES_MAX_OVERFLOW"] = "4"
    services = tuple(SERVICE_CLASSES)
    instances = [support.ServicesProcess(env, services) for _ in range(2)]
    try:
        for instance in instances:
            instance.start(timeout=40)
        yield instances, urls
    finally:
        for instance in instances:
            instance.kill()
        cleanup()


def test_two_instances_share_the_work_and_one_can_die_without_loss(
    two_instances, clean_broker
):
    started = time.monotonic()
    instances, urls = two_instances
    doomed, survivor = instances

    # every relay elected once: one holder per service
    holders = support.wait_for(
        lambda: (h := relay_holders(instances)) and set(h.values()) == {1} and h,
        timeout=20,
    )
    relay_services = set(holders)
    assert {"intake", "catalog", "complaints"} <= relay_services

    # a tap on everything intake publishes, to see what reached RabbitMQ
    tap = Queue(
        "scale-out-tap",
        exchange=Exchange("intake.events", type="topic", durable=True),
        routing_key="#",
        durable=False,
        auto_delete=False,
    )
    with Connection(clean_broker) as conn:
        tap(conn.channel()).declare()

    samples: list[dict[str, int]] = []
    sampling = True

    def sample_relays():
        while sampling:
            samples.append(relay_holders(instances))
            eventlet.sleep(0.25)

    sampler = eventlet.spawn(sample_relays)
    config = {"AMQP_URI": clean_broker}

    def clients(numbers: range) -> list:
        """CONCURRENCY clients, each with a proxy of its own (a proxy's reply
        socket serves one caller), sharing ``numbers`` out between them."""

        def client(share):
            with ClusterRpcProxy(config, timeout=30) as cluster:
                return [drive(cluster.intake, n) for n in share]

        return [
            eventlet.spawn(client, numbers[i::CONCURRENCY]) for i in range(CONCURRENCY)
        ]

    demand_ids = [d for c in clients(range(KILL_AFTER)) for d in c.wait()]
    # the load goes on while one instance dies under it
    rest = clients(range(KILL_AFTER, DEMANDS))
    eventlet.sleep(0.3)
    sampling = False
    sampler.wait()
    before_kill = {"doomed": doomed.scrape(), "survivor": survivor.scrape()}
    doomed.kill()
    demand_ids += [d for c in rest for d in c.wait()]
    assert len(set(demand_ids)) == DEMANDS

    # the survivor holds every relay and has published everything
    support.wait_for(
        lambda: relay_holders([survivor]) == dict.fromkeys(relay_services, 1),
        timeout=15,
    )
    intake_store = reader("intake", urls["intake"])
    try:
        newest = intake_store.recorder.max_notification_id()
        support.wait_for(
            lambda: (
                support.metric_value(survivor.scrape(), "qi_intake_relay_position")
                == newest
            ),
            timeout=15,
        )
        notifications = intake_store.recorder.select_notifications(
            start=1, limit=100_000
        )
        envelopes = [
            to_envelope(intake_store.mapper.to_domain_event(n), n)
            for n in notifications
        ]
    finally:
        intake_store.close()

    with ClusterRpcProxy(config, timeout=30) as cluster:
        statuses = [cluster.intake.get_demand(d)["status"] for d in demand_ids]
    assert statuses == ["referred"] * DEMANDS

    # 1. each relay had exactly one active holder at every look
    assert len(samples) >= 3
    for seen in samples:
        assert seen == dict.fromkeys(relay_services, 1), seen

    # 2. both instances did the work before one died, and the one that died
    # held relays (the first one up takes them), so the takeover was real
    held = dict(_relay_gauges(before_kill["doomed"]))
    assert any(held.values()), held
    for name in ("doomed", "survivor"):
        text = before_kill[name]
        assert (
            support.metric_value(
                text, "qi_intake_rpc_requests_total", method="register_demand"
            )
            > 0
        ), name

    # 3. each command took effect once: one of each event per demand
    kinds = Counter(
        (str(n.originator_id), n.topic.rsplit(".", 1)[-1]) for n in notifications
    )
    for demand_id in demand_ids:
        # a review has no rule refusing a repeat: one review per demand shows
        # that a request redelivered after its instance died ran once
        for kind in ("Registered", "Taken", "ContractReviewed", "Decided"):
            assert kinds[(demand_id, kind)] == 1, (demand_id, kind)

    # 4. every published event reached RabbitMQ (a relay taking over may
    # publish a batch again: consumers recognise those by event id)
    expected = {e.event_id: e for e in envelopes if e is not None}
    tapped: list[dict] = []

    def every_event_tapped() -> bool:
        tapped.extend(support.drain(clean_broker, "scale-out-tap", 100_000, 0.5))
        return {body["event_id"] for body in tapped} >= set(expected)

    try:
        support.wait_for(every_event_tapped, timeout=20)
    except AssertionError:
        missing = set(expected) - {body["event_id"] for body in tapped}
        raise AssertionError(
            f"{len(missing)} of {len(expected)} events never reached RabbitMQ: "
            f"{sorted((expected[m].position, expected[m].type) for m in missing)}"
        ) from None

    # 5. every subscriber of intake's events processed each of them, once
    for subscription in topology.SUBSCRIPTIONS:
        if subscription.source != "intake" or (
            subscription.consumer not in SERVICE_CLASSES
        ):
            continue
        wanted = {
            e.position for e in expected.values() if e.type == subscription.event_type
        }
        consumer = reader(subscription.consumer, urls[subscription.consumer])
        try:
            support.wait_for(
                lambda c=consumer, w=wanted: all(
                    c.has_processed("intake", p) for p in w
                ),
                timeout=20,
            )
        finally:
            consumer.close()

    elapsed = time.monotonic() - started
    print(
        json.dumps(
            {
                "demands": DEMANDS,
                "events_stored": len(notifications),
                "envelopes": len(expected),
                "tapped_messages": len(tapped),
                "republished_after_takeover": len(tapped) - len(expected),
                "client_errors": dict(CLIENT_ERRORS),
                "relay_samples": len(samples),
                "seconds": round(elapsed, 1),
            }
        )
    )
