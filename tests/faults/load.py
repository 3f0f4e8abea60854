"""Customers filing demands online and staff referring them, while a fault
strikes a third of the way through."""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections.abc import Callable

from tests.api_client import STAFF, ApiClient
from tests.faults.test_crash_and_broker_restart import post_until_registered


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
        for _ in range(demands // 3):
            referred.acquire()
        fault()
        return {f.result() for f in futures}
