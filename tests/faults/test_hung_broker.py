"""Fault: the broker hangs (a proxy stops forwarding, sockets stay open), then
comes back, while customers file demands online.

Calls through the hung broker give up after QI_RPC_TIMEOUT_SECONDS and the
client tries again with the same idempotency key; intake's relay, whose
confirms do not come, gives up after its confirm timeout, connects again and
publishes the batch again once bytes flow. Every demand is registered once
and noted once by evaluation.
"""

from __future__ import annotations

import concurrent.futures
import signal
import subprocess
import sys
import threading
import time
from urllib.parse import urlparse

import pytest

from tests import support
from tests.faults import tally
from tests.faults.test_crash_and_broker_restart import post_until_registered

DEMANDS = 100
STALL_SECONDS = 14  # longer than the relay's 10 s wait for confirms


class StallProxy:
    """tests/faults/stall_proxy.py as a child process, in front of RabbitMQ."""

    def __init__(self, target_uri: str):
        where = urlparse(target_uri)
        self.port = support.free_port()
        self.uri = target_uri.replace(
            f"{where.hostname}:{where.port or 5672}", f"127.0.0.1:{self.port}"
        )
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.faults.stall_proxy",
                str(self.port),
                where.hostname,
                str(where.port or 5672),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout.readline().strip() == "listening"

    def stall(self) -> None:
        self.process.send_signal(signal.SIGUSR1)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGUSR2)

    def close(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


@pytest.mark.slow_fault
def test_a_hung_broker_loses_and_doubles_nothing(own_vhost, tmp_path, fault_report):
    proxy = StallProxy(own_vhost)
    urls, cleanup = support.database_urls("postgres", tmp_path)
    env = {
        "QI_AMQP_URI": proxy.uri,
        "QI_SERVICES": "intake,evaluation,gateway",
        "QI_INTAKE_DATABASE_URL": urls["intake"],
        "QI_EVALUATION_DATABASE_URL": urls["evaluation"],
        "QI_RPC_TIMEOUT_SECONDS": "3",
        "QI_VAR_DIR": str(tmp_path),
    }
    services = support.ServicesProcess(env, ("intake", "evaluation", "gateway"))
    registered = threading.Semaphore(0)
    deadline = time.monotonic() + 120

    def file(i: int) -> str:
        demand_id = post_until_registered(services.base_url, f"hung-{i}", deadline)
        registered.release()
        return demand_id

    try:
        services.start()
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            futures = [pool.submit(file, i) for i in range(DEMANDS)]
            for _ in range(DEMANDS // 3):
                registered.acquire()
            proxy.stall()
            time.sleep(STALL_SECONDS)
            proxy.resume()
            ids = {f.result() for f in futures}

        url = urls["evaluation"]
        support.wait_for(
            lambda: tally.facts_noted(url)[1] >= DEMANDS, timeout=60, interval=0.2
        )
        time.sleep(1.0)  # room for a late duplicate
        noted, distinct = tally.facts_noted(url)
        stored = tally.first_events(urls["intake"])
        scrape = services.scrape()
        relay_errors = support.metric_value(scrape, "qi_intake_relay_errors_total")
        ignored = support.metric_value(scrape, "qi_evaluation_duplicates_ignored_total")
        fault_report(
            "hung broker (proxy stalls 14 s)",
            sent=DEMANDS,
            effects=distinct,
            lost=DEMANDS - distinct,
            duplicated=(noted - distinct) + (stored - DEMANDS),
            parked=len(tally.parked_rows(url)),
            note=f"{stored} demands stored; {relay_errors:.0f} relay timeouts "
            f"recovered from, {ignored:.0f} re-published duplicates ignored",
        )
        assert len(ids) == DEMANDS and stored == DEMANDS
        assert (noted, distinct) == (DEMANDS, DEMANDS)
        assert tally.parked_rows(url) == []
    except BaseException:
        print(services.output()[-6000:])  # what the services said, on failure
        raise
    finally:
        services.kill()
        proxy.close()
        cleanup()
