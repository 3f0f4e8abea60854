"""The platform's throughput and lag against raw baselines, in one run.

    .venv/bin/python -m bench.run [--n-append 2000] [--n-publish 2000]
                                  [--n-demands 1000] [--clients 16]
                                  [--half-load-seconds 20] [--staff-demands 500]
                                  [--modes one,per-service] [--py-spy OUT]
                                  [--case-sizes 10000,100000,1000000]

(a) append: a plain eventsourcing ``Application`` on PostgreSQL (a fresh schema)
    saves N small new aggregates, one ``save`` (one transaction) each: events/s.
(b) publish: kombu publishes N small JSON messages to a durable queue with
    ``confirm_publish``, waiting for the broker's confirm of each: msgs/s (the
    rate without confirms is shown for reference).
(c) end to end, the peak: ``python -m shared.run`` on a fresh vhost and fresh
    schemas, once per mode: ``QI_PROCESSES=one`` (every service in one process,
    what ``make run`` starts) and ``QI_PROCESSES=per-service`` (one process per
    service), its events encrypted (QI_CIPHER_KEY) as a deployment's are. A
    pool of HTTP clients POSTs N demands; the clock runs from the first POST
    until the evaluation service (a consumer of DemandRegistered) has opened a
    case record for every one of them: demands/s. The propagation lag of a
    demand is the timestamp of its case record's ``Opened`` event minus that
    of its ``Registered`` event, both read back from the stores. Over the same
    window it reads the CPU time of each services process, of PostgreSQL and
    RabbitMQ, and of the bench (/proc), as ms per demand and % of one core.
(f) lag at half of peak, on the same services: demands arrive open loop at a
    constant half of (c)'s rate for --half-load-seconds; p50/p99 propagation
    lag as in (c), against the 50 ms target (issue 22) (halfload.py).
(e) staff commands, on the same services: a staff member's token, --clients
    clients take each of (c)'s demands and record a follow-up on it, over HTTP:
    commands/s against (a) (commands.py).
(d) case history: intake's store grown to each of --case-sizes events; at each
    size the history of 200 random demands read through the application (and,
    as the raw baseline, the bare SELECT of their rows), the case index rebuilt
    from every event (events/s, against (a)), and 200 ``case_events`` reads:
    p50/p99 that should stay flat as the store grows.

Before each mode (a) is measured again, and that mode's ratios use it: the
machine's load when the mode ran, not at the start, is what they should share.
It prints each part's table, the CPU per process during (c), (f) and (e), a
verdict for (c) in the mode with the better ratio, and a summary: each
figure, its baseline, their ratio, the target and whether it was met. Targets:
end to end at least half of min(a, b) (also asked of (e), against (a)); p99
lag under 50 ms at half of peak; a case-history read's p99 under 20 ms at 1M
stored events.
``--py-spy OUT`` samples a services process for 10 s during each (c): the one
process, or in per-service mode the three children busiest in the first 2 s; with more
than one mode the mode goes into its name (``p.txt`` -> ``p.one.txt``, ...).
Everything it creates (schemas, vhosts, services processes) is removed at the
end, also on error. Progress goes to stderr, results to stdout.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from kombu import Connection, Queue

from bench import casehistory
from bench.casehistory import CaseHistoryRun, bench_case_history
from bench.commands import StaffCommands, bench_staff_commands
from bench.common import PG_BASE, WARMUP, create_vhost, delete_vhost, progress
from bench.endtoend import MODES, EndToEnd, bench_end_to_end, running_platform
from bench.halfload import HalfLoad, bench_half_load
from bench.procstat import CpuReport
from shared.persistence import eventsourcing_env

TARGET_RATIO = 0.5  # end to end (and staff commands) against the raw floor
LAG_TARGET_MS = 50.0  # p99 propagation lag at half of peak load (issue 22)
HISTORY_TARGET_MS = 20.0  # p99 of a case-history read at 1M stored events


def timed_rate(n: int, step: Callable[[int], object]) -> float:
    """Run ``step(i)`` for i in range(n); operations per second."""
    started = time.perf_counter()
    for i in range(n):
        step(i)
    return n / (time.perf_counter() - started)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def drop_schemas(schemas: list[str]) -> None:
    with psycopg.connect(PG_BASE, autocommit=True) as conn:
        for schema in schemas:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


# -- (a) eventsourcing append rate ------------------------------------------


class Item(Aggregate):
    @event("Created")
    def __init__(self, n: int):
        self.n = n


def bench_append(n: int, schema: str) -> float:
    """Events/s of a plain Application saving one new aggregate per save."""
    app = Application(env=eventsourcing_env("bench", f"{PG_BASE}?schema={schema}"))
    try:
        for i in range(WARMUP):
            app.save(Item(i))
        return timed_rate(n, lambda i: app.save(Item(i)))
    finally:
        app.close()


# -- (b) kombu publish rate -------------------------------------------------


def bench_publish(uri: str, n: int, confirm: bool) -> float:
    """Msgs/s of persistent messages to a durable queue (a confirm each)."""
    queue = Queue(f"bench-publish-{uuid.uuid4().hex[:8]}", durable=True)
    options = {"confirm_publish": True} if confirm else {}
    with Connection(uri, transport_options=options) as conn:
        producer = conn.Producer()
        bound = queue(producer.channel)
        bound.declare()

        def publish(i: int) -> None:
            producer.publish(
                {"n": i, "type": "BenchEvent", "data": {"text": "检测"}},
                routing_key=queue.name,
                serializer="json",
                delivery_mode=2,
            )

        for i in range(WARMUP):
            publish(i)
        try:
            return timed_rate(n, publish)
        finally:
            bound.delete()


# -- report -----------------------------------------------------------------


def _pair_pct(values_ms: list[float]) -> str:
    if not values_ms:
        return "      n/a"
    p50, p99 = percentile(values_ms, 50), percentile(values_ms, 99)
    return f"{p50:9.1f} / {p99:.1f} ms"


def _table(rows: list[tuple[str, str]], width: int) -> None:
    for label, value in rows:
        print(f"{label:<{width}}  {value}")


def end_to_end_rows(e2e: EndToEnd, append: float, confirmed: float) -> list:
    lags_ms = [lag * 1000 for lag in e2e.lags]
    posts_ms = [latency * 1000 for latency in e2e.post_latencies]
    return [
        (f"(c) end to end [{e2e.mode}]", f"{e2e.rate:9.1f} demands/s"),
        ("    (a) again, just before this mode", f"{append:9.0f} events/s"),
        ("    demands / failed POSTs", f"{e2e.demands:9d} / {e2e.failed_posts}"),
        (
            "    wall time: all POSTs / all case records in evaluation",
            f"{e2e.http_seconds:9.2f} / {e2e.total_seconds:.2f} s",
        ),
        ("    HTTP-only rate", f"{e2e.demands / e2e.http_seconds:9.1f} demands/s"),
        ("    POST latency p50 / p99", _pair_pct(posts_ms)),
        ("    propagation lag p50 / p99", _pair_pct(lags_ms)),
        ("    lags measured", f"{len(lags_ms):9d}"),
        ("    (c) / (a)", f"{e2e.rate / append:9.3f}"),
        ("    (c) / (b)", f"{e2e.rate / confirmed:9.3f}"),
        ("    (c) / min(a, b)", f"{e2e.rate / min(append, confirmed):9.3f}"),
    ]


def print_cpu(
    title: str, cpu: CpuReport, idle: CpuReport | None, count: int, unit: str
) -> None:
    """CPU per process over a window: seconds, ms per ``unit``, % of a core;
    and % of a core in the idle seconds just before it (others' background)."""
    per_unit = 1000 / max(count, 1)
    befores = idle.rows if idle else [None] * len(cpu.rows)
    rows = [
        (row.label, row.seconds, before.seconds if before else None)
        for row, before in zip(cpu.rows, befores, strict=True)
        if row.seconds or (before and before.seconds)
    ]
    rows.append(
        (
            "other (rest of the machine)",
            max(0.0, cpu.machine - cpu.accounted),
            max(0.0, idle.machine - idle.accounted) if idle else None,
        )
    )
    rows.append(("whole machine", cpu.machine, idle.machine if idle else None))
    width = max(len(label) for label, _, _ in rows) + 2
    print(
        f"CPU during {title}: {cpu.wall:.2f} s window, {count} {unit}s, "
        f"{cpu.cores} cores (= {cpu.cores * 100}% of a core)"
    )
    print(
        f"  {'process':<{width}}{'CPU s':>7}{f'ms/{unit}':>11}"
        f"{'% of a core':>13}" + (f"{'idle before':>13}" if idle else "")
    )
    for label, seconds, before in rows:
        idle_pct = f"{before / idle.wall:13.0%}" if idle and before is not None else ""
        print(
            f"  {label:<{width}}{seconds:7.2f}{seconds * per_unit:11.2f}"
            f"{seconds / cpu.wall:13.0%}{idle_pct}"
        )


def half_load_rows(half: HalfLoad) -> list[tuple[str, str]]:
    lags_ms = [lag * 1000 for lag in half.lags]
    late_ms = [late * 1000 for late in half.late]
    p99 = percentile(lags_ms, 99) if lags_ms else float("nan")
    return [
        (f"(f) lag at half of peak [{half.mode}]", ""),
        (
            "    offered: half of (c) / achieved",
            f"{half.rate:9.1f} / {half.achieved_rate:.1f} demands/s "
            f"(peak {half.peak:.1f})",
        ),
        (
            "    demands accepted / sent, over",
            f"{half.accepted:9d} / {len(half.arrivals)} in {half.seconds:.1f} s",
        ),
        ("    arrivals sent late p50 / p99", _pair_pct(late_ms)),
        (
            "    POST latency p50 / p99",
            _pair_pct([(a.answered - a.sent) * 1000 for a in half.arrivals]),
        ),
        ("    propagation lag p50 / p99", _pair_pct(lags_ms)),
        (
            "    from POST sent p50 / p99",
            _pair_pct([lag * 1000 for lag in half.lags_from_send]),
        ),
        ("    lags measured", f"{len(lags_ms):9d}"),
        (f"    lag p99 / {LAG_TARGET_MS:.0f} ms target", f"{p99 / LAG_TARGET_MS:9.2f}"),
        ("    last case record after last arrival", f"{half.drained_seconds:9.2f} s"),
    ]


def staff_command_rows(staff: StaffCommands, append: float) -> list:
    latencies_ms = [latency * 1000 for latency in staff.latencies]
    return [
        (
            f"(e) staff commands via gateway [{staff.mode}]",
            f"{staff.rate:9.1f} commands/s",
        ),
        (
            "    commands ok / failed (take + follow-up)",
            f"{staff.commands:9d} / {staff.failed}",
        ),
        (
            "    clients / demands / wall time",
            (f"{staff.clients:9d} / {staff.demands} / {staff.seconds:.2f} s"),
        ),
        ("    command latency p50 / p99", _pair_pct(latencies_ms)),
        ("    (e) / (a)", f"{staff.rate / append:9.3f}"),
    ]


@dataclass
class ModeRun:
    """What one services mode measured: (c), then (f) and (e) on it."""

    e2e: EndToEnd
    append: float  # (a) again, just before these services started
    half: HalfLoad | None = None
    staff: StaffCommands | None = None


def store_size(events: int) -> str:
    """10k, 100k, 1M."""
    if events >= 1_000_000:
        return f"{events / 1_000_000:g}M"
    return f"{events / 1000:g}k"


def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def summary_rows(
    append: float,
    confirmed: float,
    modes: list[ModeRun],
    histories: list[CaseHistoryRun],
) -> list[tuple[str, str, str, str, str, str]]:
    """figure, value, baseline, ratio, target, met: one row per headline.
    A mode's figures are compared with the (a) measured just before it."""
    rows = [
        ("(a) eventsourcing append, first", f"{append:.0f} ev/s", "-", "-", "-", ""),
        ("(b) kombu publish, confirmed", f"{confirmed:.0f} msg/s", "-", "-", "-", ""),
    ]
    for run in modes:
        e2e = run.e2e
        floor = min(run.append, confirmed)
        ratio = e2e.rate / floor
        rows.append(
            (
                f"(c) end to end [{e2e.mode}]",
                f"{e2e.rate:.1f} dem/s",
                f"min(a,b) {floor:.0f}/s",
                f"{ratio:.2f}",
                f">= {TARGET_RATIO:.2f}",
                _met(ratio >= TARGET_RATIO),
            )
        )
    for run in modes:
        if run.staff:
            ratio = run.staff.rate / run.append
            rows.append(
                (
                    f"(e) staff commands [{run.staff.mode}]",
                    f"{run.staff.rate:.1f} cmd/s",
                    f"(a) {run.append:.0f}/s",
                    f"{ratio:.2f}",
                    f">= {TARGET_RATIO:.2f}",
                    _met(ratio >= TARGET_RATIO),
                )
            )
    for run in modes:
        if run.half and run.half.lags:
            lags_ms = [lag * 1000 for lag in run.half.lags]
            p50, p99 = percentile(lags_ms, 50), percentile(lags_ms, 99)
            rows.append(
                (
                    f"(f) lag p50/p99 at {run.half.rate:.1f}/s [{run.half.mode}]",
                    f"{p50:.0f}/{p99:.0f} ms",
                    f"{LAG_TARGET_MS:.0f} ms",
                    f"{p99 / LAG_TARGET_MS:.2f}",
                    f"p99 < {LAG_TARGET_MS:.0f} ms",
                    _met(p99 < LAG_TARGET_MS),
                )
            )
    for run in histories:
        size = store_size(run.events)
        target = f"p99 < {HISTORY_TARGET_MS:.0f} ms"
        if run.events >= 1_000_000:
            target += " (1M)"
        rows.append(
            (
                f"(d) history read p50/p99 at {size}",
                f"{run.history_ms[0]:.1f}/{run.history_ms[1]:.1f} ms",
                f"SELECT {run.raw_ms[1]:.1f} ms",
                f"{run.history_ms[1] / run.raw_ms[1]:.1f}",
                target,
                _met(run.history_ms[1] < HISTORY_TARGET_MS),
            )
        )
        rows.append(
            (
                f"    case_events p50/p99 at {size}",
                f"{run.case_events_ms[0]:.1f}/{run.case_events_ms[1]:.1f} ms",
                f"SELECT {run.raw_ms[1]:.1f} ms",
                f"{run.case_events_ms[1] / run.raw_ms[1]:.1f}",
                target,
                _met(run.case_events_ms[1] < HISTORY_TARGET_MS),
            )
        )
        rows.append(
            (
                f"    case index rebuild at {size}",
                f"{run.rebuild_events_per_s:.0f} ev/s",
                f"(a) {append:.0f}/s",
                f"{run.rebuild_events_per_s / append:.2f}",
                "-",
                "",
            )
        )
    if not any(run.events >= 1_000_000 for run in histories):
        rows.append(
            ("(d) at 1M events", "not run", "-", "-", "--case-sizes ...,1000000", "")
        )
    return rows


def print_summary(rows: list[tuple[str, ...]]) -> None:
    header = ("figure", "measured", "baseline", "ratio", "target", "")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(6)]
    for row in [header, *rows]:
        cells = [
            cell.ljust(width) if i in (0, 2, 4) else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())


def report(
    append: float,
    confirmed: float,
    unconfirmed: float,
    modes: list[ModeRun],
    histories: list[CaseHistoryRun],
) -> None:
    runs = [run.e2e for run in modes]
    blocks = [
        [
            ("(a) eventsourcing append, PostgreSQL", f"{append:9.0f} events/s"),
            ("(b) kombu publish, confirm each", f"{confirmed:9.0f} msgs/s"),
            ("    kombu publish, no confirm (ref.)", f"{unconfirmed:9.0f} msgs/s"),
        ],
        *(end_to_end_rows(run.e2e, run.append, confirmed) for run in modes),
        *(half_load_rows(run.half) for run in modes if run.half),
        *(staff_command_rows(run.staff, run.append) for run in modes if run.staff),
    ]
    width = max(len(label) for block in blocks for label, _ in block)
    rule = "-" * (width + 24)
    print()
    print("qi-onestop bench (PostgreSQL backend)")
    for block in blocks:
        if block:
            print(rule)
            _table(block, width)
    print(rule)
    for history in histories:
        print("\n".join(casehistory.report_rows(history)))
        print(rule)
    for run in modes:
        e2e = run.e2e
        print_cpu(f"(c) [{e2e.mode}]", e2e.cpu, e2e.idle, e2e.demands, "demand")
        print(rule)
        if run.half:
            half = run.half
            print_cpu(f"(f) [{half.mode}]", half.cpu, None, half.accepted, "demand")
            print(rule)
        if run.staff:
            staff = run.staff
            print_cpu(f"(e) [{staff.mode}]", staff.cpu, None, staff.commands, "command")
            print(rule)
    for e2e in runs:
        if e2e.profile:
            print()
            print(f"py-spy, [{e2e.mode}] {e2e.profiled} during (c):")
            print("\n".join(e2e.profile))
            print(rule)
    best_run = max(modes, key=lambda run: run.e2e.rate / min(run.append, confirmed))
    best, floor = best_run.e2e, min(best_run.append, confirmed)
    ratio = best.rate / floor
    met = "MEETS" if ratio >= TARGET_RATIO else "BELOW"
    others = ", ".join(f"{e.mode} {e.rate:.1f}/s" for e in runs if e is not best)
    which = f"with {best.mode}" + (f" (better than {others})" if others else "")
    print(
        f"verdict: {met} target {which} — end to end is {ratio:.2f} of "
        f"min(a, b) = {floor:.0f}/s; target >= {TARGET_RATIO:.2f} "
        f"(needs >= {TARGET_RATIO * floor:.0f} demands/s)"
    )
    print()
    print(
        "summary (ratio: measured / baseline; for (f), the lag at half of (c)'s "
        "peak, p99 / its target)"
    )
    print_summary(summary_rows(append, confirmed, modes, histories))


# -- main -------------------------------------------------------------------


def modes_arg(text: str) -> list[str]:
    modes = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in modes if m not in MODES]
    if unknown or not modes:
        raise argparse.ArgumentTypeError(
            f"modes: comma-separated, each one of {', '.join(MODES)}"
        )
    return list(dict.fromkeys(modes))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--n-append", type=int, default=2000)
    parser.add_argument("--n-publish", type=int, default=2000)
    parser.add_argument("--n-demands", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument(
        "--half-load-seconds",
        type=float,
        default=20.0,
        help="how long (f) offers half of (c)'s rate (0: skip (f))",
    )
    parser.add_argument(
        "--staff-demands",
        type=int,
        default=500,
        help="demands of (c) that (e) takes and follows up (0: skip (e))",
    )
    parser.add_argument(
        "--case-sizes",
        type=lambda text: [int(n) for n in text.split(",") if n],
        default=[10_000, 100_000, 1_000_000],
        help="store sizes for (d); the 1M point takes about 5 minutes of the run",
    )
    parser.add_argument(
        "--modes",
        type=modes_arg,
        default=list(MODES),
        help=f"QI_PROCESSES values to run (c) with (default: {','.join(MODES)})",
    )
    parser.add_argument(
        "--py-spy",
        metavar="OUT",
        help="record a services process with py-spy during (c) to OUT (raw)",
    )
    return parser.parse_args(argv)


def profile_path(out: str | None, mode: str, modes: list[str]) -> str | None:
    if out is None or len(modes) == 1:
        return out
    path = Path(out)
    return str(path.with_name(f"{path.stem}.{mode}{path.suffix}"))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGTERM too unwinds through the finally blocks that clean up
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    run_id = f"bench_{uuid.uuid4().hex[:8]}"
    append_schema = f"{run_id}_append"
    schemas = [append_schema]
    vhosts = [run_id.replace("_", "-")]
    modes: list[ModeRun] = []
    try:
        progress(f"(a) saving {args.n_append} aggregates, one per save")
        append = bench_append(args.n_append, append_schema)
        progress(f"(a) {append:.0f} events/s")

        amqp_uri = create_vhost(vhosts[0])
        progress(f"(b) publishing {args.n_publish} messages, confirm each")
        confirmed = bench_publish(amqp_uri, args.n_publish, confirm=True)
        progress(f"(b) {confirmed:.0f} msgs/s; now without confirms")
        unconfirmed = bench_publish(amqp_uri, args.n_publish, confirm=False)
        progress(f"(b) {unconfirmed:.0f} msgs/s unconfirmed")

        for mode in args.modes:
            prefix = f"{run_id}_{mode.replace('-', '_')}"
            schemas += [f"{prefix}_intake", f"{prefix}_evaluation"]
            vhosts.append(prefix.replace("_", "-"))
            amqp_uri = create_vhost(vhosts[-1])
            # the machine is shared: its load now, not at the start, is what
            # this mode's figures meet, so (a) is measured again
            near = bench_append(max(WARMUP, args.n_append // 4), append_schema)
            progress(f"(a) again before [{mode}]: {near:.0f} events/s")
            with running_platform(mode, amqp_uri, prefix, args.clients) as platform:
                run = ModeRun(
                    bench_end_to_end(
                        platform,
                        args.n_demands,
                        args.clients,
                        profile_path(args.py_spy, mode, args.modes),
                    ),
                    near,
                )
                modes.append(run)
                progress(f"(c) [{mode}] {run.e2e.rate:.1f} demands/s")
                if args.half_load_seconds > 0:
                    run.half = bench_half_load(
                        platform, run.e2e.rate, args.half_load_seconds
                    )
                if args.staff_demands > 0:
                    run.staff = bench_staff_commands(
                        platform, run.e2e.ids[: args.staff_demands], args.clients
                    )

        schemas.append(f"{run_id}_history")
        histories = bench_case_history(args.case_sizes, schemas[-1])
    finally:
        progress("cleaning up schemas and vhosts")
        try:
            drop_schemas(schemas)
        finally:
            for vhost in vhosts:
                delete_vhost(vhost)
    report(append, confirmed, unconfirmed, modes, histories)
    return 0


if __name__ == "__main__":
    sys.exit(main())
