"""Tasks without a customer's demand over HTTP: a government-commissioned task
(5.2.2 b) and recall support for a regulator (6.9), registered by staff of an
institution, then sent to a partner like any referral.

Services run in this process on the real RabbitMQ, stores on PostgreSQL.
"""

from tests.integration import test_gateway_access as access_tests
from tests.integration.test_gateway_efficiency import settled_events

# the fixtures of the access tests: the same services, accounts and client
backend = access_tests.backend
gateway = access_tests.gateway

TASK = {
    "kind": "government",
    "item_code": "6.3.1",
    "requester_name": "泰州市市场监督管理局",
    "description": "电线电缆产品质量监督抽查",
}


def test_staff_register_a_government_task_and_send_it_to_a_partner(gateway):
    lab_id = access_tests.lab_with_partner(gateway, "gov")
    key = {"Idempotency-Key": "task-2026-11-26-1"}
    opened = gateway.post("/api/v1/referral-tasks", TASK, "wang", headers=key)
    assert opened.status_code == 201, opened.text
    task = opened.json()
    assert (task["kind"], task["origin_institution"]) == ("government", "jsqi")
    assert task["first_responder"] == "wang"
    assert task["requester"] == {"kind": "department", "name": TASK["requester_name"]}
    again = gateway.post("/api/v1/referral-tasks", TASK, "wang", headers=key)
    assert again.status_code == 201 and again.json()["id"] == task["id"]

    sent = gateway.post(f"/api/v1/referrals/{task['id']}/sending", who="wang")
    assert sent.status_code == 200, sent.text
    assert sent.json()["assignee"]["id"] == lab_id
    inbox = gateway.get("/api/v1/referrals", "gov.clerk").json()["items"]
    assert [r["id"] for r in inbox] == [task["id"]]


def test_a_manager_opens_recall_support_on_the_green_channel(gateway):
    recall = {
        "kind": "recall",
        "requester_name": "江苏省市场监督管理局",
        "description": "儿童玩具召回技术支持",
        "green_channel": True,
    }
    refused = gateway.post("/api/v1/referral-tasks", recall, "wang")
    assert refused.status_code == 403  # the green channel is a manager's call
    opened = gateway.post("/api/v1/referral-tasks", recall, "zhao")
    assert opened.status_code == 201, opened.text
    assert opened.json()["item_code"] == "6.9"
    assert opened.json()["green_channel"] is True
    assert opened.json()["requester"]["kind"] == "regulator"
    bad = gateway.post("/api/v1/referral-tasks", {**TASK, "kind": "demand"}, "wang")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "kind"


def test_only_an_institutions_staff_register_tasks_and_refusals_store_nothing(
    gateway,
):
    before = settled_events(gateway, "referral")
    for who in ["sun", "ops", "chen", "admin", "cheng", None]:
        answer = gateway.post("/api/v1/referral-tasks", TASK, who)
        assert answer.status_code in (401, 403), (who, answer.text)
    assert gateway.post("/api/v1/referral-tasks", TASK).status_code == 401
    assert gateway.post("/api/v1/referral-tasks", TASK, "sun").status_code == 403
    assert settled_events(gateway, "referral") == before
