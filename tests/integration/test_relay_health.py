"""A service whose outbox relay cannot proceed is not healthy (issue 16).

The fault is the one a keyless tool used to cause on a ``make run``
installation: an event stored without encryption among encrypted ones. The
relay cannot decrypt it, so nothing after it is published; ``ping`` and the
gateway's /healthz say so, naming the service, and recover once the stored
event is repaired and the relay gets past it. On SQLite and PostgreSQL, with
real RabbitMQ; only the stuck bounds are shortened.
"""

from __future__ import annotations

import time
from uuid import UUID

import pytest
import requests
from eventsourcing.cryptography import AESCipher
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import select, update

from services.gateway.service import GatewayService
from services.intake.application import IntakeApplication
from services.intake.service import IntakeService
from shared import config, outbox
from shared.outbox import RelayStuck
from shared.tables import stored_events
from tests import support

FORM = {
    "applicant": "泰州某医药包装有限公司",
    "contact_phone": "0523-86201234",
    "service_item_code": "6.3",
    "description": "药用包装材料检测",
    "channel": "window",
}


@pytest.fixture
def encrypted_intake(databases, monkeypatch):
    """intake's store encrypted with a key kept in QI_VAR_DIR, as make run
    keeps it, with a short stuck bound so the test need not wait 30 s."""
    monkeypatch.delenv("QI_CIPHER_KEY", raising=False)
    monkeypatch.setenv("QI_SERVICES", "intake,gateway")
    monkeypatch.setattr(outbox, "STUCK_AFTER_ATTEMPTS", 3)
    monkeypatch.setattr(outbox, "STUCK_AFTER_SECONDS", 3.0)
    config.kept_secret("cipher.key", lambda: AESCipher.create_key(32))
    return databases


def encrypt_in_place(originator_id: str) -> None:
    """The operator's repair: the plaintext event encrypted with the key."""
    app = IntakeApplication()
    try:
        stored = stored_events(app.recorder)
        first = (stored.c.originator_id == UUID(originator_id)) & (
            stored.c.originator_version == 1
        )
        with app.kernel.transaction() as conn:
            plain = bytes(conn.execute(select(stored.c.state).where(first)).scalar())
            conn.execute(
                update(stored)
                .where(first)
                .values(state=app.mapper.cipher.encrypt(plain))
            )
    finally:
        app.close()


def relay_of(runner):
    container = support.container_of(runner, "intake")
    runner_provider = next(d for d in container.dependencies if d.attr_name == "relay")
    return runner_provider.relay


def test_a_stuck_relay_fails_ping_and_healthz_naming_the_service_until_it_proceeds(
    encrypted_intake, runner_factory, clean_broker
):
    app = IntakeApplication()
    try:
        app.register_demand(FORM)  # encrypted, published
    finally:
        app.close()
    keyless = IntakeApplication(env={"CIPHER_TOPIC": "", "CIPHER_KEY": ""})
    try:
        plain = keyless.register_demand({**FORM, "applicant": "泰州某药业有限公司"})
    finally:
        keyless.close()

    runner = runner_factory(IntakeService, GatewayService)
    healthz = f"http://{runner.http_address}/healthz"
    relay = support.wait_for(lambda: relay_of(runner))

    # failing, but not for long yet: still healthy
    support.wait_for(lambda: relay.stall.attempts >= 1)
    answer = requests.get(healthz, timeout=15)
    if time.monotonic() - relay.stall.since < 2.5:
        assert answer.status_code == 200, answer.text

    def unhealthy():
        answer = requests.get(healthz, timeout=15)
        return answer.json() if answer.status_code == 503 else None

    detail = support.wait_for(unhealthy, timeout=30, interval=0.2)["detail"]
    # the encrypted event before it was published; the plaintext one is not
    assert detail.startswith("intake: outbox relay cannot publish past notification 1")
    assert "MapperDeserialisationError" in detail
    with ClusterRpcProxy({"AMQP_URI": clean_broker}, timeout=15) as cluster:
        with pytest.raises(RelayStuck, match="intake: outbox relay cannot publish"):
            cluster.intake.ping()

        encrypt_in_place(plain["id"])

        def healthy():
            return requests.get(healthz, timeout=15).status_code == 200

        support.wait_for(healthy, timeout=30, interval=0.2)
        assert cluster.intake.ping() == "intake"
    # the repaired event was published too (recorded once the relay is idle)
    support.wait_for(lambda: relay.position() == 2, timeout=5)
