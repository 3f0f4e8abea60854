"""Other routes' latency during a login storm (issue 18, item 5).

    .venv/bin/python -m bench.login_storm [--logins 10] [--seconds 15]
        [--mode one] [--repo PATH]

Starts ``python -m shared.run`` as ``make run`` does (the demo accounts, every
store in SQLite under a temporary folder, a vhost of its own), then probes two
other routes — a public catalog read (``GET /api/v1/catalog/items``: an RPC to
catalog) and an authenticated identity read (``GET /api/v1/me``: the token
check with its token-version read) — open loop, one probe every
``--probe-ms`` (100 ms), first with nothing else running, then while ``--logins``
clients log in over and over (each an argon2 check of ~0.1 s of CPU). The
figure: the probes' p99 during the storm, against the target of 50 ms.

``--repo PATH`` runs the services from another checkout of the project (e.g.
``git worktree add /tmp/qi-before <commit>``), with this venv, to measure
the code before a change on the same machine within minutes.

Needs RabbitMQ on 127.0.0.1:5672 with ``rabbitmqctl`` usable; removes what
it made (the vhost, the folder, the services) at the end, also on error.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import requests

from bench.common import create_vhost, delete_vhost, free_port, progress, wait_until

REPO = Path(__file__).resolve().parent.parent
DEMO_ACCOUNTS = REPO / "services" / "gateway" / "demo_accounts.json"
TARGET_P99_MS = 50.0
PROBES = ("/api/v1/catalog/items", "/api/v1/me")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


@dataclass
class Window:
    """The probes of one window, and the logins answered meanwhile."""

    name: str
    seconds: float
    probes: dict[str, list[float]]  # route -> latencies (ms)
    failed_probes: int
    logins: list[float]  # latencies (ms) of logins answered 200
    failed_logins: int

    def row(self, route: str) -> str:
        found = self.probes[route]
        return (
            f"| {self.name} | `GET {route}` | {len(found)} | "
            f"{percentile(found, 50):.1f} | {percentile(found, 99):.1f} | "
            f"{max(found, default=float('nan')):.1f} |"
        )


class Platform:
    """``python -m shared.run`` from ``repo``, as `make run` starts it."""

    def __init__(self, repo: Path, mode: str, amqp_uri: str):
        self.repo = repo
        self.var = Path(tempfile.mkdtemp(prefix="qi-login-storm-"))
        self.address = f"127.0.0.1:{free_port()}"
        keep = {
            k: v
            for k, v in os.environ.items()
            if not (k.startswith("QI_") and k.endswith("_DATABASE_URL"))
        }
        self.env = {
            **keep,
            "QI_PROCESSES": mode,
            "QI_AMQP_URI": amqp_uri,
            "QI_HTTP_ADDRESS": self.address,
            "QI_METRICS_PORT": str(free_port()),
            "QI_VAR_DIR": str(self.var),
            "QI_LOG_LEVEL": "WARNING",
            "QI_SEED_ACCOUNTS": str(repo / DEMO_ACCOUNTS.relative_to(REPO)),
            # every login comes from 127.0.0.1: no limit on logins from one
            # address may stop the storm (the logins are all correct anyway)
            "QI_ANONYMOUS_WRITES_PER_HOUR": "1000000",
        }
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.address}"

    def start(self, timeout: float = 180.0) -> None:
        log = open(self.var / "services.log", "wb")  # noqa: SIM115 - kept open
        self.process = subprocess.Popen(
            [sys.executable, "-m", "shared.run"],
            env=self.env,
            cwd=self.repo,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

        def healthy() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"services exited:\n{self.log_tail()}")
            try:
                return requests.get(f"{self.base_url}/healthz", timeout=1).ok
            except requests.RequestException:
                return False

        wait_until(healthy, timeout, "services answering /healthz")

    def log_tail(self, lines: int = 30) -> str:
        path = self.var / "services.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.var, ignore_errors=True)


def demo_logins() -> list[dict]:
    accounts = json.loads(DEMO_ACCOUNTS.read_text(encoding="utf-8"))["accounts"]
    return [{"username": a["username"], "password": a["password"]} for a in accounts]


def login(session: requests.Session, base_url: str, form: dict) -> tuple[bool, float]:
    """One person logging in, as a browser or app would: a 429 (too many
    logins at once) is tried again after its Retry-After; the latency runs
    until the login is answered 200 (or fails otherwise)."""
    started = time.perf_counter()
    while True:
        try:
            answer = session.post(
                f"{base_url}/api/v1/auth/login", json=form, timeout=60
            )
        except requests.RequestException:
            return False, (time.perf_counter() - started) * 1000
        if answer.status_code != 429:
            break
        time.sleep(float(answer.headers.get("Retry-After", "1")))
    return answer.status_code == 200, (time.perf_counter() - started) * 1000


def probe_window(
    base_url: str,
    token: str,
    seconds: float,
    probe_ms: float,
    storm: int,
    name: str,
) -> Window:
    """Probes sent on a fixed schedule (each by a thread of its own, so a
    slow answer does not delay the next probe) while ``storm`` clients log
    in back to back."""
    stop = threading.Event()
    logins: list[tuple[bool, float]] = []
    forms = demo_logins()

    def storm_client(number: int) -> None:
        session = requests.Session()
        form = forms[number % len(forms)]
        while not stop.is_set():
            logins.append(login(session, base_url, form))

    probes: dict[str, list[float]] = {route: [] for route in PROBES}
    failed = [0]
    headers = {"Authorization": f"Bearer {token}"}

    def probe(route: str) -> None:
        started = time.perf_counter()
        try:
            answer = requests.get(f"{base_url}{route}", headers=headers, timeout=30)
            ok = answer.status_code == 200
        except requests.RequestException:
            ok = False
        if ok:
            probes[route].append((time.perf_counter() - started) * 1000)
        else:
            failed[0] += 1

    stormers = [
        threading.Thread(target=storm_client, args=(n,), daemon=True)
        for n in range(storm)
    ]
    for thread in stormers:
        thread.start()
    if storm:
        time.sleep(1.0)  # the storm under way before the first probe
    senders = []
    started = time.perf_counter()
    sent = 0
    while (now := time.perf_counter() - started) < seconds:
        due = sent * probe_ms / 1000
        if now < due:
            time.sleep(due - now)
            continue
        sender = threading.Thread(
            target=probe, args=(PROBES[sent % len(PROBES)],), daemon=True
        )
        sender.start()
        senders.append(sender)
        sent += 1
    for sender in senders:
        sender.join(timeout=60)
    stop.set()
    for thread in stormers:
        thread.join(timeout=60)
    answered = [ms for ok, ms in logins if ok]
    return Window(
        name, seconds, probes, failed[0], answered, len(logins) - len(answered)
    )


def staff_token(base_url: str, timeout: float = 120.0) -> str:
    """A demo staff member's token, once the demo accounts are opened (the
    gateway opens them as it starts: /healthz may answer a moment before)."""
    form = next(f for f in demo_logins() if f["username"] == "wang.staff")
    deadline = time.monotonic() + timeout
    while True:
        answer = requests.post(f"{base_url}/api/v1/auth/login", json=form, timeout=60)
        if answer.status_code != 401 or time.monotonic() > deadline:
            answer.raise_for_status()
            return answer.json()["token"]
        time.sleep(0.5)


def report(windows: list[Window], args, repo: Path) -> bool:
    print(
        f"\nlogin storm: {args.logins} clients logging in back to back, "
        f"mode {args.mode}, services from {repo}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print("\n| window | route | probes | p50 ms | p99 ms | max ms |")
    print("| --- | --- | --- | --- | --- | --- |")
    for window in windows:
        for route in PROBES:
            print(window.row(route))
    storm = windows[-1]
    rate = len(storm.logins) / storm.seconds
    print(
        f"\nlogins during the storm: {len(storm.logins)} answered 200 "
        f"({rate:.1f}/s), {storm.failed_logins} failed; login p50 "
        f"{percentile(storm.logins, 50):.0f} ms, p99 "
        f"{percentile(storm.logins, 99):.0f} ms; failed probes "
        f"{sum(w.failed_probes for w in windows)}"
    )
    worst = max(percentile(storm.probes[route], 99) for route in PROBES)
    met = worst < TARGET_P99_MS
    print(
        f"verdict: other routes' p99 during the storm {worst:.1f} ms, target "
        f"< {TARGET_P99_MS:.0f} ms: {'met' if met else 'missed'}"
    )
    return met


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.login_storm")
    parser.add_argument("--logins", type=int, default=10, help="storm clients")
    parser.add_argument("--seconds", type=float, default=15.0, help="per window")
    parser.add_argument("--probe-ms", type=float, default=100.0, help="probe period")
    parser.add_argument("--mode", default="one", choices=("one", "per-service"))
    parser.add_argument(
        "--repo", type=Path, default=REPO, help="checkout whose services run"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    vhost = f"bench-login-{uuid.uuid4().hex[:8]}"
    repo = args.repo.resolve()
    platform = None
    try:
        amqp_uri = create_vhost(vhost)
        platform = Platform(repo, args.mode, amqp_uri)
        progress(f"starting services from {repo} on {platform.base_url}")
        platform.start()
        token = staff_token(platform.base_url)
        # every path once before the clock runs
        probe_window(platform.base_url, token, 2.0, args.probe_ms, 2, "warm-up")
        progress(f"quiet window: {args.seconds:.0f}s of probes, no logins")
        quiet = probe_window(
            platform.base_url, token, args.seconds, args.probe_ms, 0, "quiet"
        )
        progress(f"storm window: {args.seconds:.0f}s, {args.logins} login clients")
        storm = probe_window(
            platform.base_url,
            token,
            args.seconds,
            args.probe_ms,
            args.logins,
            f"{args.logins} logins at once",
        )
    except Exception:
        if platform is not None:
            progress(f"services log (tail):\n{platform.log_tail() or '(empty)'}")
        raise
    finally:
        progress("stopping services, removing the vhost")
        if platform is not None:
            platform.stop()
        delete_vhost(vhost)
    report([quiet, storm], args, repo)
    return 0


if __name__ == "__main__":
    sys.exit(main())
