"""A read model's schema version: a service started with a changed version
rebuilds the read model from the events before it answers, so a column the
new version adds is filled for events stored long before it existed; the
rebuild logs its progress every tenth of the way. On SQLite and PostgreSQL.

Also: ``case_events`` reads a case in one statement however many events the
case has, not one statement per event."""

import logging

from sqlalchemy import Column, MetaData, Table, Text, event, select

from services.intake.application import IntakeApplication
from services.intake.domain import Demand
from shared.audit import audit_scope
from shared.case_history import case_events
from shared.projection import Projection, ProjectionRunner, Writes
from shared.tables import projection_version
from tests.integration import test_demand_history as intake_tests
from tests.integration.test_demand_history import FORM, STAFF

app = intake_tests.app  # intake's application on the test's database

DEMANDS = 20
BEFORE = Table(
    "test_registrations",
    MetaData(),
    Column("demand_id", Text, primary_key=True),
)
AFTER = Table(  # version 2: the channel each demand came in by, added
    "test_registrations",
    MetaData(),
    Column("demand_id", Text, primary_key=True),
    Column("channel", Text, nullable=False),
)


class Registrations(Projection):
    name = "test_registrations"
    version = 1
    tables = (BEFORE,)

    def apply(self, event, writes: Writes) -> None:
        if isinstance(event, Demand.Registered):
            writes.insert(BEFORE, {"demand_id": str(event.originator_id)})


class RegistrationsWithChannel(Registrations):
    version = 2
    tables = (AFTER,)

    def apply(self, event, writes: Writes) -> None:
        if isinstance(event, Demand.Registered):
            row = {"demand_id": str(event.originator_id), "channel": event.channel}
            writes.insert(AFTER, row)


def test_a_changed_version_rebuilds_and_fills_an_added_column(app, caplog):
    with audit_scope(STAFF):
        demands = {app.register_demand(FORM)["id"] for _ in range(DEMANDS)}
    old = ProjectionRunner(app, Registrations())
    assert old.catch_up() == DEMANDS
    assert "channel" not in app.kernel.query(select(BEFORE))[0]

    # the service starts again with the new version of the read model
    restarted = IntakeApplication()
    try:
        with caplog.at_level(logging.INFO, logger="shared.projection"):
            runner = ProjectionRunner(restarted, RegistrationsWithChannel(), batch=2)
        rows = restarted.kernel.query(select(AFTER))
        stored = restarted.kernel.scalar(
            select(projection_version.c.version).where(
                projection_version.c.projection == "test_registrations"
            )
        )
        again = ProjectionRunner(restarted, RegistrationsWithChannel())
        caught_up = (runner.catch_up(), again.catch_up())
    finally:
        restarted.close()

    assert {r["demand_id"] for r in rows} == demands
    assert {r["channel"] for r in rows} == {"window"}  # filled for old events
    assert stored == 2 and caught_up == (0, 0)
    said = [r.getMessage() for r in caplog.records]
    assert any("is at version 1, the code's is 2" in line for line in said)
    progress = [line for line in said if line.startswith("rebuilding test_reg")]
    assert [line.split(":")[1].split("%")[0].strip() for line in progress] == [
        str(n) for n in range(10, 101, 10)
    ]


def test_case_events_reads_a_case_in_one_statement(app, monkeypatch):
    with audit_scope(STAFF):
        short = app.register_demand(FORM)["id"]
        long = app.register_demand(FORM)["id"]
        app.take(long, "staff-a")
        for note in ("已电话确认样品数量", "已约定送样时间", "已告知检测周期"):
            app.follow_up(long, "staff-a", note)
    app.case_index.catch_up()
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    def no_reads_per_event(*args, **kwargs):
        raise AssertionError("case_events read the events one by one")

    monkeypatch.setattr(app.recorder, "select_events", no_reads_per_event)
    event.listen(app.kernel.engine, "before_cursor_execute", count)
    try:
        read = {}
        for case in (short, long):
            statements.clear()
            events = case_events(app, case)
            read[case] = (len(events), list(statements))
    finally:
        event.remove(app.kernel.engine, "before_cursor_execute", count)

    assert read[short][0] == 1 and read[long][0] == 5
    for _, issued in read.values():
        reading = [s for s in issued if "qi_case_index" in s]
        assert len(reading) == 1 and "JOIN" in reading[0]
    # the same statements for a case of one event as for one of five
    assert len(read[short][1]) == len(read[long][1]) <= 2
