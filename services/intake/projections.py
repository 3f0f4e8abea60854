"""Intake read models: progress codes (7.4.6) and open demands for managers."""

from __future__ import annotations

import hashlib

from sqlalchemy import Column, Integer, MetaData, Table, Text

from services.intake.domain import Demand
from services.intake.rules import OUTCOMES
from shared.projection import Projection, Writes

# who acted: the owner's own actions keep a demand from going stale (7.4.2)
OWNERSHIP = (Demand.Taken, Demand.HandoverAccepted)


def code_digest(code: str) -> str:
    """How a progress code is looked up: the customer's credential is not
    kept readable in a read model (its events are encrypted at rest)."""
    return hashlib.sha256(f"qi-onestop:progress-code:{code}".encode()).hexdigest()


metadata = MetaData()
progress = Table(
    "intake_progress",
    metadata,
    # code_digest(code): the code itself only in the (encrypted) events
    Column("code", Text, primary_key=True),
    Column("demand_id", Text, nullable=False),
)
open_demands = Table(
    "intake_open",
    metadata,
    Column("demand_id", Text, primary_key=True),
    Column("status", Text, nullable=False),
    Column("owner", Text),
    Column("last_owner_action_at", Text, nullable=False),
    Column("green_channel", Integer, nullable=False),
    Column("institution", Text, nullable=False, server_default=""),
    Column("channel", Text, nullable=False, server_default=""),
    Column("registered_at", Text, nullable=False, server_default=""),
)
OPEN = open_demands.c


class IntakeView(Projection):
    name = "intake_view"
    # 2: progress codes kept as digests, not as themselves
    version = 2
    tables = (progress, open_demands)

    def apply(self, event, writes: Writes) -> None:
        if not isinstance(event, Demand.Event):
            return
        demand_id, at = str(event.originator_id), event.timestamp.isoformat()
        if isinstance(event, Demand.Registered):
            writes.insert(
                progress,
                {"code": code_digest(event.progress_code), "demand_id": demand_id},
            )
            writes.insert(
                open_demands,
                {
                    "demand_id": demand_id,
                    "status": "registered",
                    "owner": None,
                    "last_owner_action_at": at,
                    "green_channel": 0,
                    "institution": event.institution,
                    "channel": event.channel,
                    "registered_at": at,
                },
            )
            return
        key = {"demand_id": demand_id}
        if isinstance(event, OWNERSHIP):
            writes.update(open_demands, key, {"owner": event.staff_id})
        if isinstance(event, Demand.Reassigned):  # a manager's, 7.4.2
            writes.update(
                open_demands,
                key,
                {"owner": event.to_owner, "last_owner_action_at": at},
            )
        status = self._status_after(event)
        if status:
            writes.update(open_demands, key, {"status": status})
        if isinstance(event, Demand.GreenChannelOpened):
            writes.update(open_demands, key, {"green_channel": 1})
        actor = self._actor(event)
        if actor is not None:  # no one acting is no owner's action
            writes.update(
                open_demands, key, {"last_owner_action_at": at}, when={"owner": actor}
            )

    def preload(self, events, writes: Writes) -> None:
        """The open demands a batch's events act on: whether the one acting
        owns the demand is then known without a read per event."""
        writes.load(
            open_demands,
            "demand_id",
            {
                str(event.originator_id)
                for event in events
                if isinstance(event, Demand.Event)
                and not isinstance(event, Demand.Registered)
                and self._actor(event) is not None
            },
        )

    @staticmethod
    def _actor(event) -> str | None:
        """Who acted: the staff member the command names, else the caller."""
        return getattr(event, "staff_id", None) or event.__dict__.get("audit", {}).get(
            "actor", {}
        ).get("id")

    @staticmethod
    def _status_after(event) -> str | None:
        if isinstance(event, Demand.Decided):
            return OUTCOMES[event.outcome][1]
        if isinstance(event, Demand.Resolved):
            return "resolved"
        if isinstance(event, Demand.Reopened):
            return "reopened"
        return None
