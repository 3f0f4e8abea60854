"""Per-service persistence: which eventsourcing module, and the kernel's own tables.

We use eventsourcing's own ``sqlite`` and ``postgres`` modules (see README,
Architecture): they ship with the library version we pin, give process recorders
that store a tracking record atomically with new events on both databases, and
need no ORM. The kernel keeps three small tables beside the event store, in the
same database: the relay's position, parked messages, and nothing else.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

# Imported here, once, not lazily: containers start in parallel greenlets, and
# two of them importing psycopg at once can see a half-initialised module.
import eventsourcing.postgres  # noqa: F401 - loaded by name by the factory
import eventsourcing.sqlite  # noqa: F401
import psycopg
from psycopg.rows import dict_row

from shared import config


@dataclass(frozen=True)
class DatabaseURL:
    """A parsed service database URL (``sqlite:///path`` or ``postgresql://…``)."""

    kind: str  # "sqlite" | "postgres"
    path: str = ""
    host: str = ""
    port: int = 5432
    user: str = ""
    password: str = ""
    dbname: str = ""
    schema: str = ""

    @classmethod
    def parse(cls, url: str, service: str) -> DatabaseURL:
        parsed = urlparse(url)
        if parsed.scheme == "sqlite":
            # as SQLAlchemy reads it: sqlite:///relative, sqlite:////absolute
            if not url.startswith("sqlite:///"):
                raise ValueError(
                    "a SQLite URL is sqlite:///relative/path or "
                    "sqlite:////absolute/path"
                )
            return cls(kind="sqlite", path=unquote(url[len("sqlite:///") :]))
        if parsed.scheme in ("postgres", "postgresql"):
            query = parse_qs(parsed.query)
            return cls(
                kind="postgres",
                host=parsed.hostname or "127.0.0.1",
                port=parsed.port or 5432,
                user=unquote(parsed.username or "postgres"),
                password=unquote(parsed.password or ""),
                dbname=(parsed.path or "/").lstrip("/") or "postgres",
                schema=query.get("schema", [service])[0],
            )
        raise ValueError(f"unsupported database URL scheme: {parsed.scheme!r}")


def eventsourcing_env(service: str, url: str | None = None) -> dict[str, str]:
    """The eventsourcing ``Application`` environment for one service."""
    db = DatabaseURL.parse(url or config.database_url(service), service)
    # Tracking must be one row per processed message, not a high-water mark:
    # messages arrive over RabbitMQ out of order (redelivery, replays of parked
    # messages, competing instances), so "max id seen" would swallow gaps.
    common = {"SINGLE_ROW_TRACKING": "n"}
    key = config.get("QI_CIPHER_KEY")
    if key:  # personal data at rest: every stored event's state is encrypted
        common.update(
            CIPHER_TOPIC="eventsourcing.cryptography:AESCipher", CIPHER_KEY=key
        )
    if db.kind == "sqlite":
        Path(db.path).parent.mkdir(parents=True, exist_ok=True)
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


def postgres_connect(db: DatabaseURL, **kwargs: Any):
    return psycopg.connect(
        host=db.host,
        port=db.port,
        user=db.user,
        password=db.password,
        dbname=db.dbname,
        connect_timeout=5,
        **kwargs,
    )


def ensure_postgres_schema(db: DatabaseURL) -> None:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", db.schema):
        raise ValueError(f"schema name {db.schema!r} is not a plain identifier")
    with postgres_connect(db, autocommit=True) as conn:
        try:
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {db.schema}")
        except psycopg.errors.UniqueViolation:
            pass  # created at the same moment by another part or instance


KERNEL_TABLES = (
    """CREATE TABLE IF NOT EXISTS qi_relay_position (
        service TEXT PRIMARY KEY,
        position BIGINT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS qi_projection_position (
        projection TEXT PRIMARY KEY,
        position BIGINT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS qi_parked_messages (
        id {serial},
        consumer TEXT NOT NULL,
        event_id TEXT NOT NULL,
        source TEXT NOT NULL,
        event_type TEXT NOT NULL,
        position BIGINT NOT NULL,
        queue TEXT NOT NULL,
        payload TEXT NOT NULL,
        error TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        status TEXT NOT NULL,
        parked_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (consumer, event_id)
    )""",
)


class KernelClosed(RuntimeError):
    """The service stopped; its kernel store takes no more work."""


class KernelStore:
    """Plain SQL on the kernel tables, in the service's own database.

    SQL is written with ``%s`` placeholders and translated for SQLite.
    """

    def __init__(self, service: str, url: str | None = None):
        self.service = service
        self.db = DatabaseURL.parse(url or config.database_url(service), service)
        self._sqlite: sqlite3.Connection | None = None
        self._pg = None
        self._closed = False
        # one connection, many greenlets: a transaction must not interleave
        self._lock = threading.RLock()
        if self.db.kind == "postgres":  # whichever of a service's parts comes first
            ensure_postgres_schema(self.db)
        serial = (
            "INTEGER PRIMARY KEY AUTOINCREMENT"
            if self.db.kind == "sqlite"
            else "BIGSERIAL PRIMARY KEY"
        )
        self.create(*(ddl.format(serial=serial) for ddl in KERNEL_TABLES))

    def create(self, *statements: str) -> None:
        """Run ``CREATE … IF NOT EXISTS`` statements in one transaction.

        On PostgreSQL two sessions creating the same table at once (a service's
        parts start in parallel, instances too) can both pass IF NOT EXISTS and
        one fails on the catalog's unique key: it then finds the table there.
        """
        for attempt in range(3):
            try:
                with self.cursor() as cur:
                    for statement in statements:
                        cur.execute(statement)
                return
            except (psycopg.errors.UniqueViolation, psycopg.errors.DuplicateTable):
                if attempt == 2:
                    raise

    @property
    def is_sqlite(self) -> bool:
        return self.db.kind == "sqlite"

    @contextmanager
    def cursor(self) -> Iterator[Any]:
        """A cursor in a transaction that commits on success."""
        with self._lock:
            with self._transaction() as cur:
                yield cur

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        if self._closed:
            # a worker outliving its service must not open a connection that
            # nobody will close (it would hold its locks forever)
            raise KernelClosed(f"{self.service}: kernel store is closed")
        if self.is_sqlite:
            if self._sqlite is None:
                Path(self.db.path).parent.mkdir(parents=True, exist_ok=True)
                self._sqlite = sqlite3.connect(
                    self.db.path,
                    timeout=10,
                    isolation_level=None,
                    check_same_thread=False,
                )
                self._sqlite.row_factory = sqlite3.Row
                self._sqlite.execute("PRAGMA journal_mode=WAL")
            conn = self._sqlite
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield _SqliteCursor(conn.cursor())
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        else:
            if self._pg is None or self._pg.closed:
                self._pg = postgres_connect(self.db, row_factory=dict_row)
                self._pg.execute(f"SET search_path TO {self.db.schema}")
                self._pg.commit()
            with self._pg.transaction(), self._pg.cursor() as cur:
                yield cur

    def query(self, sql: str, params: tuple = ()) -> list[dict]:
        with self.cursor() as cur:
            cur.execute(sql, params)
            return [dict(row) for row in cur.fetchall()]

    def execute(self, sql: str, params: tuple = ()) -> int:
        with self.cursor() as cur:
            cur.execute(sql, params)
            return cur.rowcount

    def close(self) -> None:
        self._closed = True
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None
        if self._pg is not None:
            self._pg.close()
            self._pg = None


class _SqliteCursor:
    """Translates ``%s`` placeholders to SQLite's ``?``."""

    def __init__(self, cursor: sqlite3.Cursor):
        self._cursor = cursor

    def execute(self, sql: str, params: tuple = ()) -> None:
        self._cursor.execute(sql.replace("%s", "?"), params)

    def fetchall(self) -> list:
        return self._cursor.fetchall()

    def fetchone(self):
        return self._cursor.fetchone()

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount


def installation_cipher_key(services: list[str]) -> str:
    """QI_CIPHER_KEY, or for ``make run`` the key kept in QI_VAR_DIR/cipher.key.

    A new installation whose ``services`` all keep the embedded SQLite default
    gets a random key there, so personal data is encrypted at rest from the
    first demand. Stores made before without a key stay readable: no key is
    invented for them (they are named in a warning).
    """
    configured = config.get("QI_CIPHER_KEY")
    if configured:
        return configured
    folder = config.var_dir()
    if (folder / "cipher.key").exists():
        return (folder / "cipher.key").read_text(encoding="ascii").strip()
    default = {f"sqlite:///{folder / f'{name}.sqlite'}" for name in services}
    if {config.database_url(name) for name in services} != default:
        return ""  # a database of its own: its key comes with its other secrets
    existing = sorted(p.name for p in folder.glob("*.sqlite"))
    if existing:
        logging.getLogger(__name__).warning(
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
