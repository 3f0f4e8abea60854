"""Read models fed by the service's own notification log.

A projection keeps tables in the service's database and a position; catching
up applies every newer stored event and moves the position in one transaction,
so a read model is never ahead of or behind what it says it has seen, and can
be rebuilt from the events at any time. Queries catch up first (cheap when
nothing is new), so a command's effect is visible to the next query.

A projection also has a schema version. Its tables are declared as SQLAlchemy
metadata and made from it, and a table that exists is never altered: so a
change to the tables, or to what ``apply`` writes in them, comes with a new
``version``, and the first runner that meets a stored version other than its
own (a service starting with the new code) drops the tables, makes them anew
and applies every event again before the service answers a query. Old events
then fill an added column as new ones do.

Rebuilding applies the events in batches, each one transaction; within a batch
the rows a projection inserts are sent together (``Writes``), so a rebuild of
an insert-only read model such as the case index costs a statement per batch,
not one per event.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Connection, Table, delete, select, update

from shared.database import insert_rows
from shared.tables import projection_position, projection_version

log = logging.getLogger(__name__)

POSITION = projection_position.c
VERSION = projection_version.c


class Writes:
    """The statements of one catch-up batch, on its transaction's connection.

    Inserted rows are kept and sent together, one statement per table and
    kind of insert (``shared.database.insert_rows``); any other statement
    first sends what is kept, so every statement sees the rows of the events
    before it, exactly as if each had been sent at once. Kept rows of
    different tables may be sent in another order than they were written,
    which no read model here can tell: none has a trigger or a foreign key
    between its tables.
    """

    def __init__(self, conn: Connection):
        self.conn = conn
        # per table, runs of (new only, column names, rows) in written order
        self._pending: dict[Table, list[tuple[bool, tuple, list[dict]]]] = {}

    def insert(self, table: Table, row: dict) -> None:
        """INSERT the row (sent with the batch's other inserts)."""
        self._keep(table, row, new_only=False)

    def insert_new(self, table: Table, row: dict) -> None:
        """INSERT the row unless its key is there (ON CONFLICT DO NOTHING)."""
        self._keep(table, row, new_only=True)

    def execute(self, statement) -> Any:
        """Run a statement now, after the rows kept so far."""
        self.flush()
        return self.conn.execute(statement)

    def flush(self) -> None:
        pending, self._pending = self._pending, {}
        for table, runs in pending.items():
            for new_only, _, rows in runs:
                insert_rows(self.conn, table, rows, new_only)

    def _keep(self, table: Table, row: dict, new_only: bool) -> None:
        runs = self._pending.setdefault(table, [])
        columns = tuple(row)
        if runs and runs[-1][0] == new_only and runs[-1][1] == columns:
            runs[-1][2].append(row)
        else:
            runs.append((new_only, columns, [row]))


class Projection:
    """Subclass with ``name``, ``version``, ``tables`` (SQLAlchemy ``Table``s)
    and ``apply``; bump ``version`` whenever the tables or ``apply`` change."""

    name: str = ""
    version: int = 1
    tables: tuple[Table, ...] = ()

    def apply(self, event: Any, writes: Writes) -> None:
        raise NotImplementedError


class ProjectionRunner:
    """Keeps one projection's tables caught up with the application's events.

    Made when the application (a ``ServiceApplication``) is, at a service's
    start: it makes the tables that are missing, and rebuilds them if their
    stored version is not the projection's, before the service answers.
    """

    def __init__(self, app: Any, projection: Projection, batch: int = 500):
        self.app = app
        self.kernel = app.kernel
        self.projection = projection
        self.batch = batch
        self.kernel.create(*projection.tables)
        if self._outdated():
            self.catch_up(progress=True)

    # -- versions ----------------------------------------------------------

    def _outdated(self) -> bool:
        """Make the tables anew if they were built for another version; True
        when they were (they must then be filled from every event)."""
        name = self.projection.name
        with self.kernel.transaction() as conn:
            # a read model from before versions were kept is at version 1
            conn.execute(
                self.kernel.insert(projection_version)
                .values(projection=name, version=1)
                .on_conflict_do_nothing()
            )
            stored = conn.execute(
                select(VERSION.version)
                .where(VERSION.projection == name)
                .with_for_update()  # one runner rebuilds, others wait for it
            ).scalar_one()
            if stored == self.projection.version:
                return False
            built = conn.execute(
                select(POSITION.position).where(POSITION.projection == name)
            ).scalar()
            if built is not None:  # else new: made now, nothing to say
                log.warning(
                    "read model %s is at version %d, the code's is %d: rebuilding "
                    "it from the events before the service answers",
                    name,
                    stored,
                    self.projection.version,
                )
            self._recreate(conn)
            conn.execute(
                update(projection_version)
                .where(VERSION.projection == name)
                .values(version=self.projection.version)
            )
        return True

    def _recreate(self, conn: Connection) -> None:
        """Empty tables made from the current metadata, and no position."""
        for table in reversed(self.projection.tables):
            table.drop(conn, checkfirst=True)
        for table in self.projection.tables:
            table.create(conn)
        conn.execute(
            delete(projection_position).where(
                POSITION.projection == self.projection.name
            )
        )

    # -- catching up -------------------------------------------------------

    def _caught_up(self) -> bool:
        """Nothing stored after the position: known from two plain reads, with
        no row locked and so no commit to wait for (most queries find this)."""
        position = self.kernel.scalar(
            select(POSITION.position).where(POSITION.projection == self.projection.name)
        )
        newest = self.app.recorder.max_notification_id() or 0
        return position is not None and int(position) >= newest

    def catch_up(self, progress: bool = False) -> int:
        """Apply stored events not yet applied; returns how many. With
        ``progress``, a rebuild's, every tenth of the way is logged."""
        if self._caught_up():
            return 0
        meter = _Progress(self) if progress else None
        applied = 0
        while True:
            with self.kernel.transaction() as conn:
                position = self._locked_position(conn)
                notifications = self.app.recorder.select_notifications(
                    start=position + 1, limit=self.batch
                )
                writes = Writes(conn)
                for notification in notifications:
                    event = self.app.mapper.to_domain_event(notification)
                    self.projection.apply(event, writes)
                writes.flush()
                if notifications:
                    conn.execute(
                        update(projection_position)
                        .where(POSITION.projection == self.projection.name)
                        .values(position=notifications[-1].id)
                    )
            applied += len(notifications)
            if meter is not None and notifications:
                meter.reached(notifications[-1].id, applied)
            if len(notifications) < self.batch:
                return applied

    def _locked_position(self, conn: Connection) -> int:
        conn.execute(
            self.kernel.insert(projection_position)
            .values(projection=self.projection.name, position=0)
            .on_conflict_do_nothing()
        )
        # locked (FOR UPDATE on PostgreSQL; SQLite's write transaction is the
        # lock): one writer at a time
        return int(
            conn.execute(
                select(POSITION.position)
                .where(POSITION.projection == self.projection.name)
                .with_for_update()
            ).scalar_one()
        )

    def rebuild(self) -> int:
        """Make the tables anew and apply every stored event again."""
        with self.kernel.transaction() as conn:
            self._recreate(conn)
        count = self.catch_up(progress=True)
        log.info("rebuilt %s from %d events", self.projection.name, count)
        return count


class _Progress:
    """Logs a rebuild's progress each time another tenth of it is done."""

    def __init__(self, runner: ProjectionRunner):
        self.name = runner.projection.name
        self.start = runner.kernel.scalar(
            select(POSITION.position).where(POSITION.projection == self.name)
        )
        self.start = int(self.start or 0)
        self.end = runner.app.recorder.max_notification_id() or 0
        self.logged = 0

    def reached(self, position: int, applied: int) -> None:
        span = max(1, self.end - self.start)
        tenths = min(10, (position - self.start) * 10 // span)
        if tenths > self.logged:
            self.logged = tenths
            log.info(
                "rebuilding %s: %d%% (%d events applied)",
                self.name,
                tenths * 10,
                applied,
            )
