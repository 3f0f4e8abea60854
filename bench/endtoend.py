"""The services under test, and (c): end to end at peak, and where its CPU goes.

``running_platform`` starts ``python -m shared.run`` as a child process on a
fresh vhost and fresh schemas, with ``QI_PROCESSES`` set to the mode: ``one``
(every service in one process, what ``make run`` starts) or ``per-service``
(a launcher and one child process per service); its events are encrypted with
a key made for the run, as a deployment's are, and the demo accounts are
opened so that staff can log in. (c), then (f) and (e), run on it.

(c): a pool of HTTP clients POSTs N demands; the clock runs from the first
POST until the evaluation service, which consumes DemandRegistered, has
opened a case record for every one (referral opens only on a staff member's
referral decision, DemandReferred, which this bench does not drive).
Over that window it records the CPU time of each services process, of
PostgreSQL and RabbitMQ, and of the bench itself.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import psycopg
import requests
from eventsourcing.cryptography import AESCipher
from eventsourcing.utils import get_topic as topic_of

from bench import procstat
from bench.common import (
    PG_BASE,
    WARMUP,
    free_port,
    progress,
    retrying,
    wait_until,
)
from bench.procstat import CpuReport, CpuWindow, Group
from bench.profiler import BusiestProfiler

REPO = Path(__file__).resolve().parent.parent
DEMO_ACCOUNTS = REPO / "services" / "gateway" / "demo_accounts.json"
FORM = {
    "applicant": "某公司",
    "contact_phone": "13800138000",
    "service_item_code": "6.3",
    "description": "检测",
    "channel": "window",
}
MODES = ("one", "per-service")
IDLE_SECONDS = 2.0
# What `make run` starts; QI_PROCESSES picks the mode.
RUN = ["-m", "shared.run"]


@dataclass
class EndToEnd:
    mode: str
    demands: int
    failed_posts: int
    http_seconds: float
    total_seconds: float
    post_latencies: list[float]
    lags: list[float]
    cpu: CpuReport  # over the window
    idle: CpuReport  # over IDLE_SECONDS just before it, no load from the bench
    profiled: str = ""  # which process py-spy recorded
    profile: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)  # the demands it registered

    @property
    def rate(self) -> float:
        return self.demands / self.total_seconds


class ServicesExited(RuntimeError):
    pass


class Services:
    """The services as a child process (and its children), output to a log."""

    def __init__(self, mode: str, amqp_uri: str, urls: dict[str, str], var: Path):
        self.mode = mode
        self.address = f"127.0.0.1:{free_port()}"
        self.log_path = var / "services.log"
        # events encrypted at rest, as every deployment runs (QI_CIPHER_KEY)
        self.cipher_key = AESCipher.create_key(num_bytes=32)
        self.env = {
            **os.environ,
            "QI_PROCESSES": mode,
            "QI_AMQP_URI": amqp_uri,
            "QI_INTAKE_DATABASE_URL": urls["intake"],
            "QI_EVALUATION_DATABASE_URL": urls["evaluation"],
            "QI_CIPHER_KEY": self.cipher_key,
            "QI_HTTP_ADDRESS": self.address,
            "QI_METRICS_PORT": str(free_port()),
            "QI_VAR_DIR": str(var),
            "QI_LOG_LEVEL": "WARNING",
            # the load files its demands without a login from one address
            "QI_ANONYMOUS_WRITES_PER_HOUR": "100000000",
            # staff log in for (e)
            "QI_SEED_ACCOUNTS": str(DEMO_ACCOUNTS),
        }
        self.process: subprocess.Popen | None = None
        self.children: dict[int, str] = {}  # pid -> service (per-service mode)

    @property
    def base_url(self) -> str:
        return f"http://{self.address}"

    def start(self, attempts: int = 3) -> None:
        """Start and wait for /healthz; again if the services exited because
        PostgreSQL, a server shared with other clients, had no slot free."""
        for attempt in range(1, attempts + 1):
            try:
                return self._start_once()
            except ServicesExited:
                if "too many clients" not in self.log_tail() or attempt == attempts:
                    raise
                progress("services exited: PostgreSQL had no free connection")
                self.stop()
                time.sleep(3)

    def _start_once(self, timeout: float = 120.0) -> None:
        # six processes importing the stack on a busy 2-core machine can take
        # a minute before /healthz answers
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, *RUN],
                env=self.env,
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

        def healthy() -> bool:
            self.check()
            try:
                return requests.get(f"{self.base_url}/healthz", timeout=1).ok
            except requests.RequestException:
                return False

        wait_until(healthy, timeout, "services answering /healthz")
        if self.mode == "per-service":
            self.children = {
                pid: procstat.argv(pid)[-1]
                for pid in procstat.children(self.process.pid)
            }

    def processes(self) -> dict[int, str]:
        """The processes that run services: pid -> what runs in it."""
        assert self.process is not None
        if self.mode == "one":
            return {self.process.pid: "services (all in one process)"}
        return self.children

    def cpu_groups(self) -> list[Group]:
        assert self.process is not None
        groups = [
            Group.process(label, pid, reaped=False)
            for pid, label in self.processes().items()
        ]
        if self.mode == "per-service":
            groups.append(Group.process("launcher", self.process.pid, reaped=False))
        return groups

    def check(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise ServicesExited(f"services exited ({self.process.returncode})")

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        text = self.log_path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 30.0) -> None:
        """SIGINT (graceful), then kill if it does not stop in time."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                progress("services did not stop on SIGINT; killing")
                self.process.kill()
                self.process.wait(timeout=10)
        for pid in self.children:  # left behind if the launcher was killed
            if procstat.argv(pid)[-3:-1] == RUN:
                progress(f"killing left-over services child {pid}")
                os.kill(pid, signal.SIGKILL)


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
        pool = ThreadPoolExecutor(self.clients, thread_name_prefix="client")
        try:
            return list(pool.map(self._post, range(n)))
        finally:  # on Ctrl-C: drop the queued POSTs, finish those in flight
            pool.shutdown(cancel_futures=True)


class RowCount:
    """The rows of a table (that match ``where``); 0 while it does not exist."""

    def __init__(self, schema: str, table: str, where: str = "TRUE"):
        self.conn = retrying(
            lambda: psycopg.connect(PG_BASE, autocommit=True), "counting rows"
        )
        self.sql = f"SELECT count(*) FROM {schema}.{table} WHERE {where}"

    def __call__(self) -> int:
        try:
            return self.conn.execute(self.sql).fetchone()[0]
        except psycopg.errors.UndefinedTable:
            return 0

    def close(self) -> None:
        self.conn.close()


def warm_up(
    services: Services,
    pool: Clients,
    stored: dict[str, RowCount],
    timeout: float = 60.0,
) -> None:
    """POST until WARMUP demands were accepted, then until all are recorded.

    /healthz answers only once intake and referral answer an RPC ping, so the
    services are ready; the warm-up runs every path once (connections, queues,
    the relay's first batch) so that the measured window starts warm.
    """
    deadline = time.monotonic() + timeout
    accepted = 0
    while accepted < WARMUP:
        services.check()
        accepted += sum(1 for demand_id, _ in pool.post(WARMUP - accepted) if demand_id)
        if time.monotonic() > deadline:
            raise TimeoutError(f"warm-up: {accepted}/{WARMUP} POSTs accepted")
        if accepted < WARMUP:
            time.sleep(0.2)

    def settled() -> bool:
        services.check()
        return stored["evaluation"]() >= max(accepted, stored["intake"]())

    wait_until(settled, timeout, "warm-up case records")


def stored_events(app, topic: str) -> list:
    """Every stored event of an application with ``topic``, decoded."""
    found, start = [], 1
    while batch := app.recorder.select_notifications(
        start=start, limit=1000, topics=[topic]
    ):
        found.extend(app.mapper.to_domain_event(n) for n in batch)
        start = batch[-1].id + 1
    return found


class Stores:
    """Intake's and evaluation's stores read back by the bench (decrypted with
    the run's key), opened once for the platform's lifetime."""

    def __init__(self, urls: dict[str, str], cipher_key: str):
        from services.evaluation.application import EvaluationApplication
        from services.intake.application import IntakeApplication

        env = {"CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher"}
        env["CIPHER_KEY"] = cipher_key
        self.intake = retrying(
            lambda: IntakeApplication(urls["intake"], env), "reading intake"
        )
        try:
            self.evaluation = retrying(
                lambda: EvaluationApplication(urls["evaluation"], env),
                "reading evaluation",
            )
        except Exception:
            self.intake.close()
            raise

    def case_timestamps(
        self, demand_ids: set[str]
    ) -> dict[str, tuple[datetime, datetime]]:
        """Each demand's Registered (intake) and case record Opened
        (evaluation) timestamps, for the demands that have both."""
        from services.evaluation.records import CaseRecord
        from services.intake.domain import Demand

        registered = {
            str(e.originator_id): e.timestamp
            for e in stored_events(self.intake, topic_of(Demand.Registered))
        }
        recorded = {
            e.case_id: e.timestamp
            for e in stored_events(self.evaluation, topic_of(CaseRecord.Opened))
        }
        return {
            d: (registered[d], recorded[d])
            for d in demand_ids
            if d in recorded and d in registered
        }

    def propagation_lags(self, demand_ids: set[str]) -> list[float]:
        """Seconds from each demand's Registered to evaluation's case record."""
        return [
            (opened - registered).total_seconds()
            for registered, opened in self.case_timestamps(demand_ids).values()
        ]

    def close(self) -> None:
        self.intake.close()
        self.evaluation.close()


def _py_spy_pids() -> list[int]:
    """py-spy started by the bench (a zombie until reaped still has its times)."""
    return [p for p in procstat.children(os.getpid()) if procstat.comm(p) == "py-spy"]


def cpu_window(services: Services) -> CpuWindow:
    """The services processes, both servers, the bench and its py-spy.

    The servers' rows count every client's work, not only this run's; the
    idle baseline taken before the window shows what the others add.
    """
    return CpuWindow(
        [
            *services.cpu_groups(),
            Group.named("postgresql (every postgres process)", "postgres"),
            Group.named("rabbitmq (beam.smp)", "beam.smp"),
            Group.process("bench (HTTP clients)", os.getpid(), reaped=False),
            Group("py-spy", _py_spy_pids, reaped=False),
        ]
    )


@dataclass
class Platform:
    """The services running in one mode on fresh schemas, warmed up."""

    mode: str
    services: Services
    stored: dict[str, RowCount]
    stores: Stores

    @property
    def base_url(self) -> str:
        return self.services.base_url

    def case_records(self) -> int:
        return self.stored["evaluation"]()

    def wait_for_case_records(self, count: int, timeout: float) -> None:
        def recorded() -> bool:
            self.services.check()
            return self.case_records() >= count

        wait_until(recorded, timeout, f"{count} case records in evaluation")


@contextmanager
def running_platform(
    mode: str, amqp_uri: str, prefix: str, clients: int
) -> Iterator[Platform]:
    """Start the services in ``mode`` on schemas ``{prefix}_*`` and warm them
    up; stop them (and remove their files) when done."""
    urls = {s: f"{PG_BASE}?schema={prefix}_{s}" for s in ("intake", "evaluation")}
    var_dir = Path(tempfile.mkdtemp(prefix="qi-bench-"))
    services = Services(mode, amqp_uri, urls, var_dir)
    stored = {
        "intake": RowCount(f"{prefix}_intake", "intake_events"),
        # one case record per registered demand (its first event)
        "evaluation": RowCount(
            f"{prefix}_evaluation",
            "evaluation_events",
            "originator_version = 1 AND topic LIKE '%:CaseRecord.Opened'",
        ),
    }
    tag = f"[{mode}]"
    try:
        progress(f"{tag} starting services on {services.base_url}")
        services.start()
        progress(f"{tag} warm-up: {WARMUP} demands")
        warm_up(services, Clients(services.base_url, clients), stored)
        stores = Stores(urls, services.cipher_key)
        try:
            yield Platform(mode, services, stored, stores)
        finally:
            stores.close()
    except Exception:
        progress(f"services log (tail):\n{services.log_tail() or '(empty)'}")
        raise
    finally:
        for count in stored.values():
            count.close()
        progress(f"{tag} stopping services (SIGINT)")
        services.stop()
        shutil.rmtree(var_dir, ignore_errors=True)


def bench_end_to_end(
    platform: Platform, n: int, clients: int, py_spy: str | None
) -> EndToEnd:
    """(c): N demands POSTed by ``clients`` at once, until all are recorded."""
    services, mode = platform.services, platform.mode
    pool = Clients(services.base_url, clients)
    before = platform.case_records()
    cpu = cpu_window(services)
    tag = f"(c) [{mode}]"
    progress(f"{tag} idle baseline: {IDLE_SECONDS:.0f}s")
    cpu.start()
    time.sleep(IDLE_SECONDS)
    idle = cpu.stop()

    progress(f"{tag} POSTing {n} demands with {clients} clients")
    profiler = None
    cpu.start()
    try:
        if py_spy:
            profiler = BusiestProfiler(services.processes(), py_spy, progress)
        started = time.perf_counter()
        posted = pool.post(n)
        http_seconds = time.perf_counter() - started
        ids = {demand_id for demand_id, _ in posted if demand_id}
        progress(f"{tag} POSTs answered in {http_seconds:.1f}s; waiting for records")
        platform.wait_for_case_records(before + len(ids), 60 + n / 10)
        total_seconds = time.perf_counter() - started
        cpu_report = cpu.stop()
        profile = profiler.finish() if profiler else []
    finally:
        if profiler is not None:
            profiler.stop()
    progress(f"{tag} reading event timestamps back")
    return EndToEnd(
        mode=mode,
        demands=len(ids),
        failed_posts=n - len(ids),
        http_seconds=http_seconds,
        total_seconds=total_seconds,
        post_latencies=[latency for _, latency in posted],
        lags=platform.stores.propagation_lags(ids),
        cpu=cpu_report,
        idle=idle,
        profiled=profiler.label if profiler else "",
        profile=profile,
        ids=sorted(ids),
    )
