"""A case's history within one service: every stored event of the case.

Every event carries its case (the correlation id, i.e. the demand id) in its
audit stamp; the case index is a read model from correlation id to the events,
kept by the service itself. The gateway merges the services' answers into one
timeline (audit contract).

A case is read in one statement: the index joined with the events table.
An event this service's key cannot read (a wrong or missing QI_CIPHER_KEY) is
left out of the timeline and named by the verification as unreadable, apart
from the altered events: what cannot be read says nothing about tampering.
"""

from __future__ import annotations

from eventsourcing.persistence import StoredEvent
from sqlalchemy import and_, select

from shared.application import ServiceApplication, Unreadable
from shared.case_index import case_index
from shared.tables import stored_events

INDEX = case_index.c


def case_events(app: ServiceApplication, correlation_id: str) -> list[dict]:
    """The case's events in this service, oldest first: what, who, when, how."""
    app.case_index.catch_up()
    events_table = stored_events(app.recorder)
    stored = events_table.c
    rows = app.kernel.query(
        select(INDEX.originator_id, INDEX.version, stored.topic, stored.state)
        .join(
            events_table,
            and_(
                stored.originator_id == INDEX.originator_id,
                stored.originator_version == INDEX.version,
            ),
        )
        .where(INDEX.correlation_id == str(correlation_id))
    )
    events = []
    for row in rows:
        stored = StoredEvent(
            originator_id=row["originator_id"],
            originator_version=row["version"],
            topic=row["topic"],
            state=bytes(row["state"]),
        )
        try:
            event = app.mapper.to_domain_event(stored)
        except Exception:
            if app.why_unreadable(stored) is None:
                raise
            continue  # verify_case names it
        stamp = event.__dict__.get("audit", {})
        events.append(
            {
                "service": app.name,
                "at": event.timestamp.isoformat(),
                "event": type(event).__qualname__,
                "aggregate_id": str(row["originator_id"]),
                "version": row["version"],
                "actor": stamp.get("actor", {}),
                "channel": stamp.get("channel", ""),
                "causation_id": stamp.get("causation_id", ""),
            }
        )
    return sorted(events, key=lambda e: (e["at"], e["aggregate_id"], e["version"]))


def verify_case(app: ServiceApplication, correlation_id: str) -> dict:
    """Recompute the hash chain of every stream of this service in the case:
    ``breaks`` are the altered events, ``unreadable`` those this key cannot
    read (each stream's first)."""
    app.case_index.catch_up()
    streams = [
        row["originator_id"]
        for row in app.kernel.query(
            select(INDEX.originator_id)
            .distinct()
            .where(INDEX.correlation_id == str(correlation_id))
        )
    ]
    breaks, unreadable = [], []
    for originator_id in streams:
        found = app.verify_stream(originator_id)
        if found is None:
            continue
        where = {"aggregate_id": found.originator_id, "version": found.version}
        if isinstance(found, Unreadable):
            unreadable.append({**where, "reason": found.why})
        else:
            breaks.append({**where, "reason": found.reason})
    return {
        "service": app.name,
        "streams": len(streams),
        "breaks": breaks,
        "unreadable": unreadable,
    }


def merge_timelines(*timelines: list[dict]) -> list[dict]:
    """One case history across services, in time order."""
    merged = [event for timeline in timelines for event in timeline]
    return sorted(merged, key=lambda e: (e["at"], e["service"], e["version"]))
