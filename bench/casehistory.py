"""(d) reading a case's history as the store grows, and rebuilding a read model.

    .venv/bin/python -m bench.casehistory [--sizes 10000,100000,1000000]

runs (d) alone (``bench.run`` runs it last); it prints the same figures.

Intake's store on PostgreSQL is grown to each size in turn (demands registered
and taken, saved in batches). At each size three samples of 200 random
demands, none of them read before, are timed:

- the history through the application (``IntakeApplication.history``, what
  the API reads), alternating read for read with the baseline, the bare
  SELECT of another demand's rows with psycopg, so both see the same cache
  state (first reads) and the same machine at the same moments;
- after the case index (the read model behind every service's
  ``case_events``) is rebuilt from all events, in events/s, ``case_events``.

The tail of such reads on a shared machine is mostly time spent runnable but
waiting for a CPU, by the bench's thread or by the PostgreSQL backend that
serves it. Linux counts that wait per thread (``/proc/<pid>/schedstat``), so
each read's wait is measured too, and p99 is shown with it taken out, next to
the 1-minute load average. A read that stays flat as the store grows is what
the audit needs; the target is a history read's p99 under 20 ms at 1M events.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
import sqlalchemy as sa

from bench.common import PG_BASE, progress

BATCH = 500  # demands per save: 1,000 events in one transaction
READS = 200
TARGET_P99_MS = 20.0  # a history read at 1M stored events
TARGET_EVENTS = 1_000_000
# one connection for the application's reads: its backend is the one to watch
ONE_CONNECTION = {"POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "0"}


@dataclass(frozen=True)
class Latency:
    """One kind of read over a sample, in ms."""

    p50: float
    p99: float
    max: float
    waited_p99: float  # run-queue wait of the bench's thread and the backend
    net_p99: float  # p99 of each read's time less its run-queue wait


@dataclass
class CaseHistoryRun:
    events: int
    history_ms: tuple[float, float]  # p50, p99 through the application
    raw_ms: tuple[float, float]  # p50, p99 of the bare SELECT
    rebuild_events_per_s: float
    case_events_ms: tuple[float, float]
    history: Latency
    raw: Latency
    case_events: Latency
    load: float  # 1-minute load average after the history and SELECT reads
    cores: int
    case_events_load: float | None = None  # after the case_events reads


def _p99(ordered: list[float]) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


class RunQueueClock:
    """Seconds that this thread and some PostgreSQL backends have spent
    runnable but not running (the second field of Linux's schedstat); 0 where
    the kernel does not say."""

    def __init__(self, backend_pids: list[int]):
        own = f"/proc/self/task/{threading.get_native_id()}/schedstat"
        self.paths = [Path(own)] + [Path(f"/proc/{p}/schedstat") for p in backend_pids]

    def __call__(self) -> float:
        total = 0
        for path in self.paths:
            try:
                total += int(path.read_text().split()[1])
            except (OSError, IndexError, ValueError):
                pass
        return total / 1e9


class Timings:
    """Wall time and run-queue wait of each read."""

    def __init__(self, clock: RunQueueClock):
        self.clock = clock
        self.walls: list[float] = []
        self.waits: list[float] = []

    def time(self, call: Callable[[str], object], demand_id: str) -> None:
        waited = self.clock()
        started = time.perf_counter()
        call(demand_id)
        self.walls.append(time.perf_counter() - started)
        self.waits.append(self.clock() - waited)

    def latency(self) -> Latency:
        walls = sorted(self.walls)
        pairs = zip(self.walls, self.waits, strict=True)
        net = sorted(max(0.0, wall - waited) for wall, waited in pairs)
        return Latency(
            p50=statistics.median(walls) * 1000,
            p99=_p99(walls) * 1000,
            max=walls[-1] * 1000,
            waited_p99=_p99(sorted(self.waits)) * 1000,
            net_p99=_p99(net) * 1000,
        )


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


def _samples(demand_ids: list[str], read: set[str], count: int) -> list[list[str]]:
    """``count`` disjoint samples of demands not read before at any size."""
    unread = [d for d in demand_ids if d not in read]
    chosen = random.sample(unread, min(READS * count, len(unread)))
    read.update(chosen)
    size = len(chosen) // count
    return [chosen[i * size : (i + 1) * size] for i in range(count)]


def bench_case_history(sizes: list[int], schema: str) -> list[CaseHistoryRun]:
    from services.intake.application import IntakeApplication
    from shared.case_history import case_events

    app = IntakeApplication(f"{PG_BASE}?schema={schema}", env=ONE_CONNECTION)
    table = f"{schema}.{app.recorder.events_table_name}"
    select = (
        f"SELECT originator_version, topic, state FROM {table} "
        "WHERE originator_id = %s ORDER BY originator_version"
    )
    raw = psycopg.connect(PG_BASE, autocommit=True)
    with app.recorder.datastore.get_connection() as conn:
        app_backend = conn.info.backend_pid
    # read one after another, the kernel's reads use one pooled connection
    kernel_backend = app.kernel.scalar(sa.select(sa.func.pg_backend_pid()))
    demand_ids: list[str] = []
    read: set[str] = set()
    runs = []
    try:
        for size in sizes:
            started = time.perf_counter()
            progress(f"(d) growing intake's store to {size:,} events")
            _grow(app, demand_ids, size)
            grown = time.perf_counter() - started
            progress(f"(d) {size:,} events stored ({grown:.0f}s); reading")
            for_history, for_select, for_case = _samples(demand_ids, read, 3)
            history = Timings(RunQueueClock([app_backend]))
            bare = Timings(RunQueueClock([raw.info.backend_pid]))
            for mine, other in zip(for_history, for_select, strict=True):
                history.time(app.history, mine)
                bare.time(
                    lambda d: raw.execute(select, (uuid.UUID(d),)).fetchall(), other
                )
            load = os.getloadavg()[0]
            started = time.perf_counter()
            rebuilt = app.case_index.rebuild()
            rebuild_rate = rebuilt / (time.perf_counter() - started)
            progress(f"(d) case index rebuilt: {rebuild_rate:.0f} events/s")
            case = Timings(RunQueueClock([app_backend, kernel_backend]))
            for demand_id in for_case:
                case.time(lambda d: case_events(app, d), demand_id)
            first, baseline, audit = history.latency(), bare.latency(), case.latency()
            run = CaseHistoryRun(
                events=size,
                history_ms=(first.p50, first.p99),
                raw_ms=(baseline.p50, baseline.p99),
                rebuild_events_per_s=rebuild_rate,
                case_events_ms=(audit.p50, audit.p99),
                history=first,
                raw=baseline,
                case_events=audit,
                load=load,
                cores=os.cpu_count() or 1,
                case_events_load=os.getloadavg()[0],
            )
            progress(
                f"(d) {size:,}: history p50/p99 {run.history.p50:.1f}/"
                f"{run.history.p99:.1f} ms ({run.history.net_p99:.1f} less CPU "
                f"wait), SELECT {run.raw.p50:.1f}/{run.raw.p99:.1f} ms, "
                f"load {run.load:.1f} on {run.cores} cores"
            )
            runs.append(run)
    finally:
        raw.close()
        app.close()
    return runs


def report_rows(run: CaseHistoryRun) -> list[str]:
    """The figures of one size, to judge the target: a table's lines."""
    later = (
        ""
        if run.case_events_load is None
        else f", {run.case_events_load:.1f} after case_events"
    )
    lines = [
        f"(d) case history at {run.events:,} stored events (load on "
        f"{run.cores} cores: {run.load:.1f} after the history reads{later})",
        f"    {'read, ms':<22}{'p50':>7}{'p99':>8}{'max':>8}"
        f"{'CPU wait p99':>14}{'p99 less wait':>15}{'p99 / SELECT':>14}",
    ]
    for label, reads in (
        ("history (application)", run.history),
        ("bare SELECT", run.raw),
        ("case_events", run.case_events),
    ):
        lines.append(
            f"    {label:<22}{reads.p50:7.1f}{reads.p99:8.1f}{reads.max:8.1f}"
            f"{reads.waited_p99:14.1f}{reads.net_p99:15.1f}"
            f"{reads.p99 / run.raw.p99:14.1f}"
        )
    lines.append(f"    case index rebuild     {run.rebuild_events_per_s:,.0f} events/s")
    if run.events >= TARGET_EVENTS:
        # both: on a shared machine the first is mostly others' load
        lines.append(
            f"    target: history p99 < {TARGET_P99_MS:.0f} ms at 1M events: "
            f"{_verdict(run.history.p99)} as measured, "
            f"{_verdict(run.history.net_p99)} less CPU wait"
        )
    return lines


def _verdict(p99_ms: float) -> str:
    return "met" if p99_ms < TARGET_P99_MS else "MISSED"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="(d) case history alone")
    parser.add_argument(
        "--sizes",
        type=lambda text: [int(n) for n in text.split(",") if n],
        default=[10_000, 100_000, 1_000_000],
        help="store sizes, grown in turn (1M: about 6 minutes more)",
    )
    args = parser.parse_args(argv)
    # SIGTERM too unwinds through the finally block that drops the schema
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    schema = f"bench_{uuid.uuid4().hex[:8]}_history"
    try:
        runs = bench_case_history(args.sizes, schema)
    finally:
        progress(f"dropping schema {schema}")
        with psycopg.connect(PG_BASE, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    for run in runs:
        print("\n".join(report_rows(run)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
