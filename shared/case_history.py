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

from collections.abc import Iterable
from typing import Any

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
    return _timeline(
        app,
        (
            _stored(row["originator_id"], row["version"], row["topic"], row["state"])
            for row in rows
        ),
    )


def verify_case(app: ServiceApplication, correlation_id: str) -> dict:
    """Recompute the hash chain of every stream of this service in the case:
    ``breaks`` are the altered events, ``unreadable`` those this key cannot
    read (each stream's first)."""
    app.case_index.catch_up()
    streams = {row["originator_id"] for row in _indexed(app, correlation_id)}
    return _check(app, {s: app.recorder.select_events(s) for s in streams})


def case_audit(app: ServiceApplication, correlation_id: str) -> dict:
    """``case_events`` and ``verify_case`` in one read, for the regulator's
    audit (7.3.3): one catch-up, one index read and one read of every stream
    of the case, the timeline and the verification both made from those same
    rows (the gateway asks each service once, not twice).

    Two statements, not one: the events read by the list of the index's
    streams. With the index as a subquery instead (one statement), a case's
    part at 30,000 demands took 264 ms at the median in evaluation and 75 ms
    in intake, against 2.7 and 2.4 ms this way (``make bench-scale``)."""
    app.case_index.catch_up()
    indexed = {
        (r["originator_id"], r["version"]) for r in _indexed(app, correlation_id)
    }
    streams: dict = {oid: [] for oid in sorted({oid for oid, _ in indexed}, key=str)}
    if streams:
        stored = stored_events(app.recorder).c
        rows = app.kernel.query(
            select(
                stored.originator_id,
                stored.originator_version,
                stored.topic,
                stored.state,
            )
            .where(stored.originator_id.in_(list(streams)))
            .order_by(stored.originator_id, stored.originator_version)
        )
        for row in rows:
            streams[row["originator_id"]].append(
                _stored(
                    row["originator_id"],
                    row["originator_version"],
                    row["topic"],
                    row["state"],
                )
            )
    in_case = (
        event
        for stream in streams.values()
        for event in stream
        if (event.originator_id, event.originator_version) in indexed
    )
    return {"events": _timeline(app, in_case), "check": _check(app, streams)}


def _indexed(app: ServiceApplication, correlation_id: str) -> list[dict]:
    """The case index's (originator_id, version) rows of the case."""
    return app.kernel.query(
        select(INDEX.originator_id, INDEX.version).where(
            INDEX.correlation_id == str(correlation_id)
        )
    )


def _stored(originator_id, version: int, topic: str, state) -> StoredEvent:
    return StoredEvent(
        originator_id=originator_id,
        originator_version=version,
        topic=topic,
        state=bytes(state),
    )


def _timeline(app: ServiceApplication, stored_events_: Iterable[StoredEvent]) -> list:
    """Timeline entries of stored events, oldest first; one this key cannot
    read is left out (the verification names it)."""
    events = []
    for stored in stored_events_:
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
                "aggregate_id": str(stored.originator_id),
                "version": stored.originator_version,
                "actor": stamp.get("actor", {}),
                "channel": stamp.get("channel", ""),
                "causation_id": stamp.get("causation_id", ""),
            }
        )
    return sorted(events, key=lambda e: (e["at"], e["aggregate_id"], e["version"]))


def _check(app: ServiceApplication, streams: dict[Any, Iterable]) -> dict:
    """The verification of the given streams (originator id: its stored
    events in version order)."""
    breaks, unreadable = [], []
    for stream in streams.values():
        found = app.verify_stored(stream)
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
