"""A service that is not running makes the one that needs it unavailable, not
broken: a demand whose item intake cannot check with catalog (catalog not
deployed, so no RPC queue) is answered 503 with the Chinese "try again later",
and nothing is stored (7.4.1: the customer files it again, once).

Before, the ``UnknownService`` raised inside intake reached the gateway as a
``RemoteError`` and the customer got a 500 "系统出错了". Real RabbitMQ, both
backends.
"""

from __future__ import annotations

import requests

from services.gateway.service import GatewayService
from services.intake.application import IntakeApplication
from services.intake.service import IntakeService

FORM = {
    "applicant": "盐城某汽车零部件有限公司",
    "contact_phone": "0515-88201234",
    "service_item_code": "6.3",
    "description": "制动盘硬度检测",
    "channel": "website",
}


def test_a_demand_needing_a_service_that_is_not_running_is_503_and_stores_nothing(
    databases, runner_factory, monkeypatch
):
    monkeypatch.setenv("QI_SERVICES", "intake,gateway")
    runner = runner_factory(IntakeService, GatewayService)

    answer = requests.post(
        f"http://{runner.http_address}/api/v1/demands", json=FORM, timeout=30
    )

    assert answer.status_code == 503, answer.text
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert answer.json()["title"] == "服务暂不可用，请稍后再试"
    intake = IntakeApplication()
    try:
        assert intake.recorder.max_notification_id() in (None, 0)
    finally:
        intake.close()
