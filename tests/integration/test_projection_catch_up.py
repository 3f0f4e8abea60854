"""A read model's catch-up before a query: events stored since are applied,
and with nothing new it answers from plain reads, without waiting for the
position's row lock that a catching-up writer holds."""

import threading
import time

import psycopg
import pytest

from shared.audit import audit_scope
from shared.case_history import case_events
from tests.integration import test_demand_history as intake_tests
from tests.integration.test_demand_history import FORM, STAFF

app = intake_tests.app  # intake's application on the test's database


def test_events_stored_after_a_query_show_in_the_next_one(app):
    with audit_scope(STAFF):
        case = app.register_demand(FORM)["id"]
        assert [e["version"] for e in case_events(app, case)] == [1]
        app.take(case, "staff-a")

    assert [e["version"] for e in case_events(app, case)] == [1, 2]
    assert app.case_index.catch_up() == 0


def test_nothing_new_answers_while_a_writer_holds_the_position(app, backend):
    if backend != "postgres":
        pytest.skip("SQLite has one writer at a time by design")
    with audit_scope(STAFF):
        case = app.register_demand(FORM)["id"]
    case_events(app, case)  # caught up
    db = app.kernel.db
    writer = psycopg.connect(host=db.host, port=db.port, user=db.user, dbname=db.dbname)
    writer.execute(
        f"SELECT position FROM {db.schema}.qi_projection_position "
        "WHERE projection='qi_case_index' FOR UPDATE"
    )
    release = threading.Timer(5, writer.rollback)
    release.start()
    try:
        started = time.monotonic()
        events = case_events(app, case)
        waited = time.monotonic() - started
    finally:
        release.cancel()
        writer.rollback()
        writer.close()

    assert [e["version"] for e in events] == [1]
    assert waited < 2


def test_the_audit_reads_a_stream_whole_but_times_only_the_cases_events(app):
    """``case_audit``: a stream with events of two cases is verified whole
    for each, and each case's timeline has only its own events, as
    ``case_events`` and ``verify_case`` say."""
    from dataclasses import replace

    from shared.case_history import case_audit, verify_case

    with audit_scope(STAFF):
        case = app.register_demand(FORM)["id"]
    other = "an-earlier-case-it-was-split-from"
    with audit_scope(replace(STAFF, correlation_id=other)):
        app.take(case, "staff-a")
    for correlation_id, versions in ((case, [1]), (other, [2])):
        audit = case_audit(app, correlation_id)
        assert [e["version"] for e in audit["events"]] == versions
        assert audit["events"] == case_events(app, correlation_id)
        assert audit["check"] == verify_case(app, correlation_id)
        assert audit["check"]["streams"] == 1 and audit["check"]["breaks"] == []
