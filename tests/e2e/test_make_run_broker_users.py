"""``make run`` with QI_BROKER_USERS=rabbitmqctl (as the Makefile sets it):
run as root, it creates a RabbitMQ user per service and every service
connects as its own, the whole system working as before; where rabbitmqctl
cannot be used it says so in one line and starts all the same."""

from __future__ import annotations

import os
import subprocess

import pytest
import requests

from shared import config, trust
from tests import support
from tests.api_client import DEMO_ACCOUNTS, STAFF, ApiClient

FORM = {
    "applicant": "南通某纺织有限公司",
    "contact_phone": "0513-85561234",
    "service_item_code": "6.8",
    "description": "纺织品甲醛含量检测",
    "channel": "website",
}


@pytest.fixture
def own_vhost():
    vhost = support.create_vhost()
    yield vhost
    support.delete_vhost(vhost)
    support.delete_broker_users(vhost)


def start(vhost: str, var, **env) -> support.ServicesProcess:
    return support.ServicesProcess(
        {
            "QI_AMQP_URI": f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
            "QI_VAR_DIR": str(var),
            "QI_SEED_ACCOUNTS": str(DEMO_ACCOUNTS),
            "QI_BROKER_USERS": "rabbitmqctl",
            **env,
        }
    ).start(timeout=60)


def connected_users(vhost: str) -> set[str]:
    listed = subprocess.run(
        ["rabbitmqctl", "--quiet", "list_connections", "user", "vhost"],
        capture_output=True,
        text=True,
    ).stdout
    return {
        line.split()[0] for line in listed.splitlines() if line.split()[1:] == [vhost]
    }


def refer_a_demand(base_url: str) -> dict:
    created = requests.post(f"{base_url}/api/v1/demands", json=FORM, timeout=10)
    assert created.status_code == 201, created.text
    staff = ApiClient(base_url).login(*STAFF)
    staff.refer(created.json()["id"])
    return support.wait_for(
        lambda: (shown := staff.demand(created.json()["id"]))["referrals"] and shown,
        timeout=10,
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="creating broker users needs root")
def test_each_service_connects_as_its_own_user(own_vhost, tmp_path):
    platform = start(own_vhost, tmp_path)
    try:
        assert connected_users(own_vhost) == {
            trust.user_name(s, own_vhost) for s in config.SERVICES
        }
        shown = refer_a_demand(platform.base_url)
        assert shown["status"] == "referred" and shown["referrals"]
        metrics = platform.scrape()
        assert support.metric_value(metrics, "qi_referral_messages_rejected_total") == 0
        assert support.metric_value(metrics, "qi_referral_messages_parked_total") == 0
        kept = tmp_path / "amqp-intake.password"
        assert kept.stat().st_mode & 0o777 == 0o600
    finally:
        platform.kill()
    assert "Traceback" not in platform.output(), platform.output()[-3000:]


def test_without_rabbitmqctl_it_says_so_in_one_line_and_starts(own_vhost, tmp_path):
    """As a user who cannot run rabbitmqctl (here: not on the PATH)."""
    platform = start(own_vhost, tmp_path, PATH="/usr/bin:/bin")
    try:
        refer_a_demand(platform.base_url)
        assert connected_users(own_vhost) == {"guest"}
    finally:
        platform.kill()
    (warning,) = [
        line for line in platform.output().splitlines() if "make run:" in line
    ]
    assert "rabbitmqctl is not installed" in warning
    assert f"import_definitions {tmp_path / 'broker-users.json'}" in warning
