"""py-spy on a services process during the bench, summarised as text.

``Profiler`` records one process. ``BusiestProfiler`` is handed several
candidate processes (the children of ``QI_PROCESSES=per-service``), watches
their CPU time for a moment, then records the busiest one.
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
    """Record whichever candidate used the most CPU in its first ``delay`` s.

    With one candidate it starts at once. ``label`` names the one recorded.
    """

    def __init__(
        self,
        candidates: dict[int, str],
        output: str,
        progress: Callable[[str], None],
        delay: float = 2.0,
    ):
        self.candidates = candidates
        self.output = output
        self.progress = progress
        self.delay = delay if len(candidates) > 1 else 0.0
        self.label = ""
        self.profiler: Profiler | None = None
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="profiler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        before = {pid: cpu_seconds(pid) for pid in self.candidates}
        if self._stopped.wait(self.delay):
            return
        used = {pid: cpu_seconds(pid) - cpu for pid, cpu in before.items()}
        pid = max(used, key=used.__getitem__)
        with self._lock:
            if self._stopped.is_set():
                return
            self.label = self.candidates[pid]
            if len(self.candidates) > 1:
                shares = ", ".join(
                    f"{self.candidates[p]} {cpu / self.delay:.0%}"
                    for p, cpu in used.items()
                )
                self.progress(f"(c) busiest over {self.delay:.0f}s: {shares}")
            self.profiler = Profiler.start(pid, self.output, self.progress)

    def stop(self) -> None:
        with self._lock:
            self._stopped.set()
        self._thread.join()
        if self.profiler is not None:
            self.profiler.stop()

    def finish(self) -> list[str]:
        self.stop()
        if self.profiler is None:
            return ["(not recorded: the window ended before sampling started)"]
        return self.profiler.finish()


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
