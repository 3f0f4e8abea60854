"""The case index: from a case (the correlation id in every event's audit
stamp) to its events, a read model every service keeps of its own events.

It keeps the originator id as the events table does (``Uuid``: PostgreSQL's
uuid, SQLite's 32 hex digits), so a case is read in one statement joining the
two (``shared.case_history``). Every ``ServiceApplication`` keeps it caught up.
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, Table, Text, Uuid

from shared.projection import Projection, Writes

case_index = Table(
    "qi_case_index",
    MetaData(),
    Column("correlation_id", Text, primary_key=True),
    Column("originator_id", Uuid, primary_key=True),
    Column("version", Integer, primary_key=True),
)


class CaseIndex(Projection):
    name = "qi_case_index"
    # 2: the originator id as the events table keeps it, to join the two
    version = 2
    tables = (case_index,)

    def apply(self, event, writes: Writes) -> None:
        case = event.__dict__.get("audit", {}).get("correlation_id")
        if case:
            writes.insert(
                case_index,
                {
                    "correlation_id": case,
                    "originator_id": event.originator_id,
                    "version": event.originator_version,
                },
            )
