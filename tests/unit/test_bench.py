"""The bench's own logic: arrivals kept open loop, and the summary's verdicts."""

from __future__ import annotations

import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.casehistory import CaseHistoryRun, Latency
from bench.commands import StaffCommands
from bench.endtoend import EndToEnd
from bench.halfload import Arrival, HalfLoad, OpenLoop
from bench.procstat import CpuReport
from bench.run import ModeRun, summary_rows

ANSWER_SECONDS = 0.3


@pytest.fixture
def slow_intake():
    """An HTTP server that takes ANSWER_SECONDS to accept each demand."""
    numbers = itertools.count(1)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            time.sleep(ANSWER_SECONDS)
            body = json.dumps({"id": f"demand-{next(numbers)}"}).encode()
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_arrivals_keep_their_schedule_while_answers_are_slow(slow_intake):
    rate, seconds = 20.0, 1.0
    arrivals = OpenLoop(slow_intake, rate, seconds).run()

    assert len(arrivals) == 20
    assert len({a.demand_id for a in arrivals if a.demand_id}) == 20
    assert all(a.answered - a.sent >= ANSWER_SECONDS for a in arrivals)
    # closed loop, one client would need 20 x 0.3 s; open loop sends on time
    span = max(a.sent for a in arrivals) - min(a.sent for a in arrivals)
    assert span < seconds + 0.5
    due = sorted(a.scheduled for a in arrivals)
    gaps = [later - earlier for earlier, later in itertools.pairwise(due)]
    assert all(abs(gap - 1 / rate) < 1e-6 for gap in gaps)


def _cpu() -> CpuReport:
    return CpuReport(wall=1.0, rows=[], machine=0.0, cores=2)


def _end_to_end(mode: str, demands: int, seconds: float) -> EndToEnd:
    return EndToEnd(mode, demands, 0, seconds, seconds, [], [], _cpu(), _cpu())


def _half_load(lags_ms: list[float]) -> HalfLoad:
    arrivals = [Arrival(0.0, 0.0, 0.01, f"d{i}") for i in range(len(lags_ms))]
    lags = [lag / 1000 for lag in lags_ms]
    return HalfLoad("one", 80.0, 40.0, 10.0, arrivals, lags, lags, 0.1, _cpu())


def _case_history(
    events: int, history: tuple, raw: tuple, case_events: tuple
) -> CaseHistoryRun:
    """(d) at one size from p50/p99 pairs of its three reads, in ms."""

    def latency(pair: tuple[float, float]) -> Latency:
        return Latency(*pair, max=pair[1], waited_p99=0.0, net_p99=pair[1])

    return CaseHistoryRun(
        events,
        history,
        raw,
        5000.0,
        case_events,
        latency(history),
        latency(raw),
        latency(case_events),
        load=1.0,
        cores=2,
    )


def _rows_by_figure(rows) -> dict[str, tuple[str, ...]]:
    return {row[0]: row for row in rows}


def test_summary_compares_each_figure_with_its_baseline_and_target():
    append, confirmed = 700.0, 1400.0
    # each mode against the (a) measured just before it
    fast = ModeRun(_end_to_end("per-service", 400, 1.0), 800.0)  # 400/s of 800/s
    slow = ModeRun(
        _end_to_end("one", 100, 1.0),
        append,
        half=_half_load([20.0] * 98 + [150.0, 150.0]),
        staff=StaffCommands("one", 16, 100, 420, 0, 1.0, [], _cpu()),
    )
    history = _case_history(1_000_000, (2.0, 4.0), (0.5, 1.0), (3.0, 25.0))

    rows = _rows_by_figure(summary_rows(append, confirmed, [slow, fast], [history]))

    assert rows["(c) end to end [per-service]"][2:] == (
        "min(a,b) 800/s",
        f"{400 / 800:.2f}",
        ">= 0.50",
        "met",
    )
    assert rows["(c) end to end [one]"][5] == "MISSED"
    assert rows["(e) staff commands [one]"][3] == f"{420 / 700:.2f}"
    assert rows["(e) staff commands [one]"][5] == "met"
    lag = rows["(f) lag p50/p99 at 40.0/s [one]"]
    assert lag[1] == "20/150 ms" and lag[3] == "3.00" and lag[5] == "MISSED"
    read = rows["(d) history read p50/p99 at 1M"]
    assert read[3] == "4.0" and read[5] == "met" and "(1M)" in read[4]
    assert rows["    case_events p50/p99 at 1M"][5] == "MISSED"
    assert "(d) at 1M events" not in rows


def test_summary_says_when_the_1m_point_was_not_run():
    history = _case_history(10_000, (1.0, 2.0), (0.2, 0.4), (2.0, 3.0))
    run = ModeRun(_end_to_end("one", 100, 1.0), 700.0)

    rows = _rows_by_figure(summary_rows(700.0, 1400.0, [run], [history]))

    assert rows["(d) at 1M events"][1] == "not run"
    assert rows["(d) history read p50/p99 at 10k"][5] == "met"
