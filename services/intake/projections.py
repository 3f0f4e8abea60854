"""Intake read models: progress codes (7.4.6) and open demands for managers."""

from __future__ import annotations

from services.intake.domain import Demand
from services.intake.rules import OUTCOMES
from shared.projection import Projection

# who acted: the owner's own actions keep a demand from going stale (7.4.2)
OWNERSHIP = (Demand.Taken, Demand.HandoverAccepted)


class IntakeView(Projection):
    name = "intake_view"
    table_names = ("intake_progress", "intake_open")
    tables = (
        """CREATE TABLE IF NOT EXISTS intake_progress (
            code TEXT PRIMARY KEY, demand_id TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS intake_open (
            demand_id TEXT PRIMARY KEY, status TEXT NOT NULL, owner TEXT,
            last_owner_action_at TEXT NOT NULL, green_channel INTEGER NOT NULL,
            institution TEXT NOT NULL DEFAULT '', channel TEXT NOT NULL DEFAULT '',
            registered_at TEXT NOT NULL DEFAULT '')""",
    )

    def apply(self, event, cursor) -> None:
        if not isinstance(event, Demand.Event):
            return
        demand_id, at = str(event.originator_id), event.timestamp.isoformat()
        if isinstance(event, Demand.Registered):
            cursor.execute(
                "INSERT INTO intake_progress (code, demand_id) VALUES (%s, %s)",
                (event.progress_code, demand_id),
            )
            cursor.execute(
                "INSERT INTO intake_open (demand_id, status, owner, "
                "last_owner_action_at, green_channel, institution, channel, "
                "registered_at) VALUES (%s, %s, NULL, %s, 0, %s, %s, %s)",
                (demand_id, "registered", at, event.institution, event.channel, at),
            )
            return
        if isinstance(event, OWNERSHIP):
            cursor.execute(
                "UPDATE intake_open SET owner=%s WHERE demand_id=%s",
                (event.staff_id, demand_id),
            )
        status = self._status_after(event)
        if status:
            cursor.execute(
                "UPDATE intake_open SET status=%s WHERE demand_id=%s",
                (status, demand_id),
            )
        if isinstance(event, Demand.GreenChannelOpened):
            cursor.execute(
                "UPDATE intake_open SET green_channel=1 WHERE demand_id=%s",
                (demand_id,),
            )
        # who acted: the staff member the command names, else the caller
        actor = getattr(event, "staff_id", None) or event.__dict__.get("audit", {}).get(
            "actor", {}
        ).get("id")
        cursor.execute(
            "UPDATE intake_open SET last_owner_action_at=%s "
            "WHERE demand_id=%s AND owner=%s",
            (at, demand_id, actor),
        )

    @staticmethod
    def _status_after(event) -> str | None:
        if isinstance(event, Demand.Decided):
            return OUTCOMES[event.outcome][1]
        if isinstance(event, Demand.Resolved):
            return "resolved"
        if isinstance(event, Demand.Reopened):
            return "reopened"
        return None
