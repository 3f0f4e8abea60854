"""(d) reading a case's history as the store grows, and rebuilding a read model.

Intake's store on PostgreSQL is grown to each size in turn (demands registered
and taken, saved in batches). At each size: the history of 200 random demands
is read the way the API reads it (``IntakeApplication.history``) and, as the
raw baseline, the same rows straight from the events table with psycopg; the
case index (the read model behind every service's ``case_events``) is rebuilt
from all events, in events/s, and then 200 ``case_events`` reads are timed.
A read that stays flat as the store grows is what the audit needs.
"""

from __future__ import annotations

import random
import statistics
import time
import uuid
from dataclasses import dataclass

import psycopg

from bench.common import PG_BASE, progress

BATCH = 500  # demands per save: 1,000 events in one transaction
READS = 200


@dataclass
class CaseHistoryRun:
    events: int
    history_ms: tuple[float, float]  # p50, p99 through the application
    raw_ms: tuple[float, float]  # p50, p99 of the bare SELECT
    rebuild_events_per_s: float
    case_events_ms: tuple[float, float]


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1000, p99 * 1000


def _grow(app, demand_ids: list[str], events: int) -> None:
    """Register and take demands until the store holds ``events`` events."""
    from services.intake.domain import Demand
    from services.intake.registration import RegistrationForm
    from shared.audit import Actor, AuditContext, audit_scope

    form = RegistrationForm.parse(
        {
            "applicant": "某检测委托单位",
            "contact_phone": "13800138000",
            "service_item_code": "6.3",
            "description": "检测",
            "channel": "window",
        }
    )
    staff = AuditContext(actor=Actor("bench", "staff", "jsqi"), channel="window")
    with audit_scope(staff):
        while len(demand_ids) * 2 < events:
            batch = []
            for _ in range(min(BATCH, (events - len(demand_ids) * 2) // 2 or 1)):
                demand = Demand.register(form, None, "jsqi")
                demand.take("bench")
                batch.append(demand)
            app.save(*batch)
            demand_ids.extend(str(d.id) for d in batch)


def _time(call, ids: list[str]) -> tuple[float, float]:
    samples = []
    for demand_id in ids:
        started = time.perf_counter()
        call(demand_id)
        samples.append(time.perf_counter() - started)
    return _percentiles(samples)


def bench_case_history(sizes: list[int], schema: str) -> list[CaseHistoryRun]:
    from services.intake.application import IntakeApplication
    from shared.case_history import _runner, case_events

    app = IntakeApplication(f"{PG_BASE}?schema={schema}")
    table = f"{schema}.{app.recorder.events_table_name}"
    raw = psycopg.connect(PG_BASE, autocommit=True)
    demand_ids: list[str] = []
    runs = []
    try:
        for size in sizes:
            started = time.perf_counter()
            progress(f"(d) growing intake's store to {size:,} events")
            _grow(app, demand_ids, size)
            grown = time.perf_counter() - started
            progress(f"(d) {size:,} events stored ({grown:.0f}s); reading")
            ids = random.sample(demand_ids, min(READS, len(demand_ids)))
            history = _time(app.history, ids)
            select = (
                f"SELECT originator_version, topic, state FROM {table} "
                "WHERE originator_id = %s ORDER BY originator_version"
            )
            raw_read = _time(
                lambda d, sql=select: raw.execute(sql, (uuid.UUID(d),)).fetchall(),
                ids,
            )
            index = _runner(app)
            started = time.perf_counter()
            rebuilt = index.rebuild()
            rebuild_rate = rebuilt / (time.perf_counter() - started)
            progress(f"(d) case index rebuilt: {rebuild_rate:.0f} events/s")
            case = _time(lambda d: case_events(app, d), ids)
            runs.append(CaseHistoryRun(size, history, raw_read, rebuild_rate, case))
    finally:
        raw.close()
        app.close()
    return runs
