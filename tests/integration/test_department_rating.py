"""A government task (5.2.2 b) is rated by the department that asked for it
(9.2.1): the referring institution's staff record its rating once, within the
window; the partner that did the work, another institution and a customer's
referral cannot. Services on the real RabbitMQ, stores on PostgreSQL."""

from __future__ import annotations

from services.evaluation.contract import DIMENSIONS
from tests import support
from tests.integration import test_gateway_access as access_tests
from tests.integration.test_gateway_referral_tasks import TASK

backend = access_tests.backend
gateway = access_tests.gateway

RATING = {
    "respondent": "泰州市市场监督管理局 质量监督科 王科长",
    "overall": "满意",
    "dimensions": dict.fromkeys(DIMENSIONS, "满意"),
    "comments": "抽查报告及时",
}
REPORT = {"report_no": "GOV-2026-01", "issued_on": "2026-11-26", "sha256": "cd" * 32}


def completed(gateway, referral_id: str, clerk: str) -> None:
    path = f"/api/v1/referrals/{referral_id}"
    for command, body in (("acceptance", {}), ("completion", {"report": REPORT})):
        answer = gateway.post(f"{path}/{command}", body, clerk)
        assert answer.status_code == 200, (command, answer.text)


def test_the_requesting_department_rates_a_government_task_once(gateway):
    access_tests.lab_with_partner(gateway, "dept")
    task = gateway.post("/api/v1/referral-tasks", TASK, "wang").json()
    sent = gateway.post(f"/api/v1/referrals/{task['id']}/sending", who="wang")
    assert sent.status_code == 200, sent.text
    url = f"/api/v1/referral-tasks/{task['id']}/rating"
    early = gateway.post(url, RATING, "wang")
    assert early.status_code == 400 and "办结后" in early.text
    completed(gateway, task["id"], "dept.clerk")

    for who, refused in (("dept.clerk", 403), ("other", 404), ("sun", 403)):
        assert gateway.post(url, RATING, who).status_code == refused, who
    missing = gateway.post(url, {**RATING, "respondent": ""}, "wang")
    assert missing.status_code == 400
    rated = support.wait_for(  # the survey is issued when the referral completes
        lambda: (lambda a: a if a.status_code == 200 else None)(
            gateway.post(url, RATING, "wang")
        ),
        timeout=15,
    )
    survey = rated.json()
    assert survey["status"] == "rated" and survey["respondent"] == RATING["respondent"]
    assert survey["rating"]["overall"] == "满意"
    twice = gateway.post(url, RATING, "zhao")
    assert twice.status_code == 400 and "不能重复评价" in twice.text


def test_a_customers_referral_is_rated_by_its_customer_not_by_staff(gateway):
    access_tests.lab_with_partner(gateway, "cust")
    demand_id = gateway.post("/api/v1/demands", access_tests.ONLINE_FORM).json()["id"]
    referral_id = access_tests.refer_and_send(gateway, demand_id)
    completed(gateway, referral_id, "cust.clerk")
    url = f"/api/v1/referral-tasks/{referral_id}/rating"
    answer = gateway.post(url, RATING, "wang")
    assert answer.status_code == 400 and "进度查询码" in answer.text
