"""Fault: many writers on one demand at once (delivery contract 5).

Writers load the same version before any of them saves (a barrier holds the
first save of each), so all but one meet a version conflict and retry on
fresh state. The outcome is one consistent stream: one first responder (7.4.2),
every accepted follow-up stored once (8.3.5), none stored that was refused.
"""

from __future__ import annotations

import threading
from uuid import UUID

import eventlet
import pytest
from eventsourcing.persistence import RecordConflictError

from services.intake.application import IntakeApplication
from shared.errors import ConflictError, ValidationFailed

FORM = {
    "applicant": "无锡某精密机械有限公司",
    "contact_phone": "0510-85201234",
    "service_item_code": "6.3",
    "description": "齿轮硬度检测",
    "channel": "window",
}
INSTANCES = 3  # as three replicas of intake, each with its own connections
WRITERS = 18


class RacingIntake(IntakeApplication):
    """intake whose first save per writer waits until every writer loaded."""

    barrier: threading.Barrier | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.conflicts = 0
        self.held = threading.local()

    def save(self, *objects, **kwargs):
        if self.barrier is not None and not getattr(self.held, "done", False):
            self.held.done = True
            self.barrier.wait(timeout=20)
        try:
            return super().save(*objects, **kwargs)
        except RecordConflictError:
            self.conflicts += 1
            raise


@pytest.fixture
def replicas(databases):
    apps = [RacingIntake() for _ in range(INSTANCES)]
    yield apps
    for app in apps:
        app.close()


def race(replicas, command) -> list:
    """Run ``command(app, i)`` for each writer, all at once; their outcomes."""
    barrier = threading.Barrier(WRITERS)
    for app in replicas:
        app.barrier = barrier

    def writer(i: int):
        app = replicas[i % len(replicas)]
        try:
            return command(app, i)
        except (ValidationFailed, ConflictError) as refused:
            return refused

    pool = eventlet.GreenPool(WRITERS)
    outcomes = list(pool.imap(writer, range(WRITERS)))
    for app in replicas:
        app.barrier = None
    return outcomes


def events_of(app, demand_id: str, kind: str) -> list:
    return [
        e
        for e in app.repository.event_store.get(UUID(demand_id))
        if type(e).__name__ == kind
    ]


@pytest.mark.parametrize("backend", ["postgres"])
def test_many_writers_on_one_demand_leave_one_consistent_outcome(
    replicas, fault_report
):
    demand_id = replicas[0].register_demand(FORM)["id"]

    takes = race(replicas, lambda app, i: app.take(demand_id, f"staff-{i}"))
    owners = [o["owner"] for o in takes if isinstance(o, dict)]
    taken = events_of(replicas[0], demand_id, "Taken")
    assert len(owners) == 1 and len(taken) == 1
    assert taken[0].staff_id == owners[0]
    assert all(
        isinstance(o, ValidationFailed) and o.errors[0]["field"] == "owner"
        for o in takes
        if not isinstance(o, dict)
    )
    take_conflicts = sum(app.conflicts for app in replicas)

    owner = owners[0]
    notes = race(
        replicas, lambda app, i: app.follow_up(demand_id, owner, f"第{i}次跟进")
    )
    accepted = {f"第{i}次跟进" for i, o in enumerate(notes) if isinstance(o, dict)}
    refused = [o for o in notes if isinstance(o, ConflictError)]
    stored = [e.note for e in events_of(replicas[0], demand_id, "FollowedUp")]
    conflicts = sum(app.conflicts for app in replicas)
    demand = replicas[0].repository.get(UUID(demand_id))

    fault_report(
        "concurrent writers on one demand",
        sent=2 * WRITERS,
        effects=1 + len(stored),
        lost=len(accepted - set(stored)),
        duplicated=len(stored) - len(set(stored)) + len(set(stored) - accepted),
        parked=0,
        note=f"{conflicts} version conflicts retried, 1 owner, "
        f"{len(accepted)} follow-ups taken, {len(refused)} answered 409",
    )
    assert set(stored) == accepted and len(stored) == len(accepted)
    assert len(accepted) + len(refused) == WRITERS
    assert take_conflicts >= 1 and conflicts > take_conflicts
    assert demand.version == 2 + len(stored)  # registered, taken, follow-ups
    assert replicas[0].verify_all() == (1, [])
