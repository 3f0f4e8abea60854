"""A prepared statement psycopg's cache names but the session no longer has
(``InvalidSqlStatementName``) is the connection's state, not the message's:
a consumer puts the message back instead of parking it, and the next attempt
works. On the kernel store the failed transaction's rollback empties
psycopg's cache; eventsourcing's connections run in autocommit, where psycopg
would keep the stale name for good, so its pool is drained
(``shared.persistence.renew_on_stale_statements``). Seen once in ``make
faults`` (hung broker): evaluation parked a DemandRegistered with it. Here the
statements are taken from the session behind psycopg's back."""

import uuid

import psycopg
import pytest
from sqlalchemy import func, select

from shared.entrypoints import is_transient
from shared.persistence import KernelStore
from shared.tables import relay_position
from tests.support import PG_BASE

COUNT = select(func.count(relay_position.c.service))


@pytest.fixture
def schema_url():
    schema = f"tstale_{uuid.uuid4().hex[:10]}"
    yield f"{PG_BASE}?schema={schema}"
    with psycopg.connect(PG_BASE, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def forget_prepared(driver) -> None:
    """DEALLOCATE ALL sent through libpq itself: the session loses every
    prepared statement while psycopg's cache still names them."""
    assert (
        driver.pgconn.exec_(b"DEALLOCATE ALL").status
        == psycopg.pq.ExecStatus.COMMAND_OK
    )


def test_a_kernel_statement_gone_from_its_session_is_transient(schema_url):
    store = KernelStore("evaluation", schema_url)
    try:
        with pytest.raises(Exception) as failed:  # noqa: PT011 - the driver's, wrapped
            with store.transaction() as conn:
                for _ in range(8):  # psycopg prepares it from the sixth on
                    assert conn.execute(COUNT).scalar() == 0
                forget_prepared(conn.connection.dbapi_connection)
                conn.execute(COUNT)
        assert "does not exist" in str(failed.value)
        assert is_transient(failed.value)
        # the next attempt, as a message put back would make it
        assert store.scalar(COUNT) == 0
        with store.transaction() as conn:
            for _ in range(8):
                assert conn.execute(COUNT).scalar() == 0
    finally:
        store.close()


def test_an_event_store_statement_gone_from_its_session_is_transient(
    schema_url, monkeypatch
):
    from services.intake.application import IntakeApplication

    # one pooled connection: the one that prepared the read is the one robbed
    monkeypatch.setenv("QI_POSTGRES_POOL_SIZE", "1")
    monkeypatch.setenv("QI_POSTGRES_MAX_OVERFLOW", "0")
    app = IntakeApplication(schema_url)
    try:
        recorder = app.recorder
        assert recorder.select_notifications(start=1, limit=10) == []  # prepared
        with recorder.datastore.pool.connection() as conn:
            forget_prepared(conn)
        with pytest.raises(Exception) as failed:  # noqa: PT011 - eventsourcing's
            recorder.select_notifications(start=1, limit=10)
        assert "does not exist" in str(failed.value)
        assert is_transient(failed.value)
        assert recorder.select_notifications(start=1, limit=10) == []
    finally:
        app.close()


def test_what_says_something_about_the_message_is_not_transient():
    assert not is_transient(ValueError("no such service item"))
    assert not is_transient(psycopg.errors.UniqueViolation("duplicate key"))
