"""A small client of the gateway's API for end-to-end, fault and bench runs.

Staff work is driven from the demand's state, not from a script of calls, so a
client that retries after a timeout never does a step twice: it reads where
the demand stands and does the next step (take, review, refer).
"""

from __future__ import annotations

import time

import requests

from shared.config import REPO_ROOT

DEMO_ACCOUNTS = REPO_ROOT / "services" / "gateway" / "demo_accounts.json"
STAFF = ("wang.staff", "staff-demo-2026")
MANAGER = ("zhao.manager", "manager-demo-2026")
REGULATOR = ("sun.regulator", "regulator-demo-2026")
PASSED_REVIEW = dict.fromkeys(("capability", "method", "cycle", "fee"), True)


class ApiClient:
    def __init__(self, base_url: str, session: requests.Session | None = None):
        self.base_url = base_url
        self.session = session or requests.Session()
        self.token = ""

    def login(self, username: str, password: str, attempts: int = 30) -> ApiClient:
        """Log in as a person would: a 429 (too many logins hashing at once)
        is tried again after its Retry-After, up to ``attempts`` times."""
        for _ in range(attempts):
            reply = self.session.post(
                f"{self.base_url}/api/v1/auth/login",
                json={"username": username, "password": password},
                timeout=10,
            )
            if reply.status_code != 429:
                break
            time.sleep(float(reply.headers.get("Retry-After", "1")))
        reply.raise_for_status()
        self.token = reply.json()["token"]
        return self

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.session.get(
            f"{self.base_url}{path}", headers=self.headers, timeout=10, **kwargs
        )

    def post(self, path: str, body: dict | None = None, **kwargs):
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.session.post(
            f"{self.base_url}{path}",
            json=body or {},
            headers=headers,
            timeout=kwargs.pop("timeout", 10),
            **kwargs,
        )

    def demand(self, demand_id: str) -> dict:
        reply = self.get(f"/api/v1/demands/{demand_id}")
        reply.raise_for_status()
        return reply.json()

    def refer(self, demand_id: str, deadline: float | None = None) -> dict:
        """Take the demand, pass its contract review and refer it (8.3.4).

        Safe to call again after any failure: each round reads the demand and
        does only what is still to do.
        """
        deadline = deadline or time.monotonic() + 30
        path = f"/api/v1/demands/{demand_id}"
        seen: list[str] = []  # the last answers, to say where it got stuck
        while time.monotonic() < deadline:
            try:
                demand = self.demand(demand_id)
                seen[:] = [f"status {demand['status']}, owner {demand['owner']}"]
                if demand["status"] == "referred":
                    return demand
                if demand["owner"] is None:
                    seen.append(_said("take", self.post(f"{path}/take")))
                    continue
                review = {"checks": PASSED_REVIEW}
                seen.append(
                    _said("review", self.post(f"{path}/contract-review", review))
                )
                decision = {"outcome": "referred"}
                seen.append(_said("decision", self.post(f"{path}/decision", decision)))
            except requests.RequestException as exc:
                seen.append(f"{type(exc).__name__}: {exc}"[:300])
                time.sleep(0.2)
        raise AssertionError(
            f"demand {demand_id} was not referred in time; last: {'; '.join(seen)}"
        )


def _said(step: str, reply: requests.Response) -> str:
    try:
        body = reply.json()
        what = f"status={body.get('status')} version={body.get('version')}"
    except (ValueError, AttributeError):
        what = reply.text[:200]
    return f"{step} {reply.status_code} {what}"
