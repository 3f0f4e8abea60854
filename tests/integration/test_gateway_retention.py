"""Issue 18, personal data at rest and tables that grow with traffic: the
answers kept under Idempotency-Keys hold only what a replay needs, encrypted
with the events' key, and expire; the rate-limit attempts stay bounded
whatever the number of clients; data files are readable by their owner only.

On the real databases (SQLite and PostgreSQL), with a clock the test moves.
"""

import json
import os
import stat
from pathlib import Path

import pytest
from eventsourcing.cryptography import AESCipher
from sqlalchemy import Column, Integer, MetaData, Table, Text, func, inspect, select

from services.gateway.accounts import GatewayApplication
from services.gateway.replays import KeyReused, Replays, fingerprint
from services.gateway.storage import LEGACY_IDEMPOTENCY, attempts, replays
from services.gateway.tokens import RateLimiter
from shared import config
from shared.persistence import KernelStore, eventsourcing_env

ANSWER = json.dumps(
    {"id": "d-1", "progress_code": "ABCD234567", "contact_phone": "13912345678"},
    ensure_ascii=False,
)


class Clock:
    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def rows(kernel: KernelStore, table) -> int:
    return kernel.scalar(select(func.count()).select_from(table))


def test_a_kept_answer_is_encrypted_replayed_refused_for_another_body_and_expires(
    databases, monkeypatch
):
    monkeypatch.setenv("QI_CIPHER_KEY", AESCipher.create_key(num_bytes=32))
    # what an earlier version kept: whole answers in the clear, forever
    legacy = KernelStore("gateway")
    old = Table(
        LEGACY_IDEMPOTENCY, MetaData(), Column("key", Text), Column("n", Integer)
    )
    legacy.create(old)
    legacy.execute(old.insert().values(key="k", n=1))
    app = GatewayApplication()
    try:
        assert LEGACY_IDEMPOTENCY not in inspect(legacy.engine).get_table_names()
        clock = Clock()
        kept = Replays(app.kernel, app.mapper.cipher, 24 * 3600, clock)
        first = fingerprint("demand/d-1/take", {"channel": "window"})
        kept.keep("key-1", "wang", first, 200, ANSWER)

        (row,) = app.kernel.query(select(replays))
        stored = bytes(row["body"])
        assert b"13912345678" not in stored and b"ABCD234567" not in stored
        assert "key-1" not in row["key"] and "wang" not in row["key"]
        assert set(row) == {"key", "request", "status", "body", "kept_at"}
        # the same request again: the first answer; the key is the caller's own
        same = fingerprint("demand/d-1/take", {"channel": "window"})
        assert kept.recall("key-1", "wang", same) == (200, ANSWER)
        assert kept.recall("key-1", "li", same) is None
        # another body under the same key: refused, nothing kept
        other = fingerprint("demand/d-1/take", {"channel": "phone"})
        with pytest.raises(KeyReused):
            kept.recall("key-1", "wang", other)
        assert rows(app.kernel, replays) == 1

        clock.now += 24 * 3600 + 1  # past the retention period
        assert kept.recall("key-1", "wang", same) is None
        kept.keep("key-2", "wang", same, 200, ANSWER)  # sweeps on the way
        assert rows(app.kernel, replays) == 1
        assert kept.sweep(clock.now + 24 * 3600 + 1) == 1
        assert rows(app.kernel, replays) == 0
    finally:
        app.close()
        legacy.close()


def test_rate_limit_attempts_stay_bounded_whatever_the_number_of_clients(databases):
    kernel = KernelStore("gateway")
    try:
        clock = Clock()
        limiter = RateLimiter(kernel, "progress", limit=5, window=4, clock=clock)
        most = 0
        for n in range(600):  # 20 new clients a second for 30 s
            assert limiter.allow(f"progress:10.0.{n // 256}.{n % 256}")
            clock.now += 0.05
            if n % 50 == 49:
                most = max(most, rows(kernel, attempts))
        # at most a window and a sweep interval of attempts, not one per client
        assert 4 / 0.05 <= most <= 2 * 4 / 0.05 + 1, most
        # a client over its limit adds no rows
        before = rows(kernel, attempts)
        for _ in range(30):
            limiter.allow("progress:192.0.2.7")
        assert rows(kernel, attempts) - before == 5
    finally:
        kernel.close()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_data_files_are_the_owners_only(databases, tmp_path, monkeypatch):
    var = tmp_path / "var"
    monkeypatch.setenv("QI_VAR_DIR", str(var))
    monkeypatch.setenv("QI_GATEWAY_DATABASE_URL", f"sqlite:///{var}/gateway.sqlite")
    old = os.umask(0o022)  # the usual umask: files 0644 unless made otherwise
    try:
        config.kept_secret("cipher.key", lambda: AESCipher.create_key(num_bytes=32))
        app = GatewayApplication()
        app.replays.keep("key", "wang", "request", 200, ANSWER)  # writes
        app.close()
        # a store an earlier version left readable by everyone is narrowed
        earlier = var / "intake.sqlite"
        earlier.write_bytes(b"")
        earlier.chmod(0o644)
        eventsourcing_env("intake", f"sqlite:///{earlier}")
    finally:
        os.umask(old)
    assert mode(var) == 0o700
    made = sorted(p.name for p in var.iterdir())
    assert "gateway.sqlite" in made and "cipher.key" in made
    assert {p.name: mode(p) for p in var.iterdir()} == dict.fromkeys(made, 0o600)
