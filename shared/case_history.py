"""A case's history within one service: every stored event of the case.

Every event carries its case (the correlation id, i.e. the demand id) in its
audit stamp; the case index is a read model from correlation id to the events,
kept by the service itself. The gateway merges the services' answers into one
timeline (audit contract).
"""

from __future__ import annotations

from uuid import UUID

from shared.application import ServiceApplication
from shared.projection import Projection, ProjectionRunner


class CaseIndex(Projection):
    name = "qi_case_index"
    table_names = ("qi_case_index",)
    tables = (
        """CREATE TABLE IF NOT EXISTS qi_case_index (
            correlation_id TEXT NOT NULL, originator_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            PRIMARY KEY (correlation_id, originator_id, version))""",
    )

    def apply(self, event, cursor) -> None:
        case = event.__dict__.get("audit", {}).get("correlation_id")
        if case:
            cursor.execute(
                "INSERT INTO qi_case_index (correlation_id, originator_id, version) "
                "VALUES (%s, %s, %s)",
                (case, str(event.originator_id), event.originator_version),
            )


def _runner(app: ServiceApplication) -> ProjectionRunner:
    runner = getattr(app, "_case_index", None)
    if runner is None:
        runner = app._case_index = ProjectionRunner(app, CaseIndex())
    return runner


def case_events(app: ServiceApplication, correlation_id: str) -> list[dict]:
    """The case's events in this service, oldest first: what, who, when, how."""
    _runner(app).catch_up()
    rows = app.kernel.query(
        "SELECT originator_id, version FROM qi_case_index WHERE correlation_id=%s",
        (str(correlation_id),),
    )
    events = []
    for row in rows:
        (stored,) = app.recorder.select_events(
            UUID(row["originator_id"]), gt=row["version"] - 1, lte=row["version"]
        )
        event = app.mapper.to_domain_event(stored)
        stamp = event.__dict__.get("audit", {})
        events.append(
            {
                "service": app.name,
                "at": event.timestamp.isoformat(),
                "event": type(event).__qualname__,
                "aggregate_id": row["originator_id"],
                "version": row["version"],
                "actor": stamp.get("actor", {}),
                "channel": stamp.get("channel", ""),
                "causation_id": stamp.get("causation_id", ""),
            }
        )
    return sorted(events, key=lambda e: (e["at"], e["aggregate_id"], e["version"]))


def verify_case(app: ServiceApplication, correlation_id: str) -> dict:
    """Recompute the hash chain of every stream of this service in the case."""
    _runner(app).catch_up()
    rows = app.kernel.query(
        "SELECT DISTINCT originator_id FROM qi_case_index WHERE correlation_id=%s",
        (str(correlation_id),),
    )
    breaks = []
    for row in rows:
        found = app.verify_stream(UUID(row["originator_id"]))
        if found is not None:
            breaks.append(
                {
                    "aggregate_id": found.originator_id,
                    "version": found.version,
                    "reason": found.reason,
                }
            )
    return {"service": app.name, "streams": len(rows), "breaks": breaks}


def merge_timelines(*timelines: list[dict]) -> list[dict]:
    """One case history across services, in time order."""
    merged = [event for timeline in timelines for event in timeline]
    return sorted(merged, key=lambda e: (e["at"], e["service"], e["version"]))
