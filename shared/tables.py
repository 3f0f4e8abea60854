"""The kernel's own tables, declared once, beside the event store in each
service's database: the relay's position, each read model's position and
schema version, and parked messages. ``KernelStore`` creates them from this
metadata; every statement on them is a SQLAlchemy Core statement.

eventsourcing creates and owns its events and tracking tables; the two
functions at the end only describe the columns the kernel reads of them.
"""

from __future__ import annotations

import functools

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)

KERNEL = MetaData()

relay_position = Table(
    "qi_relay_position",
    KERNEL,
    Column("service", Text, primary_key=True),
    Column("position", BigInteger, nullable=False),
)

projection_position = Table(
    "qi_projection_position",
    KERNEL,
    Column("projection", Text, primary_key=True),
    Column("position", BigInteger, nullable=False),
)

# the schema version each read model's tables were built for (a table of its
# own: the position table predates versions, and a row missing here means the
# version every read model had then, 1)
projection_version = Table(
    "qi_projection_version",
    KERNEL,
    Column("projection", Text, primary_key=True),
    Column("version", Integer, nullable=False),
)

parked_messages = Table(
    "qi_parked_messages",
    KERNEL,
    # SQLite's rowid (a BIGINT key would not be one), never reused
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("consumer", Text, nullable=False),
    Column("event_id", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("event_type", Text, nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("queue", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("error", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("status", Text, nullable=False),
    Column("parked_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    UniqueConstraint("consumer", "event_id"),
    sqlite_autoincrement=True,
)


def stored_events(recorder) -> Table:
    """eventsourcing's events table of ``recorder``, for reading a case's events
    in one statement. ``Uuid`` is how both recorders keep the originator id:
    PostgreSQL's uuid, SQLite's 32 hex digits."""
    return _events(recorder.events_table_name)


def tracking(recorder) -> Table:
    """eventsourcing's tracking table of a process recorder (one row per
    processed message: ``SINGLE_ROW_TRACKING`` is off)."""
    return _tracking(getattr(recorder, "tracking_table_name", "tracking"))


# one Table per name, so SQLAlchemy's statement cache knows it again
@functools.cache
def _events(name: str) -> Table:
    return Table(
        name,
        MetaData(),
        Column("originator_id", Uuid, primary_key=True),
        Column("originator_version", BigInteger, primary_key=True),
        Column("topic", Text),
        Column("state", LargeBinary),
        # PostgreSQL's; SQLite's recorder numbers its events by rowid
        Column("notification_id", BigInteger),
    )


@functools.cache
def _tracking(name: str) -> Table:
    return Table(
        name,
        MetaData(),
        Column("application_name", Text, primary_key=True),
        Column("notification_id", BigInteger, primary_key=True),
    )
