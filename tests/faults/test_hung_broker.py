"""Fault: the broker hangs (a proxy stops forwarding, sockets stay open), then
comes back, while customers file demands online.

Calls through the hung broker give up after QI_RPC_TIMEOUT_SECONDS and the
client tries again with the same idempotency key; intake's relay, whose
confirms do not come, gives up after its confirm timeout, connects again and
publishes the batch again once bytes flow (a demand stored while the broker
hangs makes sure the relay meets the hang). Every demand is registered once
and noted once by evaluation.
"""

from __future__ import annotations

import concurrent.futures
import os
import signal
import subprocess
import sys
import threading
import time
from urllib.parse import urlparse

import pytest
from eventsourcing.cryptography import AESCipher

from tests import support
from tests.faults import tally
from tests.faults.load import post_until_registered, wait_until_done

DEMANDS = 100
SENT = DEMANDS + 1  # and one stored while the broker hangs
STALL_SECONDS = 14  # longer than the relay's 10 s wait for confirms
FORM = {
    "applicant": "镇江某电梯部件有限公司",
    "contact_phone": "0511-85501234",
    "service_item_code": "6.3",
    "description": "电梯导轨尺寸检测",
    "channel": "window",
}


def store_a_demand(intake_url: str) -> str:
    from services.intake.application import IntakeApplication

    intake = IntakeApplication(intake_url)
    try:
        return intake.register_demand(FORM)["id"]
    finally:
        intake.close()


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
def test_a_hung_broker_loses_and_doubles_nothing(
    own_vhost, tmp_path, monkeypatch, fault_report
):
    proxy = StallProxy(own_vhost)
    urls, cleanup = support.database_urls("postgres", tmp_path)
    # a key shared with the demand this test stores itself, below
    monkeypatch.setenv("QI_CIPHER_KEY", AESCipher.create_key(num_bytes=32))
    env = {
        "QI_CIPHER_KEY": os.environ["QI_CIPHER_KEY"],
        "QI_AMQP_URI": proxy.uri,
        # catalog: intake checks a demand's item with it at registration
        "QI_SERVICES": "intake,catalog,evaluation,gateway",
        "QI_INTAKE_DATABASE_URL": urls["intake"],
        "QI_CATALOG_DATABASE_URL": urls["catalog"],
        "QI_EVALUATION_DATABASE_URL": urls["evaluation"],
        "QI_RPC_TIMEOUT_SECONDS": "3",
        "QI_VAR_DIR": str(tmp_path),
    }
    services = support.ServicesProcess(
        env, ("intake", "catalog", "evaluation", "gateway")
    )
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
            wait_until_done(registered, DEMANDS // 3, futures, deadline)
            proxy.stall()
            began = time.monotonic()
            # a demand stored while the broker hangs (at a window, as intake
            # itself would): its relay must publish into the hang
            ids_stalled = store_a_demand(urls["intake"])
            time.sleep(STALL_SECONDS - (time.monotonic() - began))
            proxy.resume()
            ids = {f.result() for f in futures} | {ids_stalled}

        url = urls["evaluation"]
        support.wait_for(
            lambda: tally.facts_noted(url)[1] >= SENT, timeout=60, interval=0.2
        )
        time.sleep(1.0)  # room for a late duplicate
        noted, distinct = tally.facts_noted(url)
        stored = tally.first_events(urls["intake"])
        scrape = services.scrape()
        relay_errors = support.metric_value(scrape, "qi_intake_relay_errors_total")
        ignored = support.metric_value(scrape, "qi_evaluation_duplicates_ignored_total")
        fault_report(
            "hung broker (proxy stalls 14 s)",
            sent=SENT,
            effects=distinct,
            lost=SENT - distinct,
            duplicated=(noted - distinct) + (stored - SENT),
            parked=len(tally.parked_rows(url)),
            note=f"{stored} demands stored; {relay_errors:.0f} relay timeouts "
            f"recovered from, {ignored:.0f} re-published duplicates ignored",
        )
        assert len(ids) == SENT and stored == SENT
        assert (noted, distinct) == (SENT, SENT)
        assert tally.parked_rows(url) == []
        assert relay_errors >= 1  # the confirms that never came were noticed
    except BaseException:
        print(services.output()[-6000:])  # what the services said, on failure
        raise
    finally:
        services.kill()
        proxy.close()
        cleanup()
