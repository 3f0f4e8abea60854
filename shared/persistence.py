"""Per-service persistence: which eventsourcing module, and the kernel's own tables.

We use eventsourcing's own ``sqlite`` and ``postgres`` modules for the events
(see README, Architecture): they ship with the library version we pin, give
process recorders that store a tracking record atomically with new events on
both databases, and need no ORM. Everything else the service keeps in the same
database — the kernel's tables (``shared/tables.py``) and the read models —
goes through ``KernelStore``, on SQLAlchemy Core (``shared/database.py``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# Imported here, once, not lazily: containers start in parallel greenlets, and
# two of them importing psycopg at once can see a half-initialised module.
import eventsourcing.postgres  # noqa: F401 - loaded by name by the factory
import eventsourcing.sqlite  # noqa: F401
import psycopg
import sqlalchemy.exc
from sqlalchemy import Connection, Engine, Executable, Table

from shared import config
from shared.database import (
    DatabaseURL,
    driver_errors,
    ensure_postgres_schema,
    insert,
    open_connections,
)
from shared.tables import KERNEL

log = logging.getLogger(__name__)

__all__ = [
    "DatabaseURL",
    "KernelClosed",
    "KernelStore",
    "eventsourcing_env",
    "renew_on_stale_statements",
]

# the files SQLite keeps beside a database file while it writes
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def private_file(path: str) -> None:
    """A SQLite file readable by its owner only (0600, in a folder made 0700),
    made empty here before SQLite opens it: its journal and WAL files take
    the database file's mode. A file made by an earlier version with the
    umask's mode (0644) is narrowed. ``:memory:`` is no file."""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    file = Path(path)
    config.private_dir(file.parent)
    try:
        os.close(os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        for part in (file, *(Path(f"{file}{end}") for end in SQLITE_SIDE_FILES)):
            try:
                found = part.stat()
            except FileNotFoundError:
                continue
            if found.st_mode & 0o077 and found.st_uid == os.getuid():
                part.chmod(0o600)


def eventsourcing_env(service: str, url: str | None = None) -> dict[str, str]:
    """The eventsourcing ``Application`` environment for one service, from the
    effective configuration (``config.get``) whichever entrypoint runs it."""
    db = DatabaseURL.parse(url or config.database_url(service), service)
    # Tracking must be one row per processed message, not a high-water mark:
    # messages arrive over RabbitMQ out of order (redelivery, replays of parked
    # messages, competing instances), so "max id seen" would swallow gaps.
    common = {"SINGLE_ROW_TRACKING": "n"}
    # config.get, not os.environ: the key ``make run`` keeps in QI_VAR_DIR is
    # found by every entrypoint, so no tool writes plaintext into an encrypted
    # store or reads ciphertext without the key
    key = config.get("QI_CIPHER_KEY")
    if key:  # personal data at rest: every stored event's state is encrypted
        common.update(
            CIPHER_TOPIC="eventsourcing.cryptography:AESCipher", CIPHER_KEY=key
        )
    if db.kind == "sqlite":
        private_file(db.path)
        return {
            **common,
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": db.path,
            "SQLITE_LOCK_TIMEOUT": "10",
        }
    ensure_postgres_schema(db)
    return {
        **common,
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": db.dbname,
        "POSTGRES_HOST": db.host,
        "POSTGRES_PORT": str(db.port),
        "POSTGRES_USER": db.user,
        "POSTGRES_PASSWORD": db.password,
        "POSTGRES_SCHEMA": db.schema,
        "POSTGRES_POOL_SIZE": config.get("QI_POSTGRES_POOL_SIZE"),
        "POSTGRES_MAX_OVERFLOW": config.get("QI_POSTGRES_MAX_OVERFLOW"),
        "POSTGRES_CONNECT_TIMEOUT": "5",
    }


def renew_on_stale_statements(datastore: Any) -> None:
    """An eventsourcing PostgreSQL datastore whose pool starts afresh when a
    connection names a prepared statement its session no longer has.

    eventsourcing prepares its statements and runs them in autocommit, and
    psycopg forgets a name only when preparing it fails, not when running it
    does: such a connection fails every later run of that statement. Draining
    the pool (psycopg_pool: connections in use are closed when returned) gives
    every statement a new session, so the caller's next attempt (a consumer
    puts its message back: ``shared.entrypoints.is_transient``) works.
    """
    pool = getattr(datastore, "pool", None)
    if not hasattr(pool, "drain"):  # SQLite's: no prepared statements
        return
    connection = datastore.get_connection

    @contextmanager
    def get_connection() -> Iterator[Any]:
        with connection() as conn:
            try:
                yield conn
            except psycopg.errors.InvalidSqlStatementName:
                log.warning(
                    "%s: a prepared statement was gone; renewing the pool", pool
                )
                pool.drain()
                raise

    datastore.get_connection = get_connection


class KernelClosed(RuntimeError):
    """The service stopped; its kernel store takes no more work."""


class KernelStore:
    """The kernel's tables and the service's read models, in its own database.

    Statements are SQLAlchemy Core; which database it is, and how connections
    are pooled and guarded, is ``shared.database``'s business (its docstring
    says why each way). ``transaction`` is a write transaction; ``query`` and
    ``execute`` run one statement each.
    """

    def __init__(self, service: str, url: str | None = None):
        self.service = service
        self.db = DatabaseURL.parse(url or config.database_url(service), service)
        self._closed = False
        if self.db.kind == "sqlite":
            private_file(self.db.path)
        if self.db.kind == "postgres":  # whichever of a service's parts comes first
            ensure_postgres_schema(self.db)
        self.connections = open_connections(self.db)
        self.engine = self.connections.engine
        self.dialect = self.engine.dialect.name
        self.create(*KERNEL.tables.values())

    @property
    def is_sqlite(self) -> bool:
        return self.db.kind == "sqlite"

    def create(self, *tables: Table) -> None:
        """Create the tables (and their indexes) that do not exist yet.

        On PostgreSQL two sessions creating the same table at once (a service's
        parts start in parallel, instances too) can both find it missing and
        one fails on the catalog's unique key: it then finds the table there.
        """
        for attempt in range(3):
            try:
                with self.transaction() as conn:
                    for table in tables:  # with its indexes
                        table.create(conn, checkfirst=True)
                return
            except sqlalchemy.exc.DBAPIError as exc:
                racing = (
                    psycopg.errors.UniqueViolation,
                    psycopg.errors.DuplicateTable,
                    psycopg.errors.DuplicateObject,
                )
                if attempt == 2 or not isinstance(exc.orig, racing):
                    raise

    @contextmanager
    def _using(self, engine: Engine) -> Iterator[Connection]:
        if self._closed:
            # a worker outliving its service must not open a connection that
            # nobody will close (it would hold its locks forever)
            raise KernelClosed(f"{self.service}: kernel store is closed")
        with self.connections.guard(), driver_errors(), engine.connect() as conn:
            yield conn

    @contextmanager
    def transaction(self, durable: bool = True) -> Iterator[Connection]:
        """A connection in a write transaction that commits on success.

        ``durable=False``: the commit does not wait for the disk (PostgreSQL's
        ``synchronous_commit`` off for this transaction; SQLite's WAL synced at
        its next checkpoint, not at this commit). A crash of the machine may
        lose the last such commits, never corrupt the database nor another
        transaction's: only for what can be lost, as the login and write
        limits' attempts can (issue 22: a SQLite commit's fsync blocks the
        whole eventlet process, and was a third of the gateway's CPU per
        anonymous demand).
        """
        with self._using(self.connections.writes) as conn:
            driver = conn.connection.dbapi_connection
            volatile_sqlite = not durable and self.is_sqlite
            if volatile_sqlite:  # outside the transaction, as SQLite asks
                driver.execute("PRAGMA synchronous=NORMAL")
            try:
                with conn.begin():
                    if not durable and not self.is_sqlite:
                        conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
                    yield conn
            finally:
                if volatile_sqlite:
                    driver.execute("PRAGMA synchronous=FULL")

    def query(self, statement: Executable) -> list[dict]:
        """The rows of one statement, as dicts."""
        with self._using(self.connections.reads) as conn:
            return [dict(row) for row in conn.execute(statement).mappings()]

    def scalar(self, statement: Executable) -> Any:
        with self._using(self.connections.reads) as conn:
            return conn.execute(statement).scalar()

    def execute(self, statement: Executable, rows: list[dict] | None = None) -> int:
        """Run one statement (for each of ``rows``) in a transaction; rows hit."""
        with self.transaction() as conn:
            return conn.execute(statement, rows).rowcount

    def insert(self, table: Table):
        """An INSERT that can say what to do ON CONFLICT (see ``shared.database``)."""
        return insert(self.dialect, table)

    def close(self) -> None:
        self._closed = True
        self.connections.dispose()


def installation_cipher_key(services: list[str]) -> str:
    """QI_CIPHER_KEY as every entrypoint reads it (``config.get``: the variable,
    else the key kept in QI_VAR_DIR/cipher.key), or for ``make run`` a new one.

    Only ``make run`` (``shared.run``) calls this, because only it may make a
    key: a new installation whose ``services`` all keep the embedded SQLite
    default gets a random key kept there, so personal data is encrypted at
    rest from the first demand, and every later tool finds it through
    ``config.get``. Stores made before without a key stay readable: no key is
    invented for them (they are named in a warning).
    """
    configured = config.get("QI_CIPHER_KEY")
    if configured:
        return configured
    folder = config.var_dir()
    default = {f"sqlite:///{folder / f'{name}.sqlite'}" for name in services}
    if {config.database_url(name) for name in services} != default:
        return ""  # a database of its own: its key comes with its other secrets
    existing = sorted(p.name for p in folder.glob("*.sqlite"))
    if existing:
        log.warning(
            "event stores %s were made without QI_CIPHER_KEY: personal data in "
            "them is not encrypted at rest",
            ", ".join(existing),
        )
        return ""
    from eventsourcing.cryptography import AESCipher

    return config.kept_secret("cipher.key", lambda: AESCipher.create_key(num_bytes=32))


if __name__ == "__main__":
    import sys

    if sys.argv[1:] != ["new-key"]:
        sys.exit("usage: python -m shared.persistence new-key")
    from eventsourcing.cryptography import AESCipher

    print(AESCipher.create_key(num_bytes=32))
