"""Complaints read model: the list complaint handlers work from (9.4).

Fed by the service's own events. It keeps no complainant identity in the
clear: the name and phone are stored masked, since a list is shown to readers
who have no need of them (7.3.3); the complaint itself has the full identity
for those who do.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy import Column, Index, Integer, MetaData, Table, Text

from services.complaints.domain import Complaint
from services.complaints.rules import mask_name, mask_phone
from shared.projection import Projection, Writes

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


metadata = MetaData()
complaints_list = Table(
    "complaints_list",
    metadata,
    Column("complaint_id", Text, primary_key=True),
    Column("number", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("channel", Text, nullable=False),
    Column("anonymous", Integer, nullable=False),
    Column("complainant_name", Text, nullable=False),
    Column("complainant_phone", Text, nullable=False),
    Column("institution_id", Text, nullable=False),
    Column("demand_id", Text, nullable=False),
    Column("handler", Text, nullable=False, server_default=""),
    Column("severity", Text, nullable=False, server_default=""),
    Column("escalated_stages", Text, nullable=False, server_default=""),
    Column("received_at", Text, nullable=False),
    Column("received_utc", Text, nullable=False),
    Index("complaints_list_by_institution", "institution_id", "received_utc"),
)
LISTED = complaints_list.c
# the complainant's status code, as a digest: how a complaint is found by the
# code alone (its id is random); the code itself only in the encrypted events
complaint_codes = Table(
    "complaints_codes",
    metadata,
    Column("code", Text, primary_key=True),
    Column("complaint_id", Text, nullable=False),
)
CODED = complaint_codes.c


def code_digest(code: str) -> str:
    return hashlib.sha256(f"qi-onestop:complaint-code:{code}".encode()).hexdigest()


class ComplaintsView(Projection):
    name = "complaints_view"
    version = 2  # v2: complaints_codes
    tables = (complaints_list, complaint_codes)

    def apply(self, event, writes: Writes) -> None:
        if not isinstance(event, Complaint.Event):
            return
        complaint_id = str(event.originator_id)
        name = type(event).__name__
        if isinstance(event, Complaint.Received):
            self._received(event, complaint_id, writes)
            return
        listed = {"complaint_id": complaint_id}
        if name == "Acknowledged":
            writes.update(complaints_list, listed, {"handler": event.handler})
        elif name == "Assessed":
            writes.update(complaints_list, listed, {"severity": event.severity})
        elif name == "Escalated":  # a stage past its deadline (SLA breach)
            row = writes.get(complaints_list, listed)
            if row is not None:
                stages = row["escalated_stages"]
                stages = f"{stages},{event.stage}" if stages else event.stage
                writes.update(complaints_list, listed, {"escalated_stages": stages})
        if name in STATUS_AFTER:
            writes.update(complaints_list, listed, {"status": STATUS_AFTER[name]})

    def preload(self, events, writes: Writes) -> None:
        """The complaints a batch's escalations add a stage to."""
        writes.load(
            complaints_list,
            "complaint_id",
            {
                str(event.originator_id)
                for event in events
                if type(event).__name__ == "Escalated"
                and isinstance(event, Complaint.Event)
            },
        )

    @staticmethod
    def _received(event, complaint_id: str, writes: Writes) -> None:
        links = dict(event.links)
        writes.insert_new(
            complaint_codes,
            {"code": code_digest(event.code), "complaint_id": complaint_id},
        )
        writes.insert(
            complaints_list,
            {
                "complaint_id": complaint_id,
                "number": event.number,
                "status": "received",
                "channel": event.channel,
                "anonymous": int(bool(event.anonymous)),
                "complainant_name": mask_name(event.complainant_name),
                "complainant_phone": mask_phone(event.complainant_phone),
                "institution_id": links.get("institution_id", ""),
                "demand_id": links.get("demand_id", ""),
                "received_at": event.received_at,
                "received_utc": sortable(event.received_at),
            },
        )
