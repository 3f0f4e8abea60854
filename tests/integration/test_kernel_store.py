"""A service's parts (and its instances) start at once, each opening a kernel
store that creates the schema and tables it needs; none of them may fail
because another created the same thing a moment earlier."""

import time
import uuid

import eventlet
import psycopg
from sqlalchemy import func, select

from shared.persistence import KernelStore
from shared.tables import relay_position
from tests.support import PG_BASE


def test_kernel_stores_opened_at_once_on_a_new_schema_all_start():
    schemas = [f"tkernel_{uuid.uuid4().hex[:10]}" for _ in range(6)]
    try:
        for schema in schemas:
            urls = [f"{PG_BASE}?schema={schema}"] * 4
            pool = eventlet.GreenPool()
            stores = list(pool.imap(lambda url: KernelStore("gateway", url), urls))
            for store in stores:
                assert store.scalar(select(func.count(relay_position.c.service))) == 0
                store.close()
    finally:
        with psycopg.connect(PG_BASE, autocommit=True) as conn:
            for schema in schemas:
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def test_a_volatile_transaction_skips_the_disk_wait_for_itself_only(databases, backend):
    """``transaction(durable=False)`` (the rate limits' attempts, issue 22):
    its commit does not wait for the disk; the transactions after it do."""
    store = KernelStore("gateway", databases["gateway"])
    setting = "PRAGMA synchronous" if store.is_sqlite else "SHOW synchronous_commit"
    try:
        with store.transaction(durable=False) as conn:
            during = conn.exec_driver_sql(setting).scalar()
            conn.execute(
                store.insert(relay_position).values(service="volatile", position=7)
            )
        with store.transaction() as conn:
            after = conn.exec_driver_sql(setting).scalar()
        kept = store.scalar(
            select(relay_position.c.position).where(
                relay_position.c.service == "volatile"
            )
        )
    finally:
        store.close()
    # SQLite: NORMAL (1) during, FULL (2) after; PostgreSQL: off, then on
    assert (str(during), str(after)) in {("1", "2"), ("off", "on")}
    assert kept == 7  # committed all the same


def test_a_greenlet_waiting_for_postgresql_lets_the_others_run():
    """psycopg's C build waits inside C unless told otherwise, which would
    stop every greenlet of a service while one waits for the database
    (shared.database.green_waits, issue 22)."""
    ticks = []

    def ticking():
        for _ in range(15):
            ticks.append(time.monotonic())
            eventlet.sleep(0.02)

    ticker = eventlet.spawn(ticking)
    with psycopg.connect(PG_BASE, autocommit=True) as conn:
        started = time.monotonic()
        conn.execute("SELECT pg_sleep(0.3)")
        ended = time.monotonic()
    ticker.wait()
    assert psycopg.pq.__impl__ == "binary"  # the build requirements.txt pins
    assert sum(started < tick < ended for tick in ticks) >= 8
