"""What the bench's parts share: where the servers are, progress, waiting."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable

import psycopg

PG_BASE = "postgresql://postgres@127.0.0.1:5432/test"
AMQP_BASE = "amqp://guest:guest@127.0.0.1:5672"
WARMUP = 20


def progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f}s")
        time.sleep(0.01)


def retrying(make, what: str, timeout: float = 60.0):
    """``make()``, again while PostgreSQL has no connection slot free (other
    clients of a shared server can hold them all for a moment)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return make()
        except psycopg.OperationalError as exc:
            if "too many clients" not in str(exc) or time.monotonic() > deadline:
                raise
            progress(f"{what}: PostgreSQL has no free connection; retrying")
            time.sleep(1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True)


def create_vhost(name: str) -> str:
    rabbitmqctl("add_vhost", name)
    rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
    return f"{AMQP_BASE}/{name}"


def delete_vhost(name: str) -> None:
    subprocess.run(["rabbitmqctl", "delete_vhost", name], capture_output=True)
