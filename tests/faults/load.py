"""Customers filing demands online and staff referring them, while a fault
strikes a third of the way through."""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections.abc import Callable

import requests

from tests.api_client import STAFF, ApiClient

FORM = {
    "applicant": "常州某新材料有限公司",
    "contact_phone": "0519-86001234",
    "service_item_code": "6.3",
    "description": "复合材料拉伸性能检测",
    "channel": "website",
}


def post_until_registered(base_url: str, key: str, deadline: float) -> str:
    """A client that retries the same submission (same key) until it is taken."""
    session = requests.Session()
    while time.monotonic() < deadline:
        try:
            reply = session.post(
                f"{base_url}/api/v1/demands",
                json=FORM,
                headers={"Idempotency-Key": key},
                timeout=15,
            )
            if reply.status_code == 201:
                return reply.json()["id"]
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{key} was never registered")


def wait_until_done(
    done: threading.Semaphore,
    count: int,
    futures: list[concurrent.futures.Future],
    deadline: float,
) -> None:
    """Take ``count`` releases of ``done`` before ``deadline``. A client that
    gave up never releases: its error is raised here instead of the wait
    hanging for ever (a hung test tells nobody what went wrong)."""
    for taken in range(count):
        while not done.acquire(timeout=1.0):
            for future in futures:
                if future.done() and future.exception() is not None:
                    raise future.exception()
            if time.monotonic() > deadline:
                raise TimeoutError(f"{taken} of {count} clients done by the deadline")


def refer_during(
    base_url: str,
    demands: int,
    fault: Callable[[], None],
    key_prefix: str,
    seconds: float = 150,
) -> set[str]:
    """File ``demands`` demands (one idempotency key each) and refer each
    (8.3.4), four clients at once; ``fault()`` runs once a third are referred.
    Every client tries again until it succeeds. Returns the demand ids."""
    referred = threading.Semaphore(0)
    deadline = time.monotonic() + seconds
    staff = threading.local()

    def file_and_refer(i: int) -> str:
        demand_id = post_until_registered(base_url, f"{key_prefix}-{i}", deadline)
        while not hasattr(staff, "client"):
            try:
                staff.client = ApiClient(base_url).login(*STAFF)
            except (AssertionError, OSError):
                time.sleep(0.2)
        staff.client.refer(demand_id, deadline)
        referred.release()
        return demand_id

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(file_and_refer, i) for i in range(demands)]
        wait_until_done(referred, demands // 3, futures, deadline)
        fault()
        return {f.result() for f in futures}
