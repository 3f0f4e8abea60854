"""Fault: stored events altered behind the application's back (audit contract).

An intruder with database access edits one event's content, deletes another
from the middle of a stream, and swaps the payloads of two events; ``python -m
shared.verify intake`` (``make verify``) names each altered stream at the first
event that no longer holds, and nothing else.
"""

from __future__ import annotations

import re
import subprocess
import sys
from uuid import UUID

import psycopg
import pytest

from services.intake.application import IntakeApplication
from tests import support
from tests.faults.tally import schema_of

FORM = {
    "applicant": "南通某船舶配件有限公司",
    "contact_phone": "0513-85301234",
    "service_item_code": "6.3",
    "description": "焊缝无损检测",
    "channel": "window",
}
DEMANDS = 30
ALTERED = re.compile(r"^ALTERED intake stream (\S+) version (\d+): ", re.M)


@pytest.fixture
def intake(databases):
    app = IntakeApplication()
    yield app
    app.close()


def worked_demand(intake) -> str:
    """A demand with four events: registered, taken, two follow-ups."""
    demand_id = intake.register_demand(FORM)["id"]
    intake.take(demand_id, "staff-1")
    intake.follow_up(demand_id, "staff-1", "已电话联系客户")
    intake.follow_up(demand_id, "staff-1", "样品已送达实验室")
    return demand_id


def execute(url: str, sql: str, *args) -> None:
    with psycopg.connect(support.PG_BASE) as conn:
        conn.execute(sql.replace("{events}", f"{schema_of(url)}.intake_events"), args)


def verify_intake() -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "shared.verify", "intake"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode, done.stdout + done.stderr


@pytest.mark.parametrize("backend", ["postgres"])
def test_verify_names_every_altered_stream_and_no_other(
    intake, databases, fault_report
):
    ids = [worked_demand(intake) for _ in range(DEMANDS)]
    assert verify_intake()[0] == 0
    url = databases["intake"]
    edited, deleted, swapped = (UUID(i) for i in ids[3:6])

    support.tamper(intake, edited, 1, lambda s: s.update(applicant="别的公司"))
    execute(
        url,
        "DELETE FROM {events} WHERE originator_id=%s AND originator_version=3",
        deleted,
    )
    # version 3's payload written over version 4: each hash holds by itself,
    # the link to the event before does not
    execute(
        url,
        "UPDATE {events} SET state = (SELECT state FROM {events} "
        "WHERE originator_id=%s AND originator_version=3) "
        "WHERE originator_id=%s AND originator_version=4",
        swapped,
        swapped,
    )
    expected = {(str(edited), 1), (str(deleted), 4), (str(swapped), 4)}

    status, output = verify_intake()
    named = {(oid, int(version)) for oid, version in ALTERED.findall(output)}
    fault_report(
        "tampering with stored events",
        sent=len(expected),
        effects=len(named & expected),
        lost=len(expected - named),
        duplicated=len(named - expected),
        parked=0,
        note=f"{DEMANDS} streams checked by python -m shared.verify; "
        "effects = alterations named",
    )
    assert status == 1, output
    assert named == expected, output
    assert f"intake: {DEMANDS} stream(s) checked, 3 broken" in output
