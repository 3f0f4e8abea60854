"""bench.login_storm's own logic against a stand-in gateway: probes go out
on their schedule, and a login answered 429 is tried again after Retry-After."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.login_storm import PROBES, percentile, probe_window


@pytest.fixture
def busy_gateway():
    """Every other login is refused as too many at once (429, Retry-After 0);
    probes are answered at once."""
    seen = {"logins": 0, "refused": 0, "probes": 0}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self, status: int, body: dict, headers: dict | None = None):
            data = json.dumps(body).encode()
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            with lock:
                seen["logins"] += 1
                refuse = seen["logins"] % 2 == 1
                seen["refused"] += refuse
            if refuse:
                self._answer(429, {"title": "busy"}, {"Retry-After": "0"})
            else:
                self._answer(200, {"token": "t"})

        def do_GET(self):
            with lock:
                seen["probes"] += 1
            self._answer(200, {"path": self.path})

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", seen
    server.shutdown()
    server.server_close()


def test_probes_go_out_in_turn_and_refused_logins_are_tried_again(
    busy_gateway,
):
    base, seen = busy_gateway
    window = probe_window(base, "t", 1.0, 50.0, 2, "test")

    first, second = (len(window.probes[route]) for route in PROBES)
    # one every 50 ms for 1 s, the routes in turn (a loaded machine may wake
    # the sender after the window's end and so send the last one or two less)
    assert 16 <= first + second <= 20 and abs(first - second) <= 1
    assert window.failed_probes == 0
    assert seen["refused"] >= 1 and window.failed_logins == 0
    # each login counted once, answered 200 after its retries
    assert len(window.logins) == seen["logins"] - seen["refused"]


def test_percentiles_of_the_report():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 51.0
    assert percentile(values, 99) == 100.0
    assert percentile([], 99) != percentile([], 99)  # nan: nothing measured
