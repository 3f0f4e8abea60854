"""A view's updates within a catch-up batch are kept and sent together
(``shared.projection.Writes.update``), as its inserts are (issue 22): the
rows a view ends with must not depend on it. On SQLite and PostgreSQL.

The services' views are rebuilt from a small year of real domain events (the
province-scale bench's loader, ``bench.scale_load``: demands registered,
taken, decided, referred, completed, resolved, complained of, surveyed) three
ways, and every one of their tables compared row for row:

- event by event with every write sent as soon as it is made and nothing
  kept between two writes (what each view did before issue 22: an UPDATE per
  write, its condition read by the database);
- event by event (a batch of one);
- in batches of 500.

And ``Writes`` itself: what it keeps answers as the database would.
"""

import random
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, Text, event, select

from bench.scale_load import YearLoader, province
from services.notify.domain import Backoff, Message
from services.notify.render import Rendered
from shared import projection, system
from shared.projection import ProjectionRunner, Writes

SERVICES = ("catalog", "intake", "referral", "complaints", "evaluation")
DEMANDS = 250  # one chunk of the loader: every kind of step happens to some


class SentAtOnce(Writes):
    """Every write sent when it is made, nothing known between two: each
    condition (``when``, a read, ``update_where``) answered by the database."""

    def insert(self, table, row):
        super().insert(table, row)
        self._now()

    def insert_new(self, table, row):
        super().insert_new(table, row)
        self._now()

    def update(self, table, key, values, when=None):
        self._now()
        super().update(table, key, values, when)
        self._now()

    def update_where(self, table, where, values):
        self._now()
        super().update_where(table, where, values)
        self._now()

    def get(self, table, key):
        self._now()
        return super().get(table, key)

    def load(self, table, column, values):
        pass  # nothing read ahead

    def _now(self):
        self.flush()
        self._forget()


@pytest.fixture
def year(databases, tmp_path):
    """The loaded services' applications, a small year in their stores."""
    rng = random.Random(22)
    place = province(12, 3, 1, rng)
    seed = place.write_seed(tmp_path / "province.json")
    apps = {}
    try:
        for name in SERVICES:
            apps[name] = system.application_class(name)(databases[name])
        now = datetime.now(UTC)
        loader = YearLoader(apps, place, seed, rng, now, lambda _: None)
        loader.load_catalog()
        loader.load_demands(DEMANDS, now - timedelta(days=365))
        yield apps
    finally:
        for app in apps.values():
            app.close()


def _views(app):
    return [
        r
        for r in vars(app).values()
        if isinstance(r, ProjectionRunner) and r.projection.name != "qi_case_index"
    ]


def _rows(app, runner) -> dict[str, list[tuple]]:
    """Every row of the view's tables, in key order."""
    found = {}
    for table in runner.projection.tables:
        key = list(table.primary_key.columns) or list(table.columns)
        rows = app.kernel.query(select(table).order_by(*key))
        found[table.name] = [tuple(sorted(row.items())) for row in rows]
    return found


@contextmanager
def _statements(app):
    """The statements the application's kernel sends meanwhile."""
    sent = []

    def count(conn, cursor, statement, *args):
        sent.append(statement)

    event.listen(app.kernel.engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(app.kernel.engine, "before_cursor_execute", count)


def _rebuilt(app, runner, batch: int) -> tuple[int, dict]:
    runner.batch = batch
    try:
        applied = runner.rebuild()
    finally:
        runner.batch = 500
    return applied, _rows(app, runner)


def test_views_rebuilt_in_batches_end_as_event_by_event(year, monkeypatch):
    compared = {}
    for app in year.values():
        for runner in _views(app):
            at_once = _compared(app, runner, monkeypatch)
            compared[runner.projection.name] = sum(map(len, at_once.values()))
    # the year touched every view and most of its tables
    assert set(compared) == {
        "catalog_view",
        "intake_view",
        "referral_view",
        "complaints_view",
        "evaluation_view",
    }
    assert all(compared.values()), compared
    intake = _rows(year["intake"], _views(year["intake"])[0])["intake_open"]
    statuses = {dict(row)["status"] for row in intake}
    assert {"resolved"} <= statuses, statuses
    assert any(dict(row)["owner"] for row in intake)


def _compared(app, runner, monkeypatch) -> dict:
    """The view rebuilt the three ways, which must end with the same rows."""
    with monkeypatch.context() as patched:
        patched.setattr(projection, "Writes", SentAtOnce)
        applied, at_once = _rebuilt(app, runner, 1)
    assert applied == app.recorder.max_notification_id() > 0
    assert _rebuilt(app, runner, 1) == (applied, at_once)
    with _statements(app) as sent:
        assert _rebuilt(app, runner, 500) == (applied, at_once)
    # a few statements a batch and table, not one an event: the rebuild's
    # own (tables made anew, the events read, the position) and each batch's
    # inserts, updates and reads ahead
    assert len(sent) <= 20 + 25 * (applied // 500 + 1), sent
    return at_once


def test_notify_messages_rebuilt_in_batches_end_as_event_by_event(
    databases, monkeypatch
):
    """Messages routed, attempted, sent, failed, parked and released, their
    steps interleaved in the store as a day's sending interleaves them."""
    app = system.application_class("notify")(databases["notify"])
    rng = random.Random(9)
    backoff = Backoff(first_seconds=1, attempts=2, longest_seconds=1, lease_seconds=5)
    now = datetime(2026, 11, 4, 1, 0, tzinfo=UTC)
    try:
        messages = [
            Message.queue(
                f"evt-{n}",
                {"kind": "materials_notice", "audience": "customer", "demand_id": "d"},
                Rendered("主题", "正文", "<p>正文</p>"),
                now,
            )
            for n in range(60)
        ]
        app.save(*messages)
        for message in messages:
            channels = rng.sample(["email", "sms"], rng.randint(0, 2))
            message.route({c: f"{c}-to" for c in channels}, now)
        app.save(*messages)
        for _ in range(6):  # rounds of sending: every message's next step
            now += timedelta(seconds=10)
            for message in messages:
                _step(message, now, rng, backoff)
            app.save(*[m for m in messages if m.pending_events])
        rows = _compared(app, app.view, monkeypatch)
    finally:
        app.close()
    statuses = {dict(row)["status"] for row in rows["notify_messages"]}
    assert {"inbox", "sent", "parked", "sending"} <= statuses, statuses


def _step(message, now, rng, backoff) -> None:
    if message.status == "parked" and rng.random() < 0.3:
        message.release(now)
        return
    for channel in message.due(now):
        message.start(channel, now, backoff)
        if rng.random() < 0.3:
            message.sent(channel, now)
        elif rng.random() < 0.8:
            message.failed(channel, "refused", now, backoff)
        return  # one step a round; an attempt may be left unfinished


# -- Writes on its own ---------------------------------------------------------

things = Table(
    "test_batched_things",
    MetaData(),
    Column("id", Text, primary_key=True),
    Column("owner", Text),
    Column("label", Text, nullable=False, server_default=""),
    Column("count", Integer, nullable=False, server_default="0"),
    Column("group_id", Text, nullable=False, server_default=""),
)


@pytest.fixture
def kernel(databases):
    app = system.application_class("intake")(databases["intake"])
    try:
        app.kernel.create(things)
        yield app.kernel
    finally:
        app.close()


def _things(kernel) -> list[tuple]:
    return [tuple(r.values()) for r in kernel.query(select(things).order_by("id"))]


def test_updates_are_merged_folded_and_sent_at_the_flush(kernel):
    with kernel.transaction() as conn:
        conn.execute(
            things.insert(), [{"id": "a", "owner": "x"}, {"id": "b", "owner": None}]
        )
    with kernel.transaction() as conn:
        writes = Writes(conn)
        writes.update(things, {"id": "a"}, {"label": "one"})
        writes.update(things, {"id": "a"}, {"count": 2})
        writes.update(things, {"id": "b"}, {"label": "two"})
        writes.update(things, {"id": "z"}, {"label": "not there"})
        writes.insert(things, {"id": "c", "owner": "y"})
        writes.update(things, {"id": "c"}, {"label": "three"})
        writes.update(things, {"id": "c"}, {"count": 3}, when={"owner": "y"})
        writes.update(things, {"id": "c"}, {"count": 9}, when={"owner": "x"})
        # nothing sent yet: the database has only the first two rows as made
        assert _things_on(conn) == [("a", "x", "", 0, ""), ("b", None, "", 0, "")]
        writes.flush()
    assert _things(kernel) == [
        ("a", "x", "one", 2, ""),
        ("b", None, "two", 0, ""),
        ("c", "y", "three", 3, ""),
    ]


def _things_on(conn) -> list[tuple]:
    return [tuple(r) for r in conn.execute(select(things).order_by("id"))]


def test_a_condition_not_known_is_read_after_what_is_kept(kernel):
    with kernel.transaction() as conn:
        conn.execute(
            things.insert(), [{"id": "a", "owner": "x"}, {"id": "b", "owner": None}]
        )
    with kernel.transaction() as conn:
        writes = Writes(conn)
        writes.update(things, {"id": "a"}, {"count": 1})
        # the owner is not known: read, after the count is sent
        writes.update(things, {"id": "a"}, {"label": "x's"}, when={"owner": "x"})
        writes.update(things, {"id": "a"}, {"owner": "w"})
        writes.update(things, {"id": "a"}, {"label": "w's"}, when={"owner": "x"})
        # NULL equals nothing, as in SQL
        writes.update(things, {"id": "b"}, {"label": "none"}, when={"owner": None})
        assert writes.get(things, {"id": "a"}) == {
            "id": "a",
            "owner": "w",
            "label": "x's",
            "count": 1,
            "group_id": "",
        }
        assert writes.get(things, {"id": "z"}) is None
        writes.flush()
    assert _things(kernel) == [("a", "w", "x's", 1, ""), ("b", None, "", 0, "")]


def test_insert_new_and_an_update_of_a_row_before_it_is_inserted(kernel):
    with kernel.transaction() as conn:
        conn.execute(things.insert(), {"id": "a", "label": "kept"})
    with kernel.transaction() as conn:
        writes = Writes(conn)
        writes.load(things, "id", ["a", "n"])
        writes.insert_new(things, {"id": "a", "label": "ignored"})  # there
        writes.update(things, {"id": "a"}, {"count": 1}, when={"label": "kept"})
        writes.insert_new(things, {"id": "n"})  # known not there: inserted
        writes.update(things, {"id": "n"}, {"label": "new"}, when={"label": ""})
        # not loaded: there or not is not known, so the update waits for it
        writes.update(things, {"id": "m"}, {"label": "before"})
        writes.insert_new(things, {"id": "m"})
        writes.update(things, {"id": "m"}, {"count": 5})
        writes.insert_new(things, {"id": "m", "label": "again"})  # there now
        writes.flush()
    assert _things(kernel) == [
        ("a", None, "kept", 1, ""),
        ("m", None, "", 5, ""),
        ("n", None, "new", 0, ""),
    ]


def test_update_where_answers_from_what_is_loaded_or_sends_it(kernel):
    with kernel.transaction() as conn:
        conn.execute(
            things.insert(),
            [
                {"id": "a", "group_id": "g", "label": "valid"},
                {"id": "b", "group_id": "g", "label": "old"},
                {"id": "c", "group_id": "h", "label": "valid"},
            ],
        )
    with kernel.transaction() as conn:
        writes = Writes(conn)
        writes.load(things, "group_id", ["g"])
        where = {"group_id": "g", "label": "valid"}
        writes.update_where(things, where, {"label": "replaced"})
        writes.insert(things, {"id": "d", "group_id": "g", "label": "valid"})
        writes.update_where(things, where, {"label": "revoked"})
        # h was not loaded: sent as a statement, after what is kept
        writes.update_where(things, {"group_id": "h", "label": "valid"}, {"count": 7})
        writes.flush()
    assert _things(kernel) == [
        ("a", None, "replaced", 0, "g"),
        ("b", None, "old", 0, "g"),
        ("c", None, "valid", 7, "h"),
        ("d", None, "revoked", 0, "g"),
    ]
