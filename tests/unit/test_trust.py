"""Per-service broker permissions and users (shared/trust.py), without a
broker: what each regular expression lets a service touch, and what not."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from shared import config, signing, topology, trust


def allowed(service: str, kind: str, resource: str) -> bool:
    return re.search(trust.permissions(service)[kind], resource) is not None


def test_a_service_writes_to_its_own_exchange_and_the_rpc_exchange_only():
    for service in config.SERVICES:
        assert allowed(service, "write", f"{service}.events")
        assert allowed(service, "write", "nameko-rpc")
        assert not allowed(service, "write", "amq.default")
        for other in config.SERVICES:
            if other != service:
                assert not allowed(service, "write", f"{other}.events"), other
                assert not allowed(service, "configure", f"rpc-{other}"), other


def test_a_service_reads_the_queues_it_consumes_and_no_others():
    for subscription in topology.SUBSCRIPTIONS:
        queue = subscription.queue_name
        for service in config.SERVICES:
            consumes = service == subscription.consumer
            assert allowed(service, "read", queue) == consumes, (service, queue)
            # a relay declares and binds its subscribers' queues, reads none
            declares = consumes or service == subscription.source
            assert allowed(service, "configure", queue) == declares
            assert allowed(service, "write", queue) == declares
        # the consumer binds its queue to the source's exchange
        assert allowed(subscription.consumer, "read", f"{subscription.source}.events")


def test_rpc_queues_and_replies_are_their_services_own():
    reply = "rpc.reply-gateway-0b1e7c9a-5f3d-4c2b-8a6e-9d1f2e3c4b5a"
    assert allowed("gateway", "read", reply) and allowed("gateway", "configure", reply)
    assert not allowed("intake", "read", reply)
    assert allowed("intake", "read", "rpc-intake")
    assert not allowed("intake", "read", "rpc-intaker")  # anchored, exact


def test_users_and_uris_per_vhost():
    assert trust.vhost_of("amqp://guest:guest@127.0.0.1:5672/") == "/"
    assert trust.vhost_of("amqp://guest:guest@127.0.0.1:5672/qi-test-1") == "qi-test-1"
    assert trust.user_name("intake", "/") == "qi-intake"
    assert trust.user_name("intake", "qi-test-1") == "qi-intake.qi-test-1"
    uri = trust.uri_for("amqp://guest:guest@127.0.0.1:5672/v?heartbeat=0", "u.v", "p/w")
    assert uri == "amqp://u.v:p%2Fw@127.0.0.1:5672/v?heartbeat=0"


def test_the_definitions_hold_hashes_not_passwords():
    document = trust.definitions("/", {"intake": ("qi-intake", "pw-123")})
    (user,) = document["users"]
    assert "pw-123" not in str(document)
    raw = base64.b64decode(user["password_hash"])
    salt, digest = raw[:4], raw[4:]
    assert digest == hashlib.sha256(salt + b"pw-123").digest()
    (permission,) = document["permissions"]
    assert permission == {
        "user": "qi-intake",
        "vhost": "/",
        **trust.permissions("intake"),
    }


def test_check_secrets_names_each_weak_value(monkeypatch):
    keys = dict(
        line.split("=", 1) for line in signing.new_keys_text(["intake"]).split()
    )
    monkeypatch.setenv("QI_INTAKE_SIGNING_KEY", keys["QI_INTAKE_SIGNING_KEY"])
    monkeypatch.setenv("QI_SIGNING_PUBLIC_KEYS", keys["QI_SIGNING_PUBLIC_KEYS"])
    monkeypatch.setenv("QI_GRAFANA_PASSWORD", "qi-dev-only")
    monkeypatch.setenv("QI_POSTGRES_PASSWORD", "x" * 10)
    monkeypatch.setenv("QI_REFERRAL_SIGNING_KEY", "CHANGE-ME")
    problems = trust.check_secrets(
        [
            "QI_INTAKE_SIGNING_KEY",
            "QI_SIGNING_PUBLIC_KEYS",
            "QI_GRAFANA_PASSWORD",
            "QI_POSTGRES_PASSWORD",
            "QI_REFERRAL_SIGNING_KEY",
        ]
    )
    assert [p.split()[0] for p in problems] == [
        "QI_GRAFANA_PASSWORD",
        "QI_POSTGRES_PASSWORD",
        "QI_REFERRAL_SIGNING_KEY",
    ]
    assert trust.main(["check-secrets", "QI_INTAKE_SIGNING_KEY"]) == 0


@pytest.mark.parametrize("own", ["", "amqp://qi-intake:pw@127.0.0.1:5672/"])
def test_the_runner_gives_a_service_its_own_uri(monkeypatch, own):
    from services.intake.service import IntakeService

    monkeypatch.setenv("QI_INTAKE_AMQP_URI", own)
    runner = trust.ServiceRunner({**config.nameko_config(), "AMQP_URI": "amqp://x/"})
    runner.add_service(IntakeService)
    (container,) = runner.containers
    assert container.config["AMQP_URI"] == (own or "amqp://x/")
