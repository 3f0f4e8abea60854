"""Helpers for tests against real infrastructure (no mocks of our own)."""

from __future__ import annotations

import socket
import subprocess
import time
import uuid
from pathlib import Path

import amqp.exceptions
import psycopg
from kombu import Connection
from nameko.runners import ServiceRunner

from shared import config, topology
from shared.config import SERVICES

PG_BASE = "postgresql://postgres@127.0.0.1:5432/test"


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True)


def create_vhost() -> str:
    vhost = f"qi-test-{uuid.uuid4().hex[:8]}"
    _rabbitmqctl("add_vhost", vhost)
    _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    return vhost


def delete_vhost(vhost: str) -> None:
    subprocess.run(["rabbitmqctl", "delete_vhost", vhost], capture_output=True)


def create_broker_users(vhost: str, services=SERVICES) -> dict[str, str]:
    """A RabbitMQ user per service in ``vhost``, with the permissions make run
    gives them (shared/trust.py): service -> its amqp URI, once each connects."""
    import secrets

    from shared import trust

    users = {
        s: (trust.user_name(s, vhost), secrets.token_urlsafe(32)) for s in services
    }
    problem = trust._import_with_rabbitmqctl(trust.definitions(vhost, users))
    assert problem is None, problem
    base = f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    uris = {s: trust.uri_for(base, *users[s]) for s in services}
    wait_for(lambda: all(trust.connects(uri) for uri in uris.values()), timeout=20)
    return uris


def delete_broker_users(vhost: str) -> None:
    """Remove the users make run or ``create_broker_users`` made for ``vhost``
    (users outlive their vhost in RabbitMQ)."""
    from shared import trust

    listed = subprocess.run(
        ["rabbitmqctl", "--quiet", "list_users"], capture_output=True, text=True
    ).stdout.split()
    mine = {trust.user_name(s, vhost) for s in SERVICES}
    for user in mine & set(listed):
        subprocess.run(["rabbitmqctl", "delete_user", user], capture_output=True)


def delete_topology(amqp_uri: str) -> None:
    """Remove every subscription queue and event exchange of this vhost."""
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        for subscription in topology.SUBSCRIPTIONS:
            channel.queue_delete(subscription.queue_name)
        for service in SERVICES:
            channel.exchange_delete(f"{service}.events")


def queue_depth(amqp_uri: str, queue_name: str) -> int:
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        _, count, _ = channel.queue_declare(queue_name, passive=True)
        return count


def database_urls(backend: str, tmp_path: Path):
    if backend == "sqlite":
        urls = {s: f"sqlite:///{tmp_path / f'{s}.sqlite'}" for s in SERVICES}
        return urls, lambda: None
    prefix = f"t{uuid.uuid4().hex[:10]}"
    urls = {s: f"{PG_BASE}?schema={prefix}_{s}" for s in SERVICES}

    def cleanup():
        # A writer of a just-stopped service may still hold a lock: the DROP
        # then deadlocks with it, or waits; it is tried again, and a session
        # left idle in a transaction (its greenlet was killed) is ended.
        with psycopg.connect(PG_BASE, autocommit=True) as conn:
            conn.execute("SET lock_timeout = '5s'")
            for service in SERVICES:
                for attempt in range(5):
                    try:
                        conn.execute(
                            f"DROP SCHEMA IF EXISTS {prefix}_{service} CASCADE"
                        )
                        break
                    except (
                        psycopg.errors.DeadlockDetected,
                        psycopg.errors.LockNotAvailable,
                    ):
                        if attempt == 4:
                            raise
                        end_abandoned_transactions(conn)
                        time.sleep(0.5)

    return urls, cleanup


def end_abandoned_transactions(conn) -> None:
    """End sessions of this database idle in a transaction for over 5 s."""
    conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "AND state = 'idle in transaction' "
        "AND state_change < now() - interval '5 seconds'"
    )


def seed_accounts(path: Path, accounts, password: str) -> Path:
    """A QI_SEED_ACCOUNTS file at ``path``: each (username, role, institution)
    of ``accounts`` named 测试<username>, all with ``password``."""
    import json

    listed = [
        {
            "username": name,
            "display_name": f"测试{name}",
            "role": role,
            "institution": institution,
            "password": password,
        }
        for name, role, institution in accounts
    ]
    path.write_text(json.dumps({"accounts": listed}), encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_runner(service_classes, amqp_uri: str, http_port: int | None = None):
    cfg = config.nameko_config()
    cfg["AMQP_URI"] = amqp_uri
    cfg["WEB_SERVER_ADDRESS"] = f"127.0.0.1:{http_port or free_port()}"
    runner = ServiceRunner(cfg)
    for cls in service_classes:
        runner.add_service(cls)
    runner.start()
    runner.http_address = cfg["WEB_SERVER_ADDRESS"]
    return runner


def signed(envelope) -> dict:
    """An envelope (or its dict) signed as its source's outbox relay signs it,
    with the key of this installation (QI_VAR_DIR): what a test publishes in
    a service's place must pass the consumers' signature check."""
    from shared import signing
    from shared.envelope import Envelope

    if isinstance(envelope, dict):
        envelope = Envelope.from_dict(envelope)
    return signing.signer_for(envelope.source).sign(envelope).to_dict()


def container_of(runner, name: str):
    return next(c for c in runner.containers if c.service_name == name)


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.02):
    """Poll until ``predicate()`` is truthy; return its value or fail."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def tamper(app, originator_id, version: int, change) -> None:
    """Edit a stored event's JSON in the database, as an intruder would."""
    import json

    from sqlalchemy import select, update

    from shared.tables import stored_events

    events = stored_events(app.recorder)
    stored = events.c
    where = (stored.originator_id == uuid.UUID(str(originator_id))) & (
        stored.originator_version == version
    )
    with app.kernel.transaction() as conn:
        found = conn.execute(select(stored.state).where(where)).scalar()
        assert found is not None, "no such stored event"
        state = json.loads(bytes(found))
        change(state)
        conn.execute(
            update(events).where(where).values(state=json.dumps(state).encode())
        )


def drain(amqp_uri: str, queue_name: str, expect: int, timeout: float = 5.0):
    """Consume (and ack) messages from a queue until ``expect`` arrived."""
    import json

    bodies: list[dict] = []
    deadline = time.monotonic() + timeout
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        while len(bodies) < expect and time.monotonic() < deadline:
            try:
                message = channel.basic_get(queue_name, no_ack=True)
            except amqp.exceptions.NotFound:  # not declared yet
                channel = conn.channel()
                time.sleep(0.05)
                continue
            if message is None:
                time.sleep(0.02)
                continue
            bodies.append(json.loads(message.body))
    return bodies


class ServicesProcess:
    """``python -m shared.run`` as a child process: what ``make run`` starts."""

    def __init__(self, env: dict[str, str], services: tuple[str, ...] = ()):
        import os
        import sys

        self.http_port = free_port()
        self.env = {
            **os.environ,
            "QI_HTTP_ADDRESS": f"127.0.0.1:{self.http_port}",
            "QI_METRICS_PORT": str(free_port()),
            "QI_LOG_LEVEL": "WARNING",
            # load and fault tests file thousands of demands without a login
            # from this one address; the limit itself is tested in process
            "QI_ANONYMOUS_WRITES_PER_HOUR": "1000000",
            # the gateway checks its answers against their schemas (conftest)
            "QI_CHECK_ANSWERS": os.environ.get("QI_CHECK_ANSWERS", "1"),
            **env,
        }
        self.command = [sys.executable, "-m", "shared.run", *services]
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.env['QI_METRICS_PORT']}/metrics"

    def scrape(self) -> str:
        import requests

        return requests.get(self.metrics_url, timeout=5).text

    def start(self, timeout: float = 20.0) -> ServicesProcess:
        import tempfile

        import requests

        repo = Path(__file__).resolve().parent.parent
        # a file, not a pipe: a pipe nobody reads fills up and blocks the logger
        self.log = tempfile.NamedTemporaryFile(
            "w+", prefix="qi-services-", suffix=".log", delete=False
        )
        self.process = subprocess.Popen(
            self.command,
            env=self.env,
            cwd=repo,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            text=True,
        )

        def healthy():
            if self.process.poll() is not None:
                raise AssertionError(f"services exited:\n{self.output()}")
            try:
                return requests.get(f"{self.base_url}/healthz", timeout=2).ok
            except requests.RequestException:  # not listening, or not ready yet
                return False

        self._await(healthy, timeout)
        return self

    def _await(self, ready, timeout: float) -> None:
        try:
            wait_for(ready, timeout=timeout, interval=0.1)
        except BaseException:
            # a fixture that fails here never reaches its teardown: a process
            # left running keeps its database connections and its queues
            self.kill()
            raise

    def stop(self, timeout: float = 20.0) -> int:
        import signal

        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def output(self) -> str:
        if self.process is None:
            return ""
        return Path(self.log.name).read_text(encoding="utf-8", errors="replace")


def racing_application(service: str):
    """A ServiceApplication of ``service`` whose next save can be held at a
    barrier, so two instances load the same version before either saves."""
    import threading

    from eventsourcing.persistence import RecordConflictError

    from shared.application import ServiceApplication

    class RacingApplication(ServiceApplication):
        name = service
        barrier: threading.Barrier | None = None
        conflicts = 0

        def save(self, *objects, **kwargs):
            barrier, self.barrier = self.barrier, None
            if barrier is not None:
                barrier.wait(timeout=10)
            try:
                return super().save(*objects, **kwargs)
            except RecordConflictError:
                self.conflicts += 1
                raise

    return RacingApplication


class ServiceInstance(ServicesProcess):
    """One service in a process of its own, as one replica of a deployment.

    Ready when its container runs: its /metrics shows the refreshed parked
    messages gauge (needs QI_METRICS_REFRESH_SECONDS > 0); the gateway's, when
    /healthz answers.
    """

    def __init__(self, service: str, env: dict[str, str]):
        super().__init__(env, (service,))
        self.service = service

    def start(self, timeout: float = 30.0) -> ServiceInstance:
        import tempfile

        import requests

        repo = Path(__file__).resolve().parent.parent
        self.log = tempfile.NamedTemporaryFile(
            "w+", prefix=f"qi-{self.service}-", suffix=".log", delete=False
        )
        self.process = subprocess.Popen(
            self.command,
            env=self.env,
            cwd=repo,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        gauge = f"qi_{self.service}_parked_messages "

        def ready():
            if self.process.poll() is not None:
                raise AssertionError(f"{self.service} exited:\n{self.output()}")
            try:
                if self.service == "gateway":
                    return requests.get(f"{self.base_url}/healthz", timeout=2).ok
                return gauge in requests.get(self.metrics_url, timeout=2).text
            except requests.RequestException:
                return False

        self._await(ready, timeout)
        return self


def promtool() -> str:
    """The promtool binary; fails (never skips) naming how to install it."""
    import shutil

    found = shutil.which("promtool")
    if found is None:
        import pytest

        pytest.fail(
            "promtool is missing: install Debian's prometheus package "
            "(`apt-get install -y prometheus`, as .ci/run does)"
        )
    return found


def promtool_check_metrics(text: str) -> str:
    """``promtool check metrics`` on a scrape; returns its complaints ('' if none)."""
    done = subprocess.run(
        [promtool(), "check", "metrics"],
        input=text,
        capture_output=True,
        text=True,
        timeout=30,
    )
    problems = (done.stdout + done.stderr).strip()
    return problems or ("" if done.returncode == 0 else f"exit {done.returncode}")


def metric_samples(text: str, name: str) -> list[tuple[dict, float]]:
    """Every sample called ``name`` in a scrape, with its labels."""
    from prometheus_client.parser import text_string_to_metric_families

    return [
        (sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    ]


def metric_value(text: str, name: str, **labels) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels``."""
    return sum(
        value
        for sample_labels, value in metric_samples(text, name)
        if all(sample_labels.get(k) == v for k, v in labels.items())
    )


def valid_body(schema: dict) -> dict:
    """A body the operation's schema accepts: a rule checked past the body's
    validation (intake's, for ``demand in intake``) must refuse it too."""

    def value(of: dict):
        if "enum" in of:
            return of["enum"][0]
        kind = of.get("type")
        kind = kind[0] if isinstance(kind, list) else kind
        if kind == "object":
            return {
                name: value(of["properties"][name]) for name in of.get("required", [])
            }
        return {"string": "核对", "boolean": True, "integer": 1, "number": 1}.get(
            kind, []
        )

    return value(schema)
