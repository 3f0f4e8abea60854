"""Issue 18, item 7: an Idempotency-Key is for retrying the same request. The
same request again gets the first answer and changes nothing; the key with
another body is refused with 422 (problem+json, in Chinese) and nothing is
stored — for a customer filing a demand without a login and for a staff
command on a demand.

Services run in this process on the real RabbitMQ (the access tests'
fixture), stores in SQLite files.
"""

import pytest

from tests.integration import test_gateway_access as access_tests

gateway = access_tests.gateway


@pytest.fixture
def backend():
    return "sqlite"


def chinese(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


def refused_as_reused(answer) -> None:
    assert answer.status_code == 422, answer.text
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["status"] == 422 and chinese(problem["title"])
    assert [e["field"] for e in problem["errors"]] == ["Idempotency-Key"]
    assert chinese(problem["errors"][0]["message"])
    assert answer.headers["Cache-Control"] == "no-store"


def test_a_key_reused_for_another_body_is_422_and_stores_nothing(gateway):
    key = {"Idempotency-Key": "customer-retry-1"}
    first = gateway.post("/api/v1/demands", access_tests.ONLINE_FORM, headers=key)
    assert first.status_code == 201, first.text
    assert first.headers["Cache-Control"] == "no-store"  # it carries the code
    retried = gateway.post("/api/v1/demands", access_tests.ONLINE_FORM, headers=key)
    assert retried.status_code == 201 and retried.json() == first.json()
    listed = gateway.get("/api/v1/demands", "sun").json()["total"]

    other = {**access_tests.ONLINE_FORM, "applicant": "另一家公司"}
    refused_as_reused(gateway.post("/api/v1/demands", other, headers=key))
    assert gateway.get("/api/v1/demands", "sun").json()["total"] == listed

    # a staff command: the same follow-up retried is recorded once
    path = f"/api/v1/demands/{first.json()['id']}"
    assert gateway.post(f"{path}/take", who="wang").status_code == 200
    note = {"Idempotency-Key": "follow-up-1"}
    done = gateway.post(f"{path}/follow-ups", {"note": "已电话联系"}, "wang", note)
    assert done.status_code == 200, done.text
    events = len(gateway.get(f"{path}/history", "wang").json()["items"])
    again = gateway.post(f"{path}/follow-ups", {"note": "已电话联系"}, "wang", note)
    assert (again.status_code, again.json()) == (200, done.json())
    changed = {"note": "客户改期"}
    refused_as_reused(gateway.post(f"{path}/follow-ups", changed, "wang", note))
    assert len(gateway.get(f"{path}/history", "wang").json()["items"]) == events
    # the same key on another command of the same demand is another request
    refused_as_reused(
        gateway.post(
            f"{path}/handover", {"to_staff": "liqiang", "reason": "x"}, "wang", note
        )
    )
    # a new key is a new follow-up
    fresh = {"Idempotency-Key": "follow-up-2"}
    assert gateway.post(f"{path}/follow-ups", changed, "wang", fresh).status_code == 200
    assert len(gateway.get(f"{path}/history", "wang").json()["items"]) == events + 1
