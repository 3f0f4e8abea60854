"""Every process's /metrics, scraped as Prometheus would, passes
``promtool check metrics`` and shows the figures ops watch: RED of each RPC
method, event handling and its lag, relay position and lag, queue depths,
parked messages and the business figures, with no id or personal data."""

from __future__ import annotations

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from shared import (
    rpc,  # noqa: F401 - registers our errors for deserialisation
    topology,
)
from shared.errors import ValidationFailed
from shared.run import SERVICE_CLASSES
from tests import support

FORM = {
    "applicant": "扬州某玩具有限公司",
    "contact_phone": "0514-87651234",
    "service_item_code": "6.3.1",
    "description": "玩具安全性能检测",
    "channel": "window",
}
COMPLAINT = {
    "channel": "website",
    "complainant_name": "李四",
    "complainant_phone": "13900001111",
    "description": "检测费用与报价不符",
    "remedy_requested": "退还差价",
    "staff_id": "staff-3",
    "institution_id": "inst-1",
}
PASSED = {"capability": True, "method": True, "cycle": True, "fee": True}
STAFF = {"actor": {"id": "staff-a", "role": "staff", "institution": "jsqi"}}


@pytest.fixture
def platform(clean_broker, tmp_path):
    """Each service in a process of its own, on PostgreSQL and RabbitMQ."""
    urls, cleanup = support.database_urls("postgres", tmp_path)
    env = {f"QI_{s.upper()}_DATABASE_URL": url for s, url in urls.items()}
    env.update(
        QI_AMQP_URI=clean_broker,
        QI_VAR_DIR=str(tmp_path),
        QI_METRICS_REFRESH_SECONDS="0.3",
        QI_RELAY_STANDBY_SECONDS="0.2",
        QI_PROCESSES="one",
    )
    instances = {}
    try:
        # the gateway last: its /healthz pings the others
        for name in sorted(SERVICE_CLASSES, key=lambda n: n == "gateway"):
            instances[name] = support.ServiceInstance(name, env)
            instances[name].start()
        with ClusterRpcProxy({"AMQP_URI": clean_broker}, timeout=20) as cluster:
            yield instances, cluster
    finally:
        for instance in instances.values():
            instance.kill()
        cleanup()


def test_every_endpoint_passes_promtool_and_shows_red_lag_and_business_figures(
    platform,
):
    instances, cluster = platform
    rpc_services = [name for name in instances if name != "gateway"]
    for name in rpc_services:
        assert getattr(cluster, name).ping() == name

    intake = cluster.intake
    demand = intake.register_demand(FORM, audit_data=STAFF)
    with pytest.raises(ValidationFailed):
        intake.register_demand({**FORM, "channel": "pigeon"}, audit_data=STAFF)
    intake.take(demand["id"], "staff-a", audit_data=STAFF)
    intake.review_contract(demand["id"], "staff-a", PASSED, audit_data=STAFF)
    intake.decide(demand["id"], "staff-a", "referred", {}, audit_data=STAFF)
    complaint = cluster.complaints.receive(
        {**COMPLAINT, "demand_id": demand["id"]}, audit_data=STAFF
    )
    cluster.complaints.escalate_all_overdue()

    # referral handles what intake published, whichever of its events it takes
    support.wait_for(
        lambda: (
            support.metric_value(
                instances["referral"].scrape(),
                "qi_referral_handler_seconds_count",
                source="intake",
            )
            >= 1
        ),
        timeout=20,
    )
    # the refresher has read intake's relay position after the last event
    support.wait_for(
        lambda: (
            support.metric_value(
                instances["intake"].scrape(), "qi_intake_relay_position"
            )
            >= 4
        ),
        timeout=20,
    )

    scrapes = {name: instance.scrape() for name, instance in instances.items()}
    for name, text in scrapes.items():
        assert support.promtool_check_metrics(text) == "", name
        # no id or personal data anywhere in a scrape
        for secret in (demand["id"], complaint["id"], "扬州某玩具", "0514-8765"):
            assert secret not in text, (name, secret)

    for name in rpc_services:
        text = scrapes[name]
        assert (
            support.metric_value(
                text, f"qi_{name}_rpc_requests_total", method="ping", outcome="ok"
            )
            >= 1
        ), name
        assert (
            support.metric_value(text, f"qi_{name}_rpc_seconds_count", method="ping")
            >= 1
        ), name
        assert support.metric_samples(text, f"qi_{name}_parked_messages") == [
            ({}, 0.0)
        ], name

    intake_text = scrapes["intake"]
    value = support.metric_value
    assert (
        value(intake_text, "qi_intake_rpc_requests_total", method="register_demand")
        == 2
    )
    assert (
        value(
            intake_text,
            "qi_intake_rpc_requests_total",
            method="register_demand",
            outcome="refused",
        )
        == 1
    )
    assert value(intake_text, "qi_intake_demands_registered_total") == 1
    assert (
        value(intake_text, "qi_intake_demands_registered_total", channel="window") == 1
    )
    assert (
        value(
            intake_text,
            "qi_intake_needs_registered_total",
            channel="window",
            item="6.3.1",
        )
        == 1
    )
    assert value(intake_text, "qi_intake_relay_active") == 1
    assert value(intake_text, "qi_intake_relay_lag_notifications") == 0
    assert value(intake_text, "qi_intake_events_published_total") >= 1

    referral_text = scrapes["referral"]
    assert value(referral_text, "qi_referral_event_lag_seconds_count") >= 1
    queues = {
        labels["queue"]
        for labels, _ in support.metric_samples(
            referral_text, "qi_referral_queue_messages"
        )
    }
    assert queues == {
        s.queue_name for s in topology.SUBSCRIPTIONS if s.consumer == "referral"
    }

    complaints_text = scrapes["complaints"]
    assert value(complaints_text, "qi_complaints_open") == 1
    assert value(complaints_text, "qi_complaints_overdue") == 0
    assert (
        value(
            complaints_text,
            "qi_complaints_rpc_requests_total",
            method="receive",
            outcome="ok",
        )
        == 1
    )
    assert value(scrapes["catalog"], "qi_catalog_relay_active") == 1
