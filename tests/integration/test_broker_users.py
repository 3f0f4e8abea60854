"""Each service as its own RabbitMQ user (shared/trust.py), in a vhost of this
test: it may publish to its own exchange only, read its own queues only, and
with those permissions the services still do all they do: RPC both ways,
events from intake to referral and evaluation, referral's feedback back to
intake, catalog's answers to referral."""

from __future__ import annotations

import subprocess

import amqp
import amqp.exceptions
import pytest
from kombu import Connection
from nameko.standalone.rpc import ClusterRpcProxy

from services.catalog.service import CatalogService
from services.complaints.service import ComplaintsService
from services.evaluation.service import EvaluationService
from services.intake.service import IntakeService
from services.referral.service import ReferralService
from shared import config, topology, trust
from shared.entrypoints import rejected_counter
from tests import support
from tests.integration.test_referral_rpc import (
    REPORT,
    STAFF,
    lab_staff,
    referred_demand,
    register_labs,
)

PUBLISHERS = ("intake", "referral", "catalog", "complaints", "evaluation")


@pytest.fixture(scope="module")
def vhost_with_users():
    vhost = support.create_vhost()
    uris = support.create_broker_users(vhost)
    admin = f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    with Connection(admin) as conn:  # every exchange and queue, as deployed
        channel = conn.channel()
        for service in PUBLISHERS:
            topology.declare_for_source(channel, service)
    yield admin, uris
    support.delete_vhost(vhost)
    support.delete_broker_users(vhost)


def publish(uri: str, exchange: str, routing_key: str = "NobodyListens") -> None:
    with Connection(uri) as conn:
        channel = conn.channel()
        channel.basic_publish_confirm(
            amqp.Message("{}", content_type="application/json"),
            exchange=exchange,
            routing_key=routing_key,
        )


def refused(service: str) -> float:
    """Every message ``service`` refused so far (signing.REASONS)."""
    return sum(
        sample.value
        for metric in rejected_counter(service).collect()
        for sample in metric.samples
        if sample.name.endswith("_total")
    )


def test_a_service_publishes_to_its_own_exchange_and_no_other(vhost_with_users):
    _, uris = vhost_with_users
    for service in PUBLISHERS:
        publish(uris[service], f"{service}.events")
        for other in PUBLISHERS:
            if other == service:
                continue
            with pytest.raises(amqp.exceptions.AccessRefused) as refused:
                publish(uris[service], f"{other}.events", "ReferralFeedback")
            assert f"exchange '{other}.events'" in str(refused.value)
        # nor straight into a queue, through the default exchange
        with pytest.raises(amqp.exceptions.AccessRefused, match="amq.default"):
            publish(uris[service], "", topology.SUBSCRIPTIONS[0].queue_name)
    # the gateway publishes no events at all
    for source in PUBLISHERS:
        with pytest.raises(amqp.exceptions.AccessRefused):
            publish(uris["gateway"], f"{source}.events")


def test_a_service_reads_its_own_queues_only(vhost_with_users):
    _, uris = vhost_with_users
    for subscription in topology.SUBSCRIPTIONS:
        for service, uri in uris.items():
            with Connection(uri) as conn:
                channel = conn.channel()
                if service == subscription.consumer:
                    channel.basic_get(subscription.queue_name)
                    continue
                with pytest.raises(amqp.exceptions.AccessRefused):
                    channel.basic_get(subscription.queue_name)


def test_the_services_do_all_they_do_as_their_own_users(
    vhost_with_users, databases, monkeypatch
):
    admin, uris = vhost_with_users
    for service, uri in uris.items():
        monkeypatch.setenv(f"QI_{service.upper()}_AMQP_URI", uri)
    monkeypatch.setenv("QI_RELAY_STANDBY_SECONDS", "0.2")
    cfg = {**config.nameko_config(), "AMQP_URI": admin}
    cfg["WEB_SERVER_ADDRESS"] = f"127.0.0.1:{support.free_port()}"
    refused_before = {s: refused(s) for s in ("intake", "referral", "evaluation")}
    runner = trust.ServiceRunner(cfg)
    for cls in (
        IntakeService,
        ReferralService,
        CatalogService,
        EvaluationService,
        ComplaintsService,
    ):
        runner.add_service(cls)
    runner.start()
    try:
        connected = subprocess.run(
            ["rabbitmqctl", "--quiet", "list_connections", "user", "vhost"],
            capture_output=True,
            text=True,
        ).stdout
        vhost = admin.rsplit("/", 1)[1]
        users = {line.split()[0] for line in connected.splitlines() if vhost in line}
        for service in ("intake", "referral", "catalog", "evaluation", "complaints"):
            assert trust.user_name(service, vhost) in users, (service, users)

        # the caller is ops' client (guest): the services answer it and each other
        with ClusterRpcProxy({"AMQP_URI": admin}, timeout=20) as cluster:
            labs = register_labs(cluster)  # catalog publishes, referral keeps it
            case, rid = referred_demand(cluster)  # intake -> referral -> catalog
            cluster.referral.send(rid, audit_data=STAFF)
            lab = lab_staff(labs["A"])
            cluster.referral.accept(rid, audit_data=lab)
            cluster.referral.complete(rid, REPORT, audit_data=lab)
            cluster.referral.deliver_feedback(rid, "合格", audit_data=lab)
            feedback = support.wait_for(
                lambda: cluster.intake.get_demand(case)["referral_feedback"],
                timeout=20,
            )
            assert feedback[0]["report_no"] == REPORT["report_no"]
            support.wait_for(
                lambda: cluster.evaluation.records_for_demand(case)["case"] or {},
                timeout=20,
            )
            for service in ("intake", "referral", "evaluation"):
                assert cluster[service].parked_messages() == [], service
        assert {s: refused(s) for s in refused_before} == refused_before
    finally:
        runner.kill()
