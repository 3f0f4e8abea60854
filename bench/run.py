"""End-to-end throughput against its two floors, measured in one run (PostgreSQL).

    .venv/bin/python -m bench.run [--n-append 2000] [--n-publish 2000]
                                  [--n-demands 1000] [--clients 16] [--py-spy OUT]

(a) append: a plain eventsourcing ``Application`` on PostgreSQL (a fresh schema)
    saves N small new aggregates, one ``save`` (one transaction) each: events/s.
(b) publish: kombu publishes N small JSON messages to a durable queue with
    ``confirm_publish``, waiting for the broker's confirm of each: msgs/s (the
    rate without confirms is shown for reference).
(c) end to end: ``python -m shared.run`` (what ``make run`` starts) on a fresh
    vhost and fresh schemas; a pool of HTTP clients POSTs N demands; the clock
    runs from the first POST until the referral service has stored a referral
    for every one of them: demands/s. The propagation lag of a demand is the
    timestamp of its referral's ``Requested`` event minus that of its
    ``Registered`` event, both read back from the event stores.

It prints (c)/(a), (c)/(b), (c)/min(a, b) and a verdict against the target:
end to end at least half of the slower floor. ``--py-spy OUT`` samples the
services process for 10 s during (c) and summarises where its time goes.
Everything it creates (schemas, vhost, the services process) is removed at the
end, also on error. Progress goes to stderr, results to stdout.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import requests
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from kombu import Connection, Queue

from shared.persistence import eventsourcing_env

REPO = Path(__file__).resolve().parent.parent
PG_BASE = "postgresql://postgres@127.0.0.1:5432/test"
AMQP_BASE = "amqp://guest:guest@127.0.0.1:5672"
FORM = {
    "applicant": "某公司",
    "contact_phone": "13800138000",
    "service_item_code": "6.3",
    "description": "检测",
    "channel": "window",
}
TARGET_RATIO = 0.5
WARMUP = 20


def progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def timed_rate(n: int, step: Callable[[int], object]) -> float:
    """Run ``step(i)`` for i in range(n); operations per second."""
    started = time.perf_counter()
    for i in range(n):
        step(i)
    return n / (time.perf_counter() - started)


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f}s")
        time.sleep(0.01)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- resources: schemas and a vhost -----------------------------------------


def drop_schemas(schemas: list[str]) -> None:
    with psycopg.connect(PG_BASE, autocommit=True) as conn:
        for schema in schemas:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True)


def create_vhost(name: str) -> str:
    rabbitmqctl("add_vhost", name)
    rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
    return f"{AMQP_BASE}/{name}"


def delete_vhost(name: str) -> None:
    subprocess.run(["rabbitmqctl", "delete_vhost", name], capture_output=True)


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


# -- (c) end to end ---------------------------------------------------------


@dataclass
class EndToEnd:
    demands: int
    failed_posts: int
    http_seconds: float
    total_seconds: float
    post_latencies: list[float]
    lags: list[float]
    profile: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.demands / self.total_seconds


class Services:
    """``python -m shared.run`` as a child process, output to a log file."""

    def __init__(self, amqp_uri: str, urls: dict[str, str], var_dir: Path):
        self.address = f"127.0.0.1:{free_port()}"
        self.log_path = var_dir / "services.log"
        self.env = {
            **os.environ,
            "QI_AMQP_URI": amqp_uri,
            "QI_INTAKE_DATABASE_URL": urls["intake"],
            "QI_REFERRAL_DATABASE_URL": urls["referral"],
            "QI_HTTP_ADDRESS": self.address,
            "QI_METRICS_PORT": str(free_port()),
            "QI_VAR_DIR": str(var_dir),
            "QI_LOG_LEVEL": "WARNING",
        }
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.address}"

    def start(self, timeout: float = 30.0) -> None:
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "shared.run"],
                env=self.env,
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

        def healthy() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"services exited:\n{self.log_tail()}")
            try:
                return requests.get(f"{self.base_url}/healthz", timeout=1).ok
            except requests.ConnectionError:
                return False

        wait_until(healthy, timeout, "services answering /healthz")

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        text = self.log_path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 30.0) -> None:
        """SIGINT (graceful), then kill if it does not stop in time."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            progress("services did not stop on SIGINT; killing")
            self.process.kill()
            self.process.wait(timeout=10)


class Clients:
    """A pool of threads, each POSTing demands over its own requests.Session."""

    def __init__(self, base_url: str, clients: int):
        self.url = f"{base_url}/api/v1/demands"
        self.clients = clients
        self._local = threading.local()

    def _post(self, _: int) -> tuple[str | None, float]:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        started = time.perf_counter()
        try:
            response = session.post(self.url, json=FORM, timeout=30)
        except requests.RequestException:
            return None, time.perf_counter() - started
        latency = time.perf_counter() - started
        return (response.json()["id"] if response.status_code == 201 else None), latency

    def post(self, n: int) -> list[tuple[str | None, float]]:
        with ThreadPoolExecutor(self.clients, thread_name_prefix="client") as pool:
            return list(pool.map(self._post, range(n)))


class RowCount:
    """The rows of a table; 0 while it does not exist yet."""

    def __init__(self, schema: str, table: str):
        self.conn = psycopg.connect(PG_BASE, autocommit=True)
        self.sql = f"SELECT count(*) FROM {schema}.{table}"

    def __call__(self) -> int:
        try:
            return self.conn.execute(self.sql).fetchone()[0]
        except psycopg.errors.UndefinedTable:
            return 0

    def close(self) -> None:
        self.conn.close()


def warm_up(pool: Clients, referrals: RowCount, timeout: float = 60) -> None:
    """POST until WARMUP demands were accepted and referred.

    /healthz answers as soon as the gateway runs, which can be before intake
    and referral have started; the warm-up doubles as the readiness check.
    """
    deadline = time.monotonic() + timeout
    accepted = 0
    while accepted < WARMUP:
        accepted += sum(1 for demand_id, _ in pool.post(WARMUP - accepted) if demand_id)
        if time.monotonic() > deadline:
            raise TimeoutError(f"warm-up: {accepted}/{WARMUP} POSTs accepted")
        if accepted < WARMUP:
            time.sleep(0.2)
    wait_until(lambda: referrals() >= accepted, timeout, "warm-up referrals")


def stored_events(app) -> list:
    """Every stored event of an application, decoded by its mapper."""
    found, start = [], 1
    while batch := app.recorder.select_notifications(start=start, limit=1000):
        found.extend(app.mapper.to_domain_event(n) for n in batch)
        start = batch[-1].id + 1
    return found


def propagation_lags(urls: dict[str, str], demand_ids: set[str]) -> list[float]:
    """Seconds from each demand's Registered to its referral's Requested."""
    from services.intake.application import IntakeApplication
    from services.intake.domain import Demand
    from services.referral.application import ReferralApplication
    from services.referral.domain import Referral

    intake = IntakeApplication(urls["intake"])
    referral = ReferralApplication(urls["referral"])
    try:
        registered = {
            str(e.originator_id): e.timestamp
            for e in stored_events(intake)
            if isinstance(e, Demand.Registered)
        }
        requested = {
            e.demand_id: e.timestamp
            for e in stored_events(referral)
            if isinstance(e, Referral.Requested)
        }
    finally:
        intake.close()
        referral.close()
    return [
        (requested[d] - registered[d]).total_seconds()
        for d in demand_ids
        if d in requested and d in registered
    ]


def bench_end_to_end(
    amqp_uri: str, prefix: str, n: int, clients: int, py_spy: str | None
) -> EndToEnd:
    urls = {s: f"{PG_BASE}?schema={prefix}_{s}" for s in ("intake", "referral")}
    for service, url in urls.items():  # as the services see them
        os.environ[f"QI_{service.upper()}_DATABASE_URL"] = url
    var_dir = Path(tempfile.mkdtemp(prefix="qi-bench-"))
    services = Services(amqp_uri, urls, var_dir)
    referrals = None
    try:
        progress(f"(c) starting services on {services.base_url}")
        services.start()
        referrals = RowCount(f"{prefix}_referral", "referral_events")
        pool = Clients(services.base_url, clients)
        progress(f"(c) warm-up: {WARMUP} demands")
        warm_up(pool, referrals)
        before = referrals()

        progress(f"(c) POSTing {n} demands with {clients} clients")
        profiler = Profiler.start(services.process.pid, py_spy) if py_spy else None
        started = time.perf_counter()
        posted = pool.post(n)
        http_seconds = time.perf_counter() - started
        ids = {demand_id for demand_id, _ in posted if demand_id}
        progress(f"(c) POSTs answered in {http_seconds:.1f}s; waiting for referrals")
        wait_until(
            lambda: referrals() >= before + len(ids),
            60 + n / 10,
            f"{len(ids)} referrals",
        )
        total_seconds = time.perf_counter() - started
        profile = profiler.finish() if profiler else []
        progress("(c) reading event timestamps back")
        return EndToEnd(
            demands=len(ids),
            failed_posts=n - len(ids),
            http_seconds=http_seconds,
            total_seconds=total_seconds,
            post_latencies=[latency for _, latency in posted],
            lags=propagation_lags(urls, ids),
            profile=profile,
        )
    except BaseException:
        progress(f"services log (tail):\n{services.log_tail()}")
        raise
    finally:
        if referrals is not None:
            referrals.close()
        progress("(c) stopping services (SIGINT)")
        services.stop()
        shutil.rmtree(var_dir, ignore_errors=True)


# -- profiling the services process -----------------------------------------


class Profiler:
    """``py-spy record`` (raw format) on a process, summarised when done."""

    SECONDS = 10
    RATE = 100

    def __init__(self, process: subprocess.Popen, output: str):
        self.process = process
        self.output = output
        self.started = time.monotonic()

    @classmethod
    def start(cls, pid: int, output: str) -> Profiler | None:
        exe = Path(sys.executable).parent / "py-spy"
        exe = str(exe) if exe.exists() else shutil.which("py-spy")
        if not exe:
            progress("py-spy not found; not profiling")
            return None
        command = [exe, "record", "--pid", str(pid), "--duration", str(cls.SECONDS)]
        command += ["--rate", str(cls.RATE), "--format", "raw", "--nolineno"]
        process = subprocess.Popen(
            [*command, "--output", output],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        progress(f"(c) py-spy recording {cls.SECONDS}s of pid {pid} to {output}")
        return cls(process, output)

    def finish(self) -> list[str]:
        """Stop sampling (SIGINT writes the file) and summarise it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=30)
        seconds = min(self.SECONDS, time.monotonic() - self.started)
        return summarise_profile(Path(self.output), seconds * self.RATE)


def _frame_module(frame: str) -> str:
    """'func (shared/outbox.py)' -> 'shared.outbox'; site-packages -> package."""
    where = frame.rsplit("(", 1)[-1].rstrip(")")
    parts = where.replace(".py", "").split("/")
    if parts[0] in ("shared", "services"):
        return ".".join(parts[:3] if parts[0] == "services" else parts[:2])
    return parts[0] or "?"


def summarise_profile(path: Path, possible_samples: float, top: int = 12) -> list[str]:
    if not path.exists():
        return ["(no profile written)"]
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        own[frames[-1]] += count
        for module in {_frame_module(f) for f in frames}:
            inclusive[module] += count
    if not total:
        return ["(no samples)"]
    busy = total / possible_samples if possible_samples else 0
    lines = [f"samples: {total} (process busy ~{busy:.0%} of the sampled time)"]
    lines.append("top functions by own time:")
    lines += [f"  {c / total:6.1%}  {f}" for f, c in own.most_common(top)]
    lines.append("modules by inclusive time (on the stack):")
    lines += [f"  {c / total:6.1%}  {m}" for m, c in inclusive.most_common(top)]
    return lines


# -- report -----------------------------------------------------------------


def report(append: float, confirmed: float, unconfirmed: float, e2e: EndToEnd) -> None:
    floor = min(append, confirmed)
    ratio = e2e.rate / floor
    lags_ms = [lag * 1000 for lag in e2e.lags]
    posts_ms = [latency * 1000 for latency in e2e.post_latencies]
    rows = [
        ("(a) eventsourcing append, PostgreSQL", f"{append:9.0f} events/s"),
        ("(b) kombu publish, confirm each", f"{confirmed:9.0f} msgs/s"),
        ("    kombu publish, no confirm (ref.)", f"{unconfirmed:9.0f} msgs/s"),
        ("(c) end to end, POST -> referral stored", f"{e2e.rate:9.1f} demands/s"),
        ("    demands / failed POSTs", f"{e2e.demands:9d} / {e2e.failed_posts}"),
        (
            "    wall time: all POSTs / all referrals",
            f"{e2e.http_seconds:9.2f} / {e2e.total_seconds:.2f} s",
        ),
        ("    HTTP-only rate", f"{e2e.demands / e2e.http_seconds:9.1f} demands/s"),
        ("    POST latency p50 / p99", _pair_pct(posts_ms)),
        ("    propagation lag p50 / p99", _pair_pct(lags_ms)),
        ("    lags measured", f"{len(lags_ms):9d}"),
        ("(c) / (a)", f"{e2e.rate / append:9.3f}"),
        ("(c) / (b)", f"{e2e.rate / confirmed:9.3f}"),
        ("(c) / min(a, b)", f"{ratio:9.3f}"),
    ]
    width = max(len(label) for label, _ in rows)
    print()
    print("qi-onestop bench (PostgreSQL backend)")
    print("-" * (width + 24))
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    print("-" * (width + 24))
    met = "MEETS" if ratio >= TARGET_RATIO else "BELOW"
    print(
        f"verdict: {met} target — end to end is {ratio:.2f} of min(a, b) "
        f"= {floor:.0f}/s; target >= {TARGET_RATIO:.2f} "
        f"(needs >= {TARGET_RATIO * floor:.0f} demands/s)"
    )
    if e2e.profile:
        print()
        print("py-spy, services process during (c):")
        print("\n".join(e2e.profile))


def _pair_pct(values_ms: list[float]) -> str:
    if not values_ms:
        return "      n/a"
    p50, p99 = percentile(values_ms, 50), percentile(values_ms, 99)
    return f"{p50:9.1f} / {p99:.1f} ms"


# -- main -------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--n-append", type=int, default=2000)
    parser.add_argument("--n-publish", type=int, default=2000)
    parser.add_argument("--n-demands", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument(
        "--py-spy",
        metavar="OUT",
        help="record the services process with py-spy during (c) to OUT (raw)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    run_id = f"bench_{uuid.uuid4().hex[:8]}"
    append_schema = f"{run_id}_append"
    schemas = [append_schema, f"{run_id}_intake", f"{run_id}_referral"]
    vhost = run_id.replace("_", "-")
    try:
        progress(f"(a) saving {args.n_append} aggregates, one per save")
        append = bench_append(args.n_append, append_schema)
        progress(f"(a) {append:.0f} events/s")

        amqp_uri = create_vhost(vhost)
        progress(f"(b) publishing {args.n_publish} messages, confirm each")
        confirmed = bench_publish(amqp_uri, args.n_publish, confirm=True)
        progress(f"(b) {confirmed:.0f} msgs/s; now without confirms")
        unconfirmed = bench_publish(amqp_uri, args.n_publish, confirm=False)
        progress(f"(b) {unconfirmed:.0f} msgs/s unconfirmed")

        e2e = bench_end_to_end(
            amqp_uri, run_id, args.n_demands, args.clients, args.py_spy
        )
        progress(f"(c) {e2e.rate:.1f} demands/s")
    finally:
        progress("cleaning up schemas and vhost")
        drop_schemas(schemas)
        delete_vhost(vhost)
    report(append, confirmed, unconfirmed, e2e)
    return 0


if __name__ == "__main__":
    sys.exit(main())
