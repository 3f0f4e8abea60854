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
the rows a projection inserts, and the updates of rows it finds by their key,
are sent together (``Writes``), so a rebuild costs a few statements per batch
and table, not one per event (issue 22: a view's UPDATE per event held its
rebuild to ~1,000 events/s).
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from sqlalchemy import (
    Connection,
    DefaultClause,
    String,
    Table,
    delete,
    func,
    literal_column,
    select,
    update,
)

from shared.database import insert_rows, update_rows
from shared.tables import projection_position, projection_version, stored_events

log = logging.getLogger(__name__)

POSITION = projection_position.c
VERSION = projection_version.c


class _Row:
    """What a batch knows of one row (of a table with a primary key)."""

    __slots__ = ("changes", "image", "inserted", "present")

    def __init__(self, image: dict, present: bool | None):
        self.image = image  # column -> its value now, for the columns known
        self.present = present  # there, not there, or not known
        self.changes: dict = {}  # to UPDATE at the flush
        self.inserted: dict | None = None  # its kept plain INSERT (updates fold in)


class Writes:
    """The statements of one catch-up batch, on its transaction's connection.

    Inserted rows are kept and sent together, one statement per table and
    kind of insert (``shared.database.insert_rows``); so are updates of a row
    found by its primary key (``update``): a batch's successive updates of a
    row are merged into one, a row inserted in the same batch takes them into
    its insert, and the others are sent at the flush as one statement per
    table and set of columns (``shared.database.update_rows``). What a batch
    has written of a row is known (``get``, and an update's ``when``), as is
    what ``load`` read of it; what is not known is read after sending what is
    kept. Any other statement (``execute``) first sends what is kept, and
    afterwards nothing is known: so every statement and every read sees the
    rows of the events before it, exactly as if each had been sent at once.
    Kept rows of different tables, or different rows of a table, may be sent
    in another order than they were written, which no read model here can
    tell: none has a trigger or a foreign key between its tables.
    """

    def __init__(self, conn: Connection):
        self.conn = conn
        # per table, (new only, row) in written order
        self._pending: dict[Table, list[tuple[bool, dict]]] = {}
        # per table with a primary key, its rows known, by key
        self._rows: dict[Table, dict[tuple, _Row]] = {}
        # per table and column, the values whose every row is in _rows
        self._complete: dict[tuple[Table, str], set] = {}

    # -- inserts -------------------------------------------------------------

    def insert(self, table: Table, row: dict) -> None:
        """INSERT the row (sent with the batch's other inserts)."""
        row = dict(row)
        state = self._row_of(table, row)
        if state is not None:
            if state.changes:  # updated before it was inserted: in that order
                self.flush()
            state.image = {**_defaults(table), **row}
            state.present, state.inserted = True, row
        self._pending.setdefault(table, []).append((False, row))

    def insert_new(self, table: Table, row: dict) -> None:
        """INSERT the row unless its key is there (ON CONFLICT DO NOTHING)."""
        row = dict(row)
        state = self._row_of(table, row)
        if state is not None:
            if state.present:  # there: nothing to do
                return
            if state.changes:
                self.flush()
            if state.present is False:  # not there: inserted, as ``insert``
                state.image = {**_defaults(table), **row}
                state.inserted = row
            else:  # there or not: only its key is known
                state.image = {name: row[name] for name in _key_names(table)}
            state.present = True
        self._pending.setdefault(table, []).append((True, row))

    # -- updates and reads ---------------------------------------------------

    def update(
        self, table: Table, key: dict, values: dict, when: dict | None = None
    ) -> None:
        """UPDATE the row whose primary key is ``key`` (a row not there is
        left as it is), ``when`` its columns equal those values (None equals
        nothing, as in SQL); sent at the flush, merged with the row's other
        updates of the batch."""
        found = self._rows.setdefault(table, {})
        at = _key(table, key)
        state = found.get(at)
        if state is None:
            state = found[at] = _Row(dict(key), None)
        if state.present is False:
            return
        if when:
            if any(name not in state.image for name in when):
                state = self._fetch(table, at)
                if not state.present:
                    return
            image = state.image
            if not all(
                want is not None and image[name] == want for name, want in when.items()
            ):
                return
        state.image.update(values)
        if state.inserted is not None:
            state.inserted.update(values)
        else:
            state.changes.update(values)

    def update_where(self, table: Table, where: dict, values: dict) -> None:
        """UPDATE every row whose columns equal ``where``'s values (none of
        them None): the rows known, when every row of one of those values
        was ``load``ed; else sent now, after what is kept."""
        matching = self._matching(table, where, whole=False)
        if matching is not None:
            names = _key_names(table)
            for state in matching:
                key = {name: state.image[name] for name in names}
                self.update(table, key, values)
            return
        self.flush()
        self._forget()
        self.conn.execute(
            update(table)
            .where(*(table.c[name] == value for name, value in where.items()))
            .values(**values)
        )

    def rows(self, table: Table, where: dict) -> list[dict]:
        """The rows whose columns equal ``where``'s values (none of them
        None) as they are now: the rows known, when every row of one of those
        values was ``load``ed (else loaded now, by the first of them)."""
        name, value = next(iter(where.items()))
        if self._matching(table, where, whole=True) is None:
            self.load(table, name, [value])
        matching = self._matching(table, where, whole=True)
        if matching is None:  # rows of the batch not wholly known: read
            self.flush()
            self._forget()
            found = select(table).where(
                *(table.c[column] == want for column, want in where.items())
            )
            return [dict(row) for row in self.conn.execute(found).mappings()]
        return [dict(state.image) for state in matching]

    def _matching(self, table: Table, where: dict, whole: bool) -> list | None:
        """The known rows whose columns equal ``where``'s, or None when which
        rows they are is not known. ``whole``: each known to be there, with
        all its columns (for ``rows``; an update of a row not there does
        nothing, so ``update_where`` can do with less)."""
        if not any(
            value in self._complete.get((table, name), ())
            for name, value in where.items()
        ):
            return None
        matching = []
        width = len(table.columns)
        for state in self._rows.get(table, {}).values():
            if state.present is False:
                continue
            if any(name not in state.image for name in where):
                return None  # inserted by insert_new: not known whether it is
            if all(state.image[name] == want for name, want in where.items()):
                if whole and (not state.present or len(state.image) < width):
                    return None
                matching.append(state)
        return matching

    def get(self, table: Table, key: dict) -> dict | None:
        """The row whose primary key is ``key`` as it is now, or None."""
        at = _key(table, key)
        state = self._rows.get(table, {}).get(at)
        if state is not None and state.present is False:
            return None
        if state is None or not state.present or len(state.image) < len(table.columns):
            state = self._fetch(table, at)
        return dict(state.image) if state.present else None

    def load(self, table: Table, column: str, values) -> None:
        """Read every row whose ``column`` is one of ``values`` (one statement),
        so the batch's updates and reads of them are answered from memory: a
        projection's ``preload`` calls it for the rows its events will need."""
        done = self._complete.setdefault((table, column), set())
        wanted = set(values) - done
        if not wanted:
            return
        self.flush()
        names = _key_names(table)
        found = self._rows.setdefault(table, {})
        rows = self.conn.execute(
            select(table).where(table.c[column].in_(sorted(wanted)))
        ).mappings()
        for row in rows:
            image = dict(row)
            found[tuple(image[name] for name in names)] = _Row(image, True)
        if names == (column,):  # the keys not read are rows not there
            for value in wanted:
                if (value,) not in found:
                    found[(value,)] = _Row({column: value}, False)
        done.update(wanted)

    # -- anything else -------------------------------------------------------

    def execute(self, statement) -> Any:
        """Run a statement now, after the rows kept so far."""
        self.flush()
        self._forget()
        return self.conn.execute(statement)

    def flush(self) -> None:
        """Send what is kept: the inserts, then the updates."""
        pending, self._pending = self._pending, {}
        for table, rows in pending.items():
            kinds: dict[tuple[bool, tuple], list[dict]] = {}
            for new_only, row in rows:
                kinds.setdefault((new_only, tuple(row)), []).append(row)
            for (new_only, _), same in kinds.items():
                insert_rows(self.conn, table, same, new_only)
        for table, found in self._rows.items():
            names = _key_names(table)
            sets: dict[tuple, list[dict]] = {}
            for at, state in found.items():
                state.inserted = None
                if state.changes:
                    columns = tuple(sorted(state.changes))
                    row = dict(zip(names, at, strict=True))
                    row.update((name, state.changes[name]) for name in columns)
                    sets.setdefault(columns, []).append(row)
                    state.changes = {}
            for same in sets.values():
                update_rows(self.conn, table, names, same)

    def _fetch(self, table: Table, at: tuple) -> _Row:
        """The row read anew, after sending what is kept."""
        self.flush()
        names = _key_names(table)
        pairs = zip(names, at, strict=True)
        found = select(table).where(*(table.c[name] == value for name, value in pairs))
        row = self.conn.execute(found).mappings().first()
        if row is None:
            state = _Row(dict(zip(names, at, strict=True)), False)
        else:
            state = _Row(dict(row), True)
        self._rows.setdefault(table, {})[at] = state
        return state

    def _forget(self) -> None:
        self._rows.clear()
        self._complete.clear()

    def _row_of(self, table: Table, row: dict) -> _Row | None:
        """The state of an inserted row's key (made if new), or None when
        the table has no primary key or the row does not name it all."""
        names = _key_names(table)
        if not names or any(name not in row for name in names):
            return None
        found = self._rows.setdefault(table, {})
        at = tuple(row[name] for name in names)
        state = found.get(at)
        if state is None:
            state = found[at] = _Row({}, None)
        return state


@functools.cache
def _key_names(table: Table) -> tuple[str, ...]:
    return tuple(column.name for column in table.primary_key.columns)


def _key(table: Table, key: dict) -> tuple:
    names = _key_names(table)
    if set(key) != set(names):
        raise ValueError(f"{table.name}'s key is {names}, not {tuple(key)}")
    return tuple(key[name] for name in names)


@functools.cache
def _defaults(table: Table) -> dict:
    """The values an INSERT gives the columns it leaves out, where known:
    NULL for a nullable column with no default, a text column's literal
    server default; any other is read when needed."""
    known = {}
    for column in table.columns:
        server = column.server_default
        if server is None and column.default is None and column.nullable:
            known[column.name] = None
        elif (
            isinstance(server, DefaultClause)
            and isinstance(server.arg, str)
            and isinstance(column.type, String)
        ):
            known[column.name] = server.arg
    return known


class Projection:
    """Subclass with ``name``, ``version``, ``tables`` (SQLAlchemy ``Table``s)
    and ``apply``; bump ``version`` whenever the tables or ``apply`` change."""

    name: str = ""
    version: int = 1
    tables: tuple[Table, ...] = ()

    def apply(self, event: Any, writes: Writes) -> None:
        raise NotImplementedError

    def preload(self, events: list[Any], writes: Writes) -> None:
        """Before a batch's events are applied: ``writes.load`` the rows that
        ``apply`` will read or update conditionally, in a statement per table
        instead of one per row. Only a matter of speed: a row not loaded is
        read when needed."""


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
        """Nothing stored after the position: known from one plain read of the
        position and the newest notification id, with no row locked and so no
        commit to wait for (most queries find this; every audit read and board
        read asks it first, so it is one round trip, not two)."""
        position, newest = self.kernel.query(self._positions)[0].values()
        return position is not None and int(position) >= int(newest or 0)

    @functools.cached_property
    def _positions(self):
        """The statement of ``_caught_up``: the events' table is in the same
        database as the kernel's (SQLite numbers its events by rowid)."""
        events = stored_events(self.app.recorder)
        newest = (
            literal_column("rowid")
            if self.kernel.is_sqlite
            else events.c.notification_id
        )
        return select(
            select(POSITION.position)
            .where(POSITION.projection == self.projection.name)
            .scalar_subquery()
            .label("position"),
            select(func.max(newest))
            .select_from(events)
            .scalar_subquery()
            .label("newest"),
        )

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
                events = [self.app.mapper.to_domain_event(n) for n in notifications]
                if events:
                    self.projection.preload(events, writes)
                for event in events:
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
