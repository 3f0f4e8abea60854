"""(e) staff commands through the gateway: commands/s with N clients.

A staff member of the demands' institution logs in (a demo account, which the
bench's services open at start) and N clients work the demands (c) registered:
each takes a demand (7.4.2) and records a follow-up on it (8.3.5), two
authenticated commands over HTTP, each a token check, the demand read from
intake for the institution check, and the command stored by intake (one
event, outboxed for the relay). The rate is commands answered 200 per second
of wall time, from the first command to the last answer.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests

from bench.common import progress
from bench.endtoend import DEMO_ACCOUNTS, Platform, cpu_window
from bench.procstat import CpuReport
from shared import config

NOTE = {"note": "已电话联系客户，约定送样时间"}


@dataclass
class StaffCommands:
    mode: str
    clients: int
    demands: int
    commands: int  # answered 200
    failed: int
    seconds: float
    latencies: list[float]  # seconds, every command
    cpu: CpuReport

    @property
    def rate(self) -> float:
        return self.commands / self.seconds


def staff_login(base_url: str) -> str:
    """A bearer token of a demo staff account of the institution that receives
    the anonymous demands (the front door's)."""
    institution = config.get("QI_FRONT_DOOR_INSTITUTION")
    accounts = json.loads(DEMO_ACCOUNTS.read_text(encoding="utf-8"))["accounts"]
    staff = next(
        a for a in accounts if a["role"] == "staff" and a["institution"] == institution
    )
    reply = requests.post(
        f"{base_url}/api/v1/auth/login",
        json={"username": staff["username"], "password": staff["password"]},
        timeout=10,
    )
    reply.raise_for_status()
    return reply.json()["token"]


class StaffClients:
    """Threads that each take a demand and record a follow-up on it."""

    def __init__(self, base_url: str, token: str, clients: int):
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {token}"}
        self.clients = clients
        self._local = threading.local()

    def _command(self, path: str, body: dict) -> tuple[bool, float]:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        started = time.perf_counter()
        try:
            response = session.post(
                f"{self.base_url}{path}", json=body, headers=self.headers, timeout=30
            )
            ok = response.status_code == 200
        except requests.RequestException:
            ok = False
        return ok, time.perf_counter() - started

    def _work(self, demand_id: str) -> list[tuple[bool, float]]:
        path = f"/api/v1/demands/{demand_id}"
        return [
            self._command(f"{path}/take", {}),
            self._command(f"{path}/follow-ups", NOTE),
        ]

    def run(self, demand_ids: list[str]) -> list[tuple[bool, float]]:
        pool = ThreadPoolExecutor(self.clients, thread_name_prefix="staff")
        try:
            return [done for pair in pool.map(self._work, demand_ids) for done in pair]
        finally:
            pool.shutdown(cancel_futures=True)


def bench_staff_commands(
    platform: Platform, demand_ids: list[str], clients: int
) -> StaffCommands:
    tag = f"(e) [{platform.mode}]"
    token = staff_login(platform.base_url)
    pool = StaffClients(platform.base_url, token, clients)
    pool.run(demand_ids[:2])  # the command path once before the clock runs
    work = demand_ids[2:]
    progress(f"{tag} {2 * len(work)} staff commands with {clients} clients")
    cpu = cpu_window(platform.services)
    cpu.start()
    started = time.perf_counter()
    done = pool.run(work)
    seconds = time.perf_counter() - started
    cpu_report = cpu.stop()
    commands = sum(1 for ok, _ in done if ok)
    progress(f"{tag} {commands / seconds:.1f} commands/s")
    return StaffCommands(
        mode=platform.mode,
        clients=clients,
        demands=len(work),
        commands=commands,
        failed=len(done) - commands,
        seconds=seconds,
        latencies=[latency for _, latency in done],
        cpu=cpu_report,
    )
