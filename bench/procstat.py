"""CPU time of processes over a window, from /proc (Linux only).

A ``Group`` is a named set of processes whose CPU time is summed: one process,
a process and its children, or every process with a given name (PostgreSQL's
backends, RabbitMQ's ``beam.smp``). ``CpuWindow`` snapshots each group at the
start and end of a window and reports the difference, next to the machine's
total busy time from /proc/stat.

A process's total counts its reaped children too (``cutime``/``cstime``), so a
PostgreSQL backend that exits during the window is still counted: its time
moves from its own ``utime``/``stime`` into the postmaster's ``cutime``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
PROC = Path("/proc")


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat from field 3 (state) on; None if gone."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return text.rpartition(")")[2].split()


def cpu_seconds(pid: int, reaped: bool = False) -> float:
    """utime + stime of a process (+ its reaped children's); 0 if gone."""
    fields = _stat(pid)
    if fields is None:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if reaped:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / TICK


def comm(pid: int) -> str:
    try:
        return (PROC / str(pid) / "comm").read_text().strip()
    except OSError:
        return ""


def argv(pid: int) -> list[str]:
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def children(pid: int) -> list[int]:
    """Direct children of a process (every thread's children file)."""
    found: list[int] = []
    for task in (PROC / str(pid) / "task").glob("*"):
        try:
            found.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return sorted(set(found))


def pids_named(name: str) -> list[int]:
    return [
        int(entry.name)
        for entry in PROC.iterdir()
        if entry.name.isdigit() and comm(int(entry.name)) == name
    ]


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine was not idle (summed over cores)."""
    with open(PROC / "stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal (guest is inside user)
    return (sum(values[:8]) - values[3] - values[4]) / TICK


@dataclass
class Group:
    """A label and how to find its processes (looked up at each snapshot)."""

    label: str
    pids: Callable[[], list[int]]
    reaped: bool = True

    @classmethod
    def process(cls, label: str, pid: int, reaped: bool = True) -> Group:
        return cls(label, lambda: [pid], reaped)

    @classmethod
    def named(cls, label: str, name: str) -> Group:
        return cls(label, lambda: pids_named(name))

    def seconds(self) -> float:
        return sum(cpu_seconds(pid, self.reaped) for pid in self.pids())


@dataclass
class CpuUse:
    label: str
    seconds: float


@dataclass
class CpuReport:
    wall: float
    rows: list[CpuUse]
    machine: float  # busy CPU seconds of the whole machine
    cores: int

    @property
    def accounted(self) -> float:
        return sum(row.seconds for row in self.rows)


class CpuWindow:
    """CPU seconds each group used between ``start()`` and ``stop()``."""

    def __init__(self, groups: list[Group]):
        self.groups = groups
        self._before: list[float] = []
        self._machine = 0.0
        self._started = 0.0

    def start(self) -> None:
        self._before = [group.seconds() for group in self.groups]
        self._machine = machine_busy_seconds()
        self._started = time.perf_counter()

    def stop(self) -> CpuReport:
        wall = time.perf_counter() - self._started
        machine = machine_busy_seconds() - self._machine
        rows = [
            CpuUse(group.label, max(0.0, group.seconds() - before))
            for group, before in zip(self.groups, self._before, strict=True)
        ]
        return CpuReport(wall, rows, machine, os.cpu_count() or 1)
