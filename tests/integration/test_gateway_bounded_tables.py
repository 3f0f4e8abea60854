"""Issue 18: no table grows with anonymous traffic. 10,000 public queries —
progress and complaint look-ups by random codes, catalog reads with random
query strings, and demands filed without a login under random
Idempotency-Keys — leave every table of every service bounded by the rate
limits, not by the number of queries: a guess refused is not stored, a
write past QI_ANONYMOUS_WRITES_PER_HOUR is refused with 429 and Retry-After.

Every service runs in this process on the real RabbitMQ, stores in SQLite
files (each query is one HTTP request through the gateway).
"""

import os
import secrets
import string
import time
from collections import Counter

import eventlet
import pytest
import requests
from sqlalchemy import func, inspect, select, table

from services.catalog.service import CatalogService
from services.complaints.service import ComplaintsService
from services.evaluation.service import EvaluationService
from services.gateway.service import GatewayService
from services.intake.service import IntakeService
from services.notify.service import NotifyService
from services.referral.service import ReferralService
from shared.persistence import KernelStore
from tests import support

QUERIES = int(os.environ.get("QI_TEST_QUERIES", "10000"))
WRITES_PER_HOUR = 20
GUESSES_PER_MINUTE = 30
FORM = {
    "applicant": "苏州某电子科技有限公司",
    "contact_phone": "13812345678",
    "service_item_code": "6.3.1",
    "description": "电子玩具安全性能检测",
    "channel": "website",
}


@pytest.fixture
def backend():
    return "sqlite"


@pytest.fixture
def platform(databases, runner_factory, monkeypatch):
    monkeypatch.setenv("QI_GATEWAY_SECRET", "test-secret-" + "x" * 32)
    monkeypatch.setenv("QI_ANONYMOUS_WRITES_PER_HOUR", str(WRITES_PER_HOUR))
    monkeypatch.setenv("QI_PROGRESS_QUERIES_PER_MINUTE", str(GUESSES_PER_MINUTE))
    runner = runner_factory(
        IntakeService,
        ReferralService,
        CatalogService,
        ComplaintsService,
        EvaluationService,
        NotifyService,
        GatewayService,
        http_port=support.free_port(),
    )
    return f"http://{runner.http_address}", databases


def table_rows(urls: dict[str, str]) -> dict[str, int]:
    """Rows of every table of every service's database."""
    counted = {}
    for service, url in urls.items():
        kernel = KernelStore(service, url)
        try:
            for name in inspect(kernel.engine).get_table_names():
                counted[f"{service}.{name}"] = kernel.scalar(
                    select(func.count()).select_from(table(name))
                )
        finally:
            kernel.close()
    return counted


def random_text(n: int) -> str:
    return "".join(
        secrets.choice(string.ascii_letters + string.digits) for _ in range(n)
    )


def queries(base: str) -> list[tuple[str, str, dict]]:
    """(method, url, options) of each public query, in a shuffled order."""
    asked = []
    for n in range(QUERIES):
        kind = n % 10
        if kind < 4:  # a progress code guessed (A–Z, 2–9, ten characters)
            code = "".join(
                secrets.choice("ABCDEFGHJKMNPQRSTUVWXYZ23456789") for _ in range(10)
            )
            asked.append(("GET", f"{base}/api/v1/progress/{code}", {}))
        elif kind < 6:  # the public catalog with a query string of the client's
            query = {random_text(8): random_text(20), "q": random_text(12)}
            asked.append(("GET", f"{base}/api/v1/catalog/items", {"params": query}))
        elif kind < 8:  # who is qualified for an item the client makes up
            query = {
                "item": f"6.{n % 97}.{n % 13}",
                "on": f"2026-0{n % 9 + 1}-1{n % 9}",
            }
            url = f"{base}/api/v1/catalog/qualified-institutions"
            asked.append(("GET", url, {"params": query}))
        elif kind == 8:  # a complaint code guessed
            code = random_text(12).upper()
            asked.append(("GET", f"{base}/api/v1/public/complaints/{code}", {}))
        else:  # a demand filed without a login, each with a key of its own
            key = {"Idempotency-Key": random_text(40)}
            options = {"json": FORM, "headers": key}
            asked.append(("POST", f"{base}/api/v1/demands", options))
    secrets.SystemRandom().shuffle(asked)
    return asked


def test_10000_public_queries_leave_every_table_bounded(platform):
    base, urls = platform
    # the catalog's seed and every table made, before the traffic
    assert requests.get(f"{base}/api/v1/catalog/items", timeout=10).status_code == 200
    before = table_rows(urls)

    statuses: Counter = Counter()
    cached: Counter = Counter()
    retry_after = []
    session = requests.Session()
    started = time.monotonic()

    def ask(query):
        method, url, options = query
        answer = session.request(method, url, timeout=30, **options)
        statuses[
            (method, url.split("/api/v1/")[1].split("/")[0], answer.status_code)
        ] += 1
        cached[answer.headers.get("Cache-Control", "")] += 1
        if answer.status_code == 429:
            retry_after.append(int(answer.headers["Retry-After"]))
        return answer.status_code

    pool = eventlet.GreenPool(8)
    codes = list(pool.imap(ask, queries(base)))
    seconds = time.monotonic() - started
    after = table_rows(urls)
    grown = {name: after[name] - before.get(name, 0) for name in after}
    print(
        f"{QUERIES} public queries in {seconds:.1f} s; "
        f"answers {sorted(statuses.items())}; "
        f"rows grown {sorted((n, g) for n, g in grown.items() if g)}"
    )

    assert len(codes) == QUERIES
    assert not [c for c in codes if c >= 500]
    # every write past the limit refused, with when to try again
    filed = statuses[("POST", "demands", 201)]
    assert filed == WRITES_PER_HOUR
    assert statuses[("POST", "demands", 429)] == QUERIES // 10 - WRITES_PER_HOUR
    assert retry_after and all(1 <= s <= 3600 for s in retry_after)
    # the catalog answered every read (a query it does not know is refused
    # by name, 400); guesses beyond the limit were refused
    catalog = sum(n for (_, area, status), n in statuses.items() if area == "catalog")
    assert catalog == QUERIES * 4 // 10
    assert {s for (_, area, s) in statuses if area == "catalog"} <= {200, 400, 404}
    assert statuses[("GET", "catalog", 200)] > 0  # some reached the catalog
    minutes = int(seconds // 60) + 1
    guesses_answered = sum(
        n
        for (method, area, status), n in statuses.items()
        if method == "GET" and area != "catalog" and status != 429
    )
    assert guesses_answered <= 2 * GUESSES_PER_MINUTE * minutes
    # the rows the traffic left: the allowed attempts and the filed demands'
    # own records, not a row per query
    attempts = grown.get("gateway.gateway_attempts", 0)
    assert attempts <= 2 * GUESSES_PER_MINUTE * minutes + WRITES_PER_HOUR
    assert sum(grown.values()) < QUERIES // 10, grown
    # only the public catalog may be kept by a cache
    assert cached["no-store"] == QUERIES - statuses[("GET", "catalog", 200)]
