"""Propagation lag at half of peak load: an open-loop constant arrival rate.

(c) measures the peak: as many demands as 16 clients can push. A closed loop
like that queues work inside the services, so its lag is mostly waiting. Here
demands arrive on a fixed schedule instead, one every 1/rate seconds at half
the peak (c) measured in the same mode, whatever the answers do: a POST is
sent at its scheduled time by whichever sender thread is free, so a slow
answer does not hold back the next arrival (that is what open loop means).
If every sender is busy the arrival starts late; the lateness is recorded
and shown, so a schedule that was not kept is visible.

The lag of a demand is read back from the stores as in (c): its Registered
event in intake to its case record's Opened event in evaluation. The lag from
the moment the POST was sent is shown next to it (same clock, one machine).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import requests

from bench.common import progress
from bench.endtoend import FORM, Platform, cpu_window
from bench.procstat import CpuReport

SENDERS = 64  # threads that send the scheduled POSTs (enough to stay open-loop)


@dataclass
class Arrival:
    scheduled: float  # time.time() it was due
    sent: float  # time.time() the POST was sent
    answered: float
    demand_id: str | None


@dataclass
class HalfLoad:
    mode: str
    peak: float  # demands/s (c) measured in this mode
    rate: float  # the arrival rate offered: half of peak
    seconds: float  # how long arrivals ran
    arrivals: list[Arrival]
    lags: list[float]  # seconds, Registered -> case record Opened
    lags_from_send: list[float]  # seconds, POST sent -> case record Opened
    drained_seconds: float  # from the last arrival until every record
    cpu: CpuReport

    @property
    def accepted(self) -> int:
        return sum(1 for a in self.arrivals if a.demand_id)

    @property
    def achieved_rate(self) -> float:
        return self.accepted / self.seconds

    @property
    def late(self) -> list[float]:
        """Seconds each POST was sent after its scheduled time."""
        return [a.sent - a.scheduled for a in self.arrivals]


class OpenLoop:
    """Send one POST every ``1/rate`` s for ``seconds`` on a pool of senders."""

    def __init__(self, base_url: str, rate: float, seconds: float):
        self.url = f"{base_url}/api/v1/demands"
        self.rate = rate
        self.count = max(1, round(rate * seconds))
        self._local = threading.local()

    def _post(self, scheduled: float) -> Arrival:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        sent = time.time()
        demand_id = None
        try:
            response = session.post(self.url, json=FORM, timeout=30)
            if response.status_code == 201:
                demand_id = response.json()["id"]
        except requests.RequestException:
            pass
        return Arrival(scheduled, sent, time.time(), demand_id)

    def run(self) -> list[Arrival]:
        pool = ThreadPoolExecutor(SENDERS, thread_name_prefix="arrival")
        futures = []
        try:
            start = time.time() + 0.1
            for i in range(self.count):
                due = start + i / self.rate
                pause = due - time.time()
                if pause > 0:
                    time.sleep(pause)
                futures.append(pool.submit(self._post, due))
            return [future.result() for future in futures]
        finally:
            pool.shutdown(cancel_futures=True)


def bench_half_load(platform: Platform, peak: float, seconds: float) -> HalfLoad:
    """Offer half of ``peak`` demands/s for ``seconds``; lag of each demand."""
    rate = peak / 2
    tag = f"(f) [{platform.mode}]"
    before = platform.case_records()
    cpu = cpu_window(platform.services)
    loop = OpenLoop(platform.base_url, rate, seconds)
    progress(f"{tag} {loop.count} demands at {rate:.1f}/s for {seconds:.0f}s")
    cpu.start()
    arrivals = loop.run()
    offered_until = time.perf_counter()
    ids = {a.demand_id for a in arrivals if a.demand_id}
    platform.wait_for_case_records(before + len(ids), 60 + len(ids) / 10)
    drained = time.perf_counter() - offered_until
    cpu_report = cpu.stop()
    progress(f"{tag} every case record in {drained:.2f}s after the last arrival")
    stamps = platform.stores.case_timestamps(ids)
    sent = {a.demand_id: a.sent for a in arrivals if a.demand_id}
    return HalfLoad(
        mode=platform.mode,
        peak=peak,
        rate=rate,
        seconds=max(a.sent for a in arrivals)
        - min(a.sent for a in arrivals)
        + 1 / rate,
        arrivals=arrivals,
        lags=[(opened - start).total_seconds() for start, opened in stamps.values()],
        lags_from_send=[
            (opened - datetime.fromtimestamp(sent[d], UTC)).total_seconds()
            for d, (_, opened) in stamps.items()
        ],
        drained_seconds=drained,
        cpu=cpu_report,
    )
