"""Where a service's database is, and everything that differs between the two
databases we run on, in one place: how connections are made and pooled, how a
write transaction begins, which INSERT construct says ON CONFLICT, and how
many rows are inserted at once.

Every table the project owns is SQLAlchemy Core metadata (``shared/tables.py``
for the kernel's, each service's ``projections.py`` for its read models) and
every statement on them is a Core statement, so nothing outside this module
asks which database it is talking to (the relay's lock, an advisory lock or
a file, is chosen in ``shared/relay_lock.py``). eventsourcing's own recorders keep the
events themselves, on their own connections.

Pooling, and why it cooperates with eventlet:

- PostgreSQL: a SQLAlchemy ``QueuePool`` per kernel store, sized by
  QI_POSTGRES_POOL_SIZE and QI_POSTGRES_MAX_OVERFLOW like eventsourcing's own
  pool beside it (a second pool, not a shared one: eventsourcing's pool hands
  out connections set up for its own types and transactions). Connections
  open lazily, so an idle service holds only the kernel connections it has
  needed at once. The pool waits on ``threading`` conditions, which eventlet
  patches into green ones, and psycopg 3 waits for the server in ``select``
  calls, which eventlet also patches: a greenlet waiting for a connection or
  an answer lets the others run. psycopg's C build (psycopg-binary, issue 22:
  its libpq calls cost about 40 % less CPU than the pure-Python ones through
  ctypes) would wait inside C instead, blocking the hub; ``green_waits``
  gives it the ``select`` wait. The relay's advisory lock holds a connection
  of its own outside the pool, for as long as it is held.
- SQLite: one connection per kernel store (``StaticPool``) used under a green
  lock, as before: sqlite3 waits for a file lock inside C, so a greenlet
  blocked there would stop the hub while the greenlet holding the lock could
  not run to release it; a green lock makes the wait within a process
  cooperative. Reads take the lock too (one connection: its transactions must
  not interleave); measured against a connection per read (``NullPool``) it is
  the faster of the two, because opening the file costs more than the wait.
  Write transactions begin IMMEDIATE, so the write lock is taken up front
  and a transaction never fails half-way on another process's writer.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

# Imported here, once, not lazily: containers start in parallel greenlets, and
# two of them importing psycopg at once can see a half-initialised module.
import psycopg
import psycopg.waiting
import sqlalchemy.exc
from sqlalchemy import (
    URL,
    Connection,
    Engine,
    Table,
    bindparam,
    create_engine,
    event,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.pool import NullPool, StaticPool
from sqlalchemy.schema import CreateSchema

from shared import config

# the execution option that marks a write transaction (SQLite: BEGIN IMMEDIATE)
WRITES = "qi_writes"


def green_waits() -> None:
    """psycopg waits for the server with ``select``, which eventlet makes
    green, never with the C build's own wait (``wait_c``), which would stop
    every greenlet of the process while one waits for PostgreSQL. psycopg
    looks the function up at each wait, so this holds whenever it runs; the
    pure-Python build already chose ``wait_select`` under eventlet."""
    if psycopg.waiting.wait is getattr(psycopg.waiting, "wait_c", None):
        psycopg.waiting.wait = psycopg.waiting.wait_select


green_waits()


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

    def sqlalchemy_url(self) -> URL:
        if self.kind == "sqlite":
            return URL.create("sqlite", database=self.path)
        return URL.create(
            "postgresql+psycopg",  # psycopg 3 (green_waits above)
            username=self.user,
            password=self.password or None,
            host=self.host,
            port=self.port,
            database=self.dbname,
        )


def _postgres_connect_args(db: DatabaseURL) -> dict[str, Any]:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", db.schema):
        raise ValueError(f"schema name {db.schema!r} is not a plain identifier")
    # every session of the service sees its schema first: the tables are
    # declared without one, so one metadata serves every service and backend
    return {"connect_timeout": 5, "options": f"-c search_path={db.schema}"}


def ensure_postgres_schema(db: DatabaseURL) -> None:
    """Create the service's schema; two parts doing it at once is not an error."""
    _postgres_connect_args(db)  # the name is checked before it reaches SQL
    engine = create_engine(
        db.sqlalchemy_url(),
        poolclass=NullPool,
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 5},
    )
    try:
        with engine.connect() as conn:
            conn.execute(CreateSchema(db.schema, if_not_exists=True))
    except sqlalchemy.exc.IntegrityError as exc:
        if not isinstance(exc.orig, psycopg.errors.UniqueViolation):
            raise  # else created at the same moment by another part or instance
    finally:
        engine.dispose()


@dataclass
class Connections:
    """How a kernel store reaches its database.

    ``reads`` and ``writes`` share one pool; ``guard`` is entered around every
    use of a connection (SQLite's one connection is not shared by two
    greenlets at once); ``dedicated`` makes connections outside the pool
    (PostgreSQL only: the relay's advisory lock holds one for as long as it
    is held, which must not take a slot of the pool).
    """

    engine: Engine
    reads: Engine
    writes: Engine
    guard: Callable[[], AbstractContextManager]
    dedicated: Engine | None = None

    def dispose(self) -> None:
        self.engine.dispose()
        if self.dedicated is not None:
            self.dedicated.dispose()


def open_connections(db: DatabaseURL) -> Connections:
    if db.kind == "sqlite":
        return _sqlite(db)
    return _postgres(db)


def _postgres(db: DatabaseURL) -> Connections:
    args = _postgres_connect_args(db)
    engine = create_engine(
        db.sqlalchemy_url(),
        pool_size=config.get_int("QI_POSTGRES_POOL_SIZE"),
        max_overflow=config.get_int("QI_POSTGRES_MAX_OVERFLOW"),
        connect_args=args,
    )
    return Connections(
        engine=engine,
        # a read is one statement: no BEGIN and no ROLLBACK around it
        reads=engine.execution_options(isolation_level="AUTOCOMMIT"),
        writes=engine,
        guard=nullcontext,
        dedicated=create_engine(
            db.sqlalchemy_url(),
            poolclass=NullPool,
            isolation_level="AUTOCOMMIT",
            connect_args=args,
        ),
    )


def _sqlite(db: DatabaseURL) -> Connections:
    Path(db.path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        db.sqlalchemy_url(),
        poolclass=StaticPool,
        connect_args={"check_same_thread": False, "timeout": 10},
    )
    event.listen(engine, "connect", _sqlite_connected)
    event.listen(engine, "begin", _sqlite_begin)
    lock = threading.RLock()  # green under eventlet's monkey-patching
    return Connections(
        engine=engine,
        reads=engine,
        writes=engine.execution_options(**{WRITES: True}),
        guard=lambda: lock,
    )


def _sqlite_connected(dbapi_connection, _record) -> None:
    # transactions are begun by _sqlite_begin, not by the sqlite3 module
    dbapi_connection.isolation_level = None
    dbapi_connection.execute("PRAGMA journal_mode=WAL")


def _sqlite_begin(conn) -> None:
    if conn.get_execution_options().get(WRITES):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    # a read runs its one statement on its own, which SQLite makes atomic


def insert(dialect: str, table: Table) -> postgresql.Insert | sqlite.Insert:
    """``INSERT`` with ``on_conflict_do_nothing``/``on_conflict_do_update``:
    PostgreSQL's and SQLite's constructs say the same in the same words."""
    construct = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return construct(table)


def insert_rows(
    conn: Connection, table: Table, rows: list[dict], new_only: bool = False
) -> None:
    """INSERT many rows (all with the same columns) as one statement.

    PostgreSQL: ``INSERT … SELECT unnest(…), unnest(…)`` with one array per
    column, a short statement whatever the number of rows, which psycopg
    parses once and prepares (a multi-row VALUES would be a long new text
    for the driver to parse each time, and an executemany one statement per
    row). SQLite: an executemany, which sqlite3 runs in C on one prepared
    statement. ``new_only``: rows whose key is there are left out (ON
    CONFLICT DO NOTHING).
    """
    columns = tuple(rows[0])
    statement = _bulk_insert(conn.dialect, table, columns, new_only)
    if conn.dialect.name == "postgresql":
        values: Any = {name: [row[name] for row in rows] for name in columns}
    else:
        values = rows
    conn.execute(statement, values)


@functools.cache
def _bulk_insert(dialect, table: Table, columns: tuple[str, ...], new_only: bool):
    """The statement ``insert_rows`` sends, made once per table and columns
    as a text SQLAlchemy caches (issue 22): the dialects' own ``insert``
    constructs (which say ON CONFLICT) have no cache key, so each flush of a
    projection's rows compiled its statement anew — a quarter of a view
    rebuild's time. The binds keep the columns' types, so values are
    converted as before (PostgreSQL: typed arrays, with their casts)."""
    quote = dialect.identifier_preparer
    names = ", ".join(quote.quote(name) for name in columns)
    into = f"INSERT INTO {quote.format_table(table)} ({names})"
    if dialect.name == "postgresql":
        sources = ", ".join(f"unnest(:{name})" for name in columns)
        sql = f"{into} SELECT {sources}"
        binds = [
            bindparam(name, type_=postgresql.ARRAY(table.c[name].type))
            for name in columns
        ]
    else:
        sql = f"{into} VALUES ({', '.join(f':{name}' for name in columns)})"
        binds = [bindparam(name, type_=table.c[name].type) for name in columns]
    if new_only:
        sql += " ON CONFLICT DO NOTHING"
    return text(sql).bindparams(*binds)


def update_rows(
    conn: Connection, table: Table, keys: tuple[str, ...], rows: list[dict]
) -> None:
    """UPDATE many rows, each found by its ``keys`` columns and given the
    same other columns, as one statement (a row not there is left out).

    PostgreSQL: ``UPDATE … FROM (SELECT unnest(…), …)`` with one array per
    column, as ``insert_rows``; SQLite: an executemany of one ``UPDATE``.
    The rows' keys must differ (PostgreSQL would set a row twice at random).
    """
    columns = tuple(name for name in rows[0] if name not in keys)
    statement = _bulk_update(conn.dialect, table, keys, columns)
    names = keys + columns
    if conn.dialect.name == "postgresql":
        values: Any = {
            f"c{i}": [row[name] for row in rows] for i, name in enumerate(names)
        }
    else:
        values = [{f"c{i}": row[name] for i, name in enumerate(names)} for row in rows]
    conn.execute(statement, values)


@functools.cache
def _bulk_update(
    dialect, table: Table, keys: tuple[str, ...], columns: tuple[str, ...]
):
    """The statement ``update_rows`` sends, made once per table and columns
    (a text SQLAlchemy caches, with the columns' types, as ``_bulk_insert``).
    Binds are numbered (``c0`` …: keys first), not named after columns."""
    quote = dialect.identifier_preparer
    into = quote.format_table(table)
    names = keys + columns
    binds = {name: f"c{i}" for i, name in enumerate(names)}
    if dialect.name == "postgresql":
        sources = ", ".join(f"unnest(:{binds[n]}) AS {binds[n]}" for n in names)
        sets = ", ".join(f"{quote.quote(n)} = _v.{binds[n]}" for n in columns)
        found = " AND ".join(f"{into}.{quote.quote(n)} = _v.{binds[n]}" for n in keys)
        sql = f"UPDATE {into} SET {sets} FROM (SELECT {sources}) AS _v WHERE {found}"
        typed = [
            bindparam(binds[n], type_=postgresql.ARRAY(table.c[n].type)) for n in names
        ]
    else:
        sets = ", ".join(f"{quote.quote(n)} = :{binds[n]}" for n in columns)
        found = " AND ".join(f"{quote.quote(n)} = :{binds[n]}" for n in keys)
        sql = f"UPDATE {into} SET {sets} WHERE {found}"
        typed = [bindparam(binds[n], type_=table.c[n].type) for n in names]
    return text(sql).bindparams(*typed)


def disconnected(exc: BaseException) -> BaseException | None:
    """The driver's own error behind a SQLAlchemy one for a lost connection
    or a locked database: callers deciding whether to retry (an event handler
    puts its message back) know the driver's errors, as they did before."""
    if isinstance(
        exc, sqlalchemy.exc.OperationalError | sqlalchemy.exc.InterfaceError
    ) and isinstance(exc.orig, Exception):
        return exc.orig
    return None


@contextmanager
def driver_errors() -> Iterator[None]:
    try:
        yield
    except sqlalchemy.exc.DBAPIError as exc:
        original = disconnected(exc)
        if original is None:
            raise
        raise original from exc
