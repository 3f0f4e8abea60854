"""Complaints read model: the list complaint handlers work from (9.4).

Fed by the service's own events. It keeps no complainant identity in the
clear: the name and phone are stored masked, since a list is shown to readers
who have no need of them (7.3.3); the complaint itself has the full identity
for those who do.
"""

from __future__ import annotations

from datetime import UTC, datetime

from services.complaints.domain import Complaint
from services.complaints.rules import mask_name, mask_phone
from shared.projection import Projection

# the status each handling event leaves the complaint in (see domain._move)
STATUS_AFTER = {
    "Acknowledged": "acknowledged",
    "Assessed": "assessed",
    "InvestigatorAssigned": "investigating",
    "Decided": "decided",
    "Communicated": "communicated",
    "EscalatedToReview": "escalated",
    "Reviewed": "reviewed",
    "ReferredToDispute": "in_dispute",
    "DisputeConcluded": "closed",  # closes it within the same event
    "Closed": "closed",
}


def sortable(moment: str) -> str:
    """ISO text in UTC, so the list orders by the instant whatever the offset."""
    return datetime.fromisoformat(moment).astimezone(UTC).isoformat()


class ComplaintsView(Projection):
    name = "complaints_view"
    table_names = ("complaints_list",)
    tables = (
        """CREATE TABLE IF NOT EXISTS complaints_list (
            complaint_id TEXT PRIMARY KEY, number TEXT NOT NULL,
            status TEXT NOT NULL, channel TEXT NOT NULL, anonymous INTEGER NOT NULL,
            complainant_name TEXT NOT NULL, complainant_phone TEXT NOT NULL,
            institution_id TEXT NOT NULL, demand_id TEXT NOT NULL,
            handler TEXT NOT NULL DEFAULT '', severity TEXT NOT NULL DEFAULT '',
            escalated_stages TEXT NOT NULL DEFAULT '',
            received_at TEXT NOT NULL, received_utc TEXT NOT NULL)""",
        """CREATE INDEX IF NOT EXISTS complaints_list_by_institution
            ON complaints_list (institution_id, received_utc)""",
    )

    def apply(self, event, cursor) -> None:
        if not isinstance(event, Complaint.Event):
            return
        complaint_id = str(event.originator_id)
        name = type(event).__name__
        if isinstance(event, Complaint.Received):
            self._received(event, complaint_id, cursor)
            return
        if name == "Acknowledged":
            self._set(cursor, complaint_id, "handler", event.handler)
        elif name == "Assessed":
            self._set(cursor, complaint_id, "severity", event.severity)
        elif name == "Escalated":  # a stage past its deadline (SLA breach)
            cursor.execute(
                "UPDATE complaints_list SET escalated_stages = CASE "
                "WHEN escalated_stages = '' THEN %s "
                "ELSE escalated_stages || ',' || %s END WHERE complaint_id=%s",
                (event.stage, event.stage, complaint_id),
            )
        if name in STATUS_AFTER:
            self._set(cursor, complaint_id, "status", STATUS_AFTER[name])

    @staticmethod
    def _received(event, complaint_id: str, cursor) -> None:
        links = dict(event.links)
        cursor.execute(
            "INSERT INTO complaints_list (complaint_id, number, status, channel, "
            "anonymous, complainant_name, complainant_phone, institution_id, "
            "demand_id, received_at, received_utc) "
            "VALUES (%s, %s, 'received', %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                complaint_id,
                event.number,
                event.channel,
                int(bool(event.anonymous)),
                mask_name(event.complainant_name),
                mask_phone(event.complainant_phone),
                links.get("institution_id", ""),
                links.get("demand_id", ""),
                event.received_at,
                sortable(event.received_at),
            ),
        )

    @staticmethod
    def _set(cursor, complaint_id: str, column: str, value: str) -> None:
        # column names come from this module only, never from input
        cursor.execute(
            f"UPDATE complaints_list SET {column}=%s WHERE complaint_id=%s",
            (value, complaint_id),
        )
