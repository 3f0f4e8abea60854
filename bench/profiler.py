"""py-spy on a services process during the bench, summarised as text.

``Profiler`` records one process. ``BusiestProfiler`` is handed several
candidate processes (the children of ``QI_PROCESSES=per-service``), watches
their CPU time for a moment, then records the busiest three.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from bench.procstat import cpu_seconds


class Profiler:
    """``py-spy record`` (raw format) on a process, summarised when done."""

    SECONDS = 10
    RATE = 100

    def __init__(self, process: subprocess.Popen, output: str):
        self.process = process
        self.output = output
        self.started = time.monotonic()
        self.seconds: float = self.SECONDS

    @classmethod
    def start(
        cls, pid: int, output: str, progress: Callable[[str], None]
    ) -> Profiler | None:
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

    def stop(self) -> None:
        """Stop sampling; on SIGINT py-spy still writes what it recorded."""
        if self.process.poll() is None:
            self.seconds = time.monotonic() - self.started
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def finish(self) -> list[str]:
        """Stop sampling and summarise the recording."""
        self.stop()
        return summarise_profile(Path(self.output), self.seconds * self.RATE)


class BusiestProfiler:
    """Record the ``count`` candidates that used the most CPU in their first
    ``delay`` s, each with its own py-spy (issue 22 asks the top costs per
    process). With one candidate it starts at once. ``label`` names the ones
    recorded; each one's raw profile goes to ``output`` with its name added
    when more than one is recorded."""

    def __init__(
        self,
        candidates: dict[int, str],
        output: str,
        progress: Callable[[str], None],
        delay: float = 2.0,
        count: int = 3,
    ):
        self.candidates = candidates
        self.output = output
        self.progress = progress
        self.delay = delay if len(candidates) > 1 else 0.0
        self.count = count
        self.label = ""
        self.profilers: list[tuple[str, Profiler]] = []
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="profiler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        before = {pid: cpu_seconds(pid) for pid in self.candidates}
        if self._stopped.wait(self.delay):
            return
        used = {pid: cpu_seconds(pid) - cpu for pid, cpu in before.items()}
        busiest = sorted(used, key=used.__getitem__, reverse=True)[: self.count]
        with self._lock:
            if self._stopped.is_set():
                return
            self.label = ", ".join(self.candidates[pid] for pid in busiest)
            if len(self.candidates) > 1:
                shares = ", ".join(
                    f"{self.candidates[p]} {cpu / self.delay:.0%}"
                    for p, cpu in used.items()
                )
                self.progress(f"(c) busiest over {self.delay:.0f}s: {shares}")
            for pid in busiest:
                name = self.candidates[pid]
                output = self.output
                if len(busiest) > 1:
                    path = Path(self.output)
                    output = str(path.with_name(f"{path.stem}-{name}{path.suffix}"))
                profiler = Profiler.start(pid, output, self.progress)
                if profiler is not None:
                    self.profilers.append((name, profiler))

    def stop(self) -> None:
        with self._lock:
            self._stopped.set()
        self._thread.join()
        for _, profiler in self.profilers:
            profiler.stop()

    def finish(self) -> list[str]:
        self.stop()
        if not self.profilers:
            return ["(not recorded: the window ended before sampling started)"]
        if len(self.profilers) == 1:
            return self.profilers[0][1].finish()
        lines = []
        for name, profiler in self.profilers:
            lines += [f"[{name}]", *profiler.finish()]
        return lines


def _frame_package(frame: str) -> str:
    """'func (psycopg/pq/pq_ctypes.py)' -> 'psycopg'; stdlib 'json/...' -> 'json'."""
    where = frame.rsplit("(", 1)[-1].rstrip(")")
    return where.split("/")[0].removesuffix(".py") or "?"


def _is_ours(frame: str) -> bool:
    return _frame_package(frame) in ("shared", "services")


def _idle_pool_thread(frames: list[str]) -> bool:
    """An eventlet thread-pool worker waiting for work (``tworker`` blocked in
    ``Queue.get``): py-spy reports that wait as running, and in `one` mode it
    was more than half the samples (issue 22), hiding where the time went."""
    return frames[-1].startswith("Condition.wait") and any(
        f.startswith("tworker ") for f in frames
    )


def summarise_profile(path: Path, possible_samples: float, top: int = 10) -> list[str]:
    """Busy share; own time by package and function; our code inclusive.
    Idle thread-pool workers are left out (``_idle_pool_thread``)."""
    if not path.exists():
        return ["(no profile written)"]
    packages: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        if _idle_pool_thread(frames):
            continue
        total += count
        packages[_frame_package(frames[-1])] += count
        functions[frames[-1]] += count
        for frame in {f for f in frames if _is_ours(f)}:
            ours[frame] += count
    if not total:
        return ["(no samples)"]
    busy = total / possible_samples if possible_samples else 0

    def table(title: str, counts: Counter[str]) -> list[str]:
        rows = [f"  {c / total:6.1%}  {k}" for k, c in counts.most_common(top)]
        return [title, *rows]

    return [
        f"samples: {total} (process on CPU ~{busy:.0%} of the sampled time)",
        *table("own time by package:", packages),
        *table("own time by function:", functions),
        *table("our code (shared/, services/), inclusive:", ours),
    ]
