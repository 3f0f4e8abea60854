"""Complaint-handling figures for a period (GB/T 19012 monitoring), computed
from the stored events: received by channel and severity, time to acknowledge
and to close in working hours, upheld rate, reopened (escalated) rate and the
complainants' acceptance of the handling."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime
from statistics import mean

from services.complaints.domain import Complaint
from shared.application import ServiceApplication
from shared.calendar import WorkingCalendar


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _hours(values: list[float]) -> float | None:
    return round(mean(values), 2) if values else None


def figures(
    app: ServiceApplication,
    calendar: WorkingCalendar,
    since: datetime,
    until: datetime,
    handled_by: Callable[[dict], bool] = lambda links: True,
) -> dict:
    """Complaints received in ``[since, until)`` and how they were handled;
    only those whose links ``handled_by`` accepts (one institution's)."""
    by_channel: Counter = Counter()
    by_severity: Counter = Counter()
    to_acknowledge, to_close = [], []
    decided = upheld = communicated = escalated = accepted = 0
    for oid in app.originator_ids():
        events = [
            app.mapper.to_domain_event(s) for s in app.recorder.select_events(oid)
        ]
        if not events or not isinstance(events[0], Complaint.Received):
            continue
        received = datetime.fromisoformat(events[0].received_at)
        if not since <= received < until or not handled_by(dict(events[0].links)):
            continue
        by_channel[events[0].channel] += 1
        first = {}
        for event in events:
            first.setdefault(type(event).__name__, event)
        if "Assessed" in first:
            by_severity[first["Assessed"].severity] += 1
        if "Acknowledged" in first:
            at = first["Acknowledged"].timestamp
            to_acknowledge.append(calendar.working_hours_between(received, at))
        if "Closed" in first:
            at = first["Closed"].timestamp
            to_close.append(calendar.working_hours_between(received, at))
        if "Decided" in first:
            decided += 1
            upheld += first["Decided"].outcome in ("upheld", "partly_upheld")
        if "Communicated" in first:
            communicated += 1
            escalated += "EscalatedToReview" in first
            accepted += first.get("Closed") is not None and (
                first["Closed"].reason == "accepted"
            )
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "received": sum(by_channel.values()),
        "by_channel": dict(by_channel),
        "by_severity": dict(by_severity),
        "working_hours_to_acknowledge": _hours(to_acknowledge),
        "working_hours_to_close": _hours(to_close),
        "upheld_rate": _rate(upheld, decided),
        "reopened_rate": _rate(escalated, communicated),
        "accepted_rate": _rate(accepted, communicated),
    }
