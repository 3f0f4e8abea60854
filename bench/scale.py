"""A province's year (issue 22, item 4): the reads that must stay fast at scale.

    .venv/bin/python -m bench.scale [--institutions 100] [--demands 100000] \\
        [--staff 8] [--boards 5] [--timelines 200] [--board-reads 3] \\
        [--mode one] [--seed 1] [--py-spy /tmp/scale-profile.txt]

(``make bench-scale``; ``make bench-scale ARGS="--demands 2000"``.)

1. Load: a year of ``--demands`` demands at the windows of ``--institutions``
   institutions is written into each service's event store on PostgreSQL
   (fresh schemas), encrypted with a key made for the run as deployments
   encrypt (QI_CIPHER_KEY), by ``bench.scale_load``: the events the services
   would have stored, made with their own domain classes and consumer
   policies, many aggregates a transaction.
2. Rebuild: every read model of every loaded service (the case index and the
   service's view) is made anew from all its events
   (``ProjectionRunner.rebuild``, what the services' ``rebuild_view`` RPCs and
   a read model's new version run): events applied per second, per read
   model and in all. This also builds the read models the services read next.
   Then, for 100 random demands, each service's part of a case timeline
   (``case_events`` and ``verify_case``, the two RPCs the gateway sends it)
   is timed in this process, without RabbitMQ or HTTP: what a timeline
   costs before any messaging.
3. The services (``python -m shared.run``, QI_PROCESSES=``--mode``) are
   started on those schemas with a vhost of their own; the regulator, and the
   manager of each of the first ``--boards`` windows, log in through the
   gateway, and over HTTP:

   - the regulator's case timeline (``GET /api/v1/audit/cases/{id}``: every
     service's events of the case, each stream's hash chain verified, the
     read itself recorded) of ``--timelines`` random demands: p50 / p99;
   - the manager's board (``GET /api/v1/board``), ``--board-reads`` times per
     window: p50 / max;
   - the half-year summary drafted (``POST
     /api/v1/evaluation/half-year-summaries``, the figures computed from
     evaluation's read model, 9.1.3) for the last whole half-year, once per
     window: p50 / max.

``--py-spy OUT`` samples the services (the busiest process) over the first
10 s of the timeline reads and of the board reads, and prints where their
time went (OUT.timeline.txt, OUT.board.txt: the raw samples).

Each figure is printed with its target (timeline p99 < 50 ms, board < 200 ms,
summary < 2 s, rebuild >= 10,000 events/s) and met or MISSED, with the load
time and the events stored per service. Everything the run makes (schemas,
vhost, services processes, the temporary folder) is removed at the end, also
on error, Ctrl-C or SIGTERM. Progress goes to stderr, the table to stdout.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import shutil
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import requests
from eventsourcing.cryptography import AESCipher

from bench.common import PG_BASE, create_vhost, delete_vhost, progress, retrying
from bench.profiler import BusiestProfiler
from bench.scale_load import PASSWORD, Counts, Province, YearLoader, province

# the services whose stores the loader writes (the gateway and notify start
# empty: their stores hold accounts and messages, not the year's cases)
LOADED = ("catalog", "intake", "referral", "complaints", "evaluation")
TARGET_TIMELINE_P99_MS = 50.0
TARGET_BOARD_MS = 200.0
TARGET_SUMMARY_MS = 2000.0
TARGET_REBUILD_EVENTS_PER_S = 10_000.0
WARM_READS = 3  # untimed reads of each route first: connections, caches
IN_PROCESS_READS = 100


@dataclass
class Rebuilt:
    service: str
    read_model: str
    events: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


@dataclass
class Reads:
    """The wall times of one kind of read over HTTP, in ms."""

    times: list[float] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # status and problem

    def p(self, share: float) -> float:
        ordered = sorted(self.times)
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))]

    @property
    def p50(self) -> float:
        return statistics.median(self.times)

    @property
    def max(self) -> float:
        return max(self.times)


@dataclass
class ScaleRun:
    institutions: int
    windows: int
    counts: Counts
    load_start: tuple[float, float, float]  # load averages when it began
    rebuilt: list[Rebuilt]
    in_process: dict[str, Reads]  # each service's part of a timeline
    statuses: dict[str, int]  # the demands at the end of the year, by status
    started_seconds: float = 0.0  # services start until /healthz
    total_seconds: float = 0.0  # the whole run, load to the last read
    timeline: Reads = field(default_factory=Reads)
    board: Reads = field(default_factory=Reads)
    summary: Reads = field(default_factory=Reads)
    half: tuple[int, int] = (0, 0)
    profiles: dict[str, list[str]] = field(default_factory=dict)  # --py-spy
    timeline_events: list[int] = field(default_factory=list)  # per timeline
    timeline_unverified: list[str] = field(default_factory=list)

    @property
    def rebuild_rate(self) -> float:
        events = sum(r.events for r in self.rebuilt)
        seconds = sum(r.seconds for r in self.rebuilt)
        return events / seconds if seconds else 0.0


def last_whole_half(today: date) -> tuple[int, int]:
    """(year, half) of the last half-year that has ended before ``today``."""
    if today.month > 6:
        return today.year, 1
    return today.year - 1, 2


def schema_urls(prefix: str) -> dict[str, str]:
    from shared.system import SERVICES

    return {name: f"{PG_BASE}?schema={prefix}_{name}" for name in SERVICES}


# -- 1 and 2: load and rebuild, in this process ------------------------------


def open_stores(urls: dict[str, str], cipher_key: str) -> dict:
    """The loaded services' applications, encrypting with the run's key."""
    from shared import system

    env = {
        "CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
        "CIPHER_KEY": cipher_key,
    }
    apps = {}
    try:
        for name in LOADED:
            kind = system.application_class(name)
            apps[name] = retrying(lambda k=kind, n=name: k(urls[n], env), name)
    except BaseException:
        for app in apps.values():
            app.close()
        raise
    return apps


def rebuild_all(apps: dict) -> list[Rebuilt]:
    """Every read model of every loaded service made anew from its events."""
    # the runner logs each tenth of a rebuild: progress of the long ones
    meter = logging.getLogger("shared.projection")
    handler = logging.StreamHandler(sys.stderr)
    formatted = logging.Formatter("[bench %(asctime)s] %(message)s", "%H:%M:%S")
    handler.setFormatter(formatted)
    meter.addHandler(handler)
    meter.setLevel(logging.INFO)
    try:
        return _rebuild_each(apps)
    finally:
        meter.removeHandler(handler)


def _rebuild_each(apps: dict) -> list[Rebuilt]:
    from shared.projection import ProjectionRunner

    rebuilt = []
    for name, app in apps.items():
        runners = [r for r in vars(app).values() if isinstance(r, ProjectionRunner)]
        for runner in runners:
            started = time.perf_counter()
            events = runner.rebuild()
            done = Rebuilt(
                name, runner.projection.name, events, time.perf_counter() - started
            )
            progress(
                f"rebuilt {name} {done.read_model}: {events:,} events in "
                f"{done.seconds:.1f}s ({done.rate:,.0f}/s)"
            )
            rebuilt.append(done)
    return rebuilt


def demand_statuses(intake) -> dict[str, int]:
    """How many demands are in each status now (intake's view): what is
    still open when the year ends."""
    from sqlalchemy import func, select

    from services.intake.projections import OPEN

    rows = intake.kernel.query(
        select(OPEN.status, func.count().label("n")).group_by(OPEN.status)
    )
    return {row["status"]: int(row["n"]) for row in rows}


def case_reads(apps: dict, demand_ids: list[str]) -> dict[str, Reads]:
    """What each service's part of a case timeline costs in its own process:
    ``case_audit`` (the RPC the gateway sends it) on the loaded store, for the
    same demands, no RabbitMQ nor HTTP."""
    from shared.case_history import case_audit

    found = {name: Reads() for name in apps}
    for demand_id in demand_ids:
        for name, app in apps.items():
            started = time.perf_counter()
            case_audit(app, demand_id)
            found[name].times.append((time.perf_counter() - started) * 1000)
    return found


# -- 3: reads over HTTP ---------------------------------------------------------


class Gateway:
    def __init__(self, base_url: str):
        self.base_url = base_url
        self.session = requests.Session()

    def login(self, username: str) -> dict[str, str]:
        reply = self.session.post(
            f"{self.base_url}/api/v1/auth/login",
            json={"username": username, "password": PASSWORD},
            timeout=60,
        )
        if reply.status_code != 200:
            raise RuntimeError(f"login {username}: {reply.status_code} {reply.text}")
        return {"Authorization": f"Bearer {reply.json()['token']}"}

    def timed(
        self, reads: Reads | None, method: str, path: str, headers, **kwargs
    ) -> requests.Response:
        """One request; its wall time in ``reads`` (None: a warm-up)."""
        started = time.perf_counter()
        reply = self.session.request(
            method, f"{self.base_url}{path}", headers=headers, timeout=120, **kwargs
        )
        elapsed = (time.perf_counter() - started) * 1000
        if reads is None:
            return reply
        if reply.status_code >= 300:
            reads.failed.append(f"{reply.status_code} {path}: {reply.text[:200]}")
        else:
            reads.times.append(elapsed)
        return reply


@contextmanager
def profiled(
    run: ScaleRun, what: str, processes: dict[int, str], output: str | None
) -> Iterator[None]:
    """py-spy on the services (the busiest process) over the first 10 s of
    a phase, its summary kept in ``run.profiles[what]``."""
    if not output:
        yield
        return
    path = Path(output)
    target = str(path.with_name(f"{path.stem}.{what}{path.suffix}"))
    profiler = BusiestProfiler(processes, target, progress)
    try:
        yield
        run.profiles[what] = profiler.finish()
    finally:
        profiler.stop()


def measure_reads(
    run: ScaleRun,
    gateway: Gateway,
    place: Province,
    demand_ids: list[str],
    args,
    rng: random.Random,
    processes: dict[int, str],
) -> None:
    regulator = gateway.login("scale.regulator")
    managers = {w.code: gateway.login(w.manager) for w in place.windows[: args.boards]}
    sample = rng.sample(demand_ids, min(len(demand_ids), args.timelines + WARM_READS))
    progress(f"regulator's case timeline: {len(sample) - WARM_READS} demands")
    for demand_id in sample[:WARM_READS]:
        gateway.timed(None, "GET", f"/api/v1/audit/cases/{demand_id}", regulator)
    with profiled(run, "timeline", processes, args.py_spy):
        for demand_id in sample[WARM_READS:]:
            path = f"/api/v1/audit/cases/{demand_id}"
            reply = gateway.timed(run.timeline, "GET", path, regulator)
            if reply.ok:
                audit = reply.json()
                run.timeline_events.append(len(audit["timeline"]))
                if not audit["verification"]["passed"]:
                    run.timeline_unverified.append(demand_id)
    progress(f"manager's board: {len(managers)} windows x {args.board_reads}")
    for headers in managers.values():
        gateway.timed(None, "GET", "/api/v1/board", headers)
    with profiled(run, "board", processes, args.py_spy):
        for headers in managers.values():
            for _ in range(args.board_reads):
                gateway.timed(run.board, "GET", "/api/v1/board", headers)
    year, half = run.half = last_whole_half(datetime.now(UTC).date())
    progress(f"half-year summary {year} H{half}: {len(managers)} windows")
    for headers in managers.values():
        gateway.timed(
            run.summary,
            "POST",
            "/api/v1/evaluation/half-year-summaries",
            headers,
            json={"year": year, "half": half},
        )


# -- the run ------------------------------------------------------------------------


def bench_scale(args, prefix: str, vhost: str, var: Path) -> ScaleRun:
    from bench.endtoend import Services

    rng = random.Random(args.seed)
    load_start = os.getloadavg()
    begun = time.perf_counter()
    urls = schema_urls(prefix)
    cipher_key = AESCipher.create_key(num_bytes=32)
    place = province(args.institutions, args.staff, args.boards, rng)
    seed = place.write_seed(var / "province.json")
    now = datetime.now(UTC)
    progress(
        f"loading {args.demands:,} demands at {len(place.windows)} windows, "
        f"{len(place.partners)} partners (load average {load_start[0]:.1f})"
    )
    apps = open_stores(urls, cipher_key)
    try:
        loader = YearLoader(apps, place, seed, rng, now, progress)
        loader.load_catalog()
        counts = loader.load_demands(args.demands, now - timedelta(days=365))
        loader.settle_relays()
        progress(
            f"loaded {counts.total_events:,} events in {counts.seconds:.0f}s; "
            "rebuilding every read model"
        )
        rebuilt = rebuild_all(apps)
        demand_ids = loader.demand_ids
        statuses = demand_statuses(apps["intake"])
        sample = rng.sample(demand_ids, min(len(demand_ids), IN_PROCESS_READS))
        progress(f"each service's part of {len(sample)} case timelines, in process")
        in_process = case_reads(apps, sample)
    finally:
        for app in apps.values():
            app.close()
    run = ScaleRun(
        institutions=args.institutions,
        windows=len(place.windows),
        counts=counts,
        load_start=load_start,
        rebuilt=rebuilt,
        in_process=in_process,
        statuses=statuses,
    )
    amqp_uri = create_vhost(vhost)
    services = Services(args.mode, amqp_uri, urls, var)
    services.cipher_key = cipher_key
    services.env.update(
        {f"QI_{name.upper()}_DATABASE_URL": url for name, url in urls.items()}
    )
    services.env.update(
        {
            "QI_CIPHER_KEY": cipher_key,
            "QI_SEED_ACCOUNTS": str(seed),
            # the year's sweeps are not replayed (only surveys expire in the
            # load): a sweep of a year's open deadlines would run during the
            # reads, so none runs in the hour this takes
            "QI_SLA_SWEEP_SECONDS": "3600",
            # a slow read is measured, not cut off at the default 10 s
            "QI_RPC_TIMEOUT_SECONDS": "120",
        }
    )
    try:
        progress(f"starting services ({args.mode}) on {services.base_url}")
        started = time.perf_counter()
        services.start()
        run.started_seconds = time.perf_counter() - started
        gateway = Gateway(services.base_url)
        processes = services.processes()
        measure_reads(run, gateway, place, demand_ids, args, rng, processes)
    except Exception:
        progress(f"services log (tail):\n{services.log_tail() or '(empty)'}")
        raise
    finally:
        progress("stopping services (SIGINT)")
        services.stop()
    run.total_seconds = time.perf_counter() - begun
    return run


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def report(run: ScaleRun) -> list[str]:
    counts = run.counts
    lines = [
        f"A province's year: {run.institutions} institutions ({run.windows} "
        f"windows), {counts.demands:,} demands, {counts.referrals:,} referrals, "
        f"{counts.surveys:,} surveys ({counts.ratings:,} rated), "
        f"{counts.complaints:,} complaints; load averages "
        + " / ".join(f"{n:.2f}" for n in run.load_start)
        + f" at the start, on {os.cpu_count()} cores; "
        f"{run.total_seconds / 60:.1f} minutes in all",
        f"loaded {counts.total_events:,} events in {counts.seconds:.0f}s "
        f"({counts.total_events / max(counts.seconds, 1e-9):,.0f}/s): "
        + ", ".join(f"{name} {n:,}" for name, n in counts.events.items()),
        "demands by status now: "
        + ", ".join(f"{k} {n:,}" for k, n in sorted(run.statuses.items())),
        f"every read model rebuilt in "
        f"{sum(r.seconds for r in run.rebuilt):.0f}s; services started (to "
        f"/healthz) in {run.started_seconds:.1f}s",
        "",
        f"    {'read model rebuilt':<34}{'events':>11}{'seconds':>9}{'events/s':>10}",
    ]
    for r in run.rebuilt:
        label = f"{r.service} {r.read_model}"
        lines.append(f"    {label:<34}{r.events:>11,}{r.seconds:>9.1f}{r.rate:>10,.0f}")
    lines += [
        "",
        f"    {'figure':<40}{'measured':>16}{'target':>16}  verdict",
    ]

    def row(figure: str, measured: str, target: str, met: bool) -> None:
        lines.append(f"    {figure:<40}{measured:>16}{target:>16}  {verdict(met)}")

    timeline, board, summary = run.timeline, run.board, run.summary
    if timeline.times:
        row(
            f"case timeline p50 / p99 ({len(timeline.times)} demands)",
            f"{timeline.p50:.1f} / {timeline.p(0.99):.1f} ms",
            f"p99 < {TARGET_TIMELINE_P99_MS:.0f} ms",
            timeline.p(0.99) < TARGET_TIMELINE_P99_MS,
        )
    if board.times:
        row(
            f"manager's board p50 / max ({len(board.times)} reads)",
            f"{board.p50:.0f} / {board.max:.0f} ms",
            f"< {TARGET_BOARD_MS:.0f} ms",
            board.max < TARGET_BOARD_MS,
        )
    if summary.times:
        year, half = run.half
        row(
            f"half-year summary {year} H{half} p50 / max ({len(summary.times)})",
            f"{summary.p50:.0f} / {summary.max:.0f} ms",
            f"< {TARGET_SUMMARY_MS:.0f} ms",
            summary.max < TARGET_SUMMARY_MS,
        )
    row(
        "full read-model rebuild",
        f"{run.rebuild_rate:,.0f} events/s",
        f">= {TARGET_REBUILD_EVENTS_PER_S:,.0f}/s",
        run.rebuild_rate >= TARGET_REBUILD_EVENTS_PER_S,
    )
    if run.timeline_events:
        lines.append(
            f"    the timelines read had {statistics.median(run.timeline_events):.0f}"
            f" events at the median, {max(run.timeline_events)} at most; "
            f"hash chains verified in all but {len(run.timeline_unverified)}"
        )
    parts = ", ".join(
        f"{name} {reads.p50:.1f} / {reads.p(0.99):.1f}"
        for name, reads in run.in_process.items()
    )
    lines.append(
        "    each service's part of a timeline in its own process "
        f"(case_audit, p50 / p99 ms): {parts}"
    )
    for label, reads in (
        ("timeline", timeline),
        ("board", board),
        ("summary", summary),
    ):
        for failure in reads.failed[:3]:
            lines.append(f"    {label} failed: {failure}")
        if len(reads.failed) > 3:
            lines.append(f"    {label}: {len(reads.failed) - 3} more failed")
    for what, profile in run.profiles.items():
        lines += ["", f"py-spy, the services during the {what} reads:", *profile]
    return lines


def drop_schemas(prefix: str) -> None:
    from shared.system import SERVICES

    with psycopg.connect(PG_BASE, autocommit=True) as conn:
        for name in SERVICES:
            conn.execute(f"DROP SCHEMA IF EXISTS {prefix}_{name} CASCADE")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="a province's year (issue 22)")
    parser.add_argument("--institutions", type=int, default=100)
    parser.add_argument("--demands", type=int, default=100_000)
    parser.add_argument("--staff", type=int, default=8, help="staff per window")
    parser.add_argument("--boards", type=int, default=5, help="windows read")
    parser.add_argument("--timelines", type=int, default=200)
    parser.add_argument("--board-reads", type=int, default=3)
    parser.add_argument("--mode", choices=("one", "per-service"), default="one")
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    parser.add_argument(
        "--py-spy",
        metavar="OUT",
        help="profile the services over the first 10 s of the timeline and "
        "of the board reads (OUT.timeline.txt, OUT.board.txt) and print a summary",
    )
    args = parser.parse_args(argv)
    # SIGTERM too unwinds through the finally blocks that clean up
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    tag = uuid.uuid4().hex[:8]
    prefix, vhost = f"bench_{tag}_scale", f"bench-{tag}-scale"
    var = Path(tempfile.mkdtemp(prefix="qi-bench-scale-"))
    try:
        run = bench_scale(args, prefix, vhost, var)
    finally:
        progress(f"dropping schemas {prefix}_*, vhost {vhost}, {var}")
        cleanups: list[Callable[[], None]] = [
            lambda: drop_schemas(prefix),
            lambda: delete_vhost(vhost),
            lambda: shutil.rmtree(var, ignore_errors=True),
        ]
        for cleanup in cleanups:
            try:
                cleanup()
            except Exception as exc:  # noqa: BLE001 - the others still run
                progress(f"cleanup failed: {exc}")
    print("\n".join(report(run)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
