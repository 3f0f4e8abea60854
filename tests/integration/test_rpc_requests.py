"""An RPC request delivered twice takes effect once (shared/rpc_requests.py).

nameko acknowledges a request after replying; an instance dying in between
leaves the broker to deliver the same message again. Here the same message —
same body, same ``correlation_id`` — is published twice by hand to the intake
service running on real RabbitMQ, on both databases.
"""

from __future__ import annotations

import json
import uuid

from kombu import Connection, Exchange, Queue
from nameko.standalone.rpc import ClusterRpcProxy

from services.catalog.service import CatalogService
from services.intake.service import IntakeService
from shared import rpc_requests
from tests import support

STAFF = {"actor": {"id": "staff-a", "role": "staff", "institution": "jsqi"}}
FORM = {
    "applicant": "泰州某电器有限公司",
    "contact_phone": "0523-86001234",
    "service_item_code": "6.3.1",
    "description": "家用电器安全检测",
    "channel": "window",
}


def deliver(amqp_uri: str, method: str, correlation_id: str, *args) -> None:
    """One RPC request message, as nameko's proxies publish it."""
    body = {"args": list(args), "kwargs": {"audit_data": STAFF}}
    with Connection(amqp_uri) as connection:
        connection.Producer().publish(
            json.dumps(body),
            exchange=Exchange("nameko-rpc", type="topic", durable=True),
            routing_key=f"intake.{method}",
            content_type="application/json",
            correlation_id=correlation_id,
            reply_to="rpc-requests-test-replies",
        )


def test_a_request_delivered_twice_takes_effect_once(databases, runner_factory):
    repeats = rpc_requests.repeated("intake")
    before = repeats._value.get()
    amqp_uri = runner_factory(IntakeService, CatalogService).config["AMQP_URI"]
    replies = Queue(
        "rpc-requests-test-replies",
        Exchange("nameko-rpc", type="topic", durable=True),
        routing_key="rpc-requests-test-replies",
        auto_delete=True,
    )
    with Connection(amqp_uri) as connection:
        replies(connection.default_channel).declare()
    with ClusterRpcProxy({"AMQP_URI": amqp_uri}) as cluster:
        demand = cluster.intake.register_demand(FORM, audit_data=STAFF)
        cluster.intake.take(demand["id"], "staff-a", audit_data=STAFF)

        request = str(uuid.uuid4())
        deliver(amqp_uri, "follow_up", request, demand["id"], "staff-a", "已电话联系")
        deliver(amqp_uri, "follow_up", request, demand["id"], "staff-a", "已电话联系")
        # a different request with the same words is a second follow-up
        other = str(uuid.uuid4())
        deliver(amqp_uri, "follow_up", other, demand["id"], "staff-a", "已电话联系")

        answers = support.drain(amqp_uri, "rpc-requests-test-replies", 3, 10)
        events = [e["event"] for e in cluster.intake.history(demand["id"])]

    assert events.count("FollowedUp") == 2, events
    errors = [a["error"] for a in answers if a.get("error")]
    assert len(answers) == 3
    assert [e["exc_type"] for e in errors] == ["DuplicateRequest"], answers
    assert "办理过" in errors[0]["value"]
    assert repeats._value.get() == before + 1
