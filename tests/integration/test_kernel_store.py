"""A service's parts (and its instances) start at once, each opening a kernel
store that creates the schema and tables it needs; none of them may fail
because another created the same thing a moment earlier."""

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
