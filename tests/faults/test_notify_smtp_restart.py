"""The SMTP server dies mid-run (SIGKILL) while notify delivers one-time
materials notices (7.4.3), and comes back: every message arrives exactly
once, counted by Message-ID; none is lost, none parked (delivery contract,
9.4). Failed deliveries wait with a growing pause and are tried again."""

from __future__ import annotations

import time

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.catalog.service import CatalogService
from services.intake.service import IntakeService
from services.notify.service import NotifyService
from shared import rpc  # noqa: F401 - registers our errors for deserialisation
from tests import support
from tests.smtp_sink import SmtpSink

STAFF = {
    "actor": {"id": "staff-a", "role": "staff", "institution": "jsqi"},
    "channel": "window",
}
NOTICES = 40


def notice(proxies, n: int) -> str:
    demand = proxies.intake.register_demand(
        {
            "applicant": f"江苏某企业{n}",
            "contact_phone": "025-83210101",
            "contact_email": f"customer{n}@example.cn",
            "service_item_code": "6.3",
            "description": "电线电缆阻燃性能检测",
            "channel": "window",
        },
        audit_data=STAFF,
    )
    proxies.intake.take(demand["id"], "staff-a", audit_data=STAFF)
    proxies.intake.notify_materials(demand["id"], "staff-a", [], audit_data=STAFF)
    return demand["progress_code"]


@pytest.mark.parametrize("backend", ["postgres"])
def test_every_notice_arrives_once_after_the_smtp_server_returns(
    databases, runner_factory, clean_broker, tmp_path, monkeypatch, fault_report
):
    sink = SmtpSink(tmp_path / "mail", support.free_port()).start()
    monkeypatch.setenv("QI_SMTP_URL", sink.url)
    monkeypatch.setenv("QI_NOTIFY_POLL_SECONDS", "0.1")
    monkeypatch.setenv("QI_NOTIFY_RETRY_SECONDS", "0.2")
    monkeypatch.setenv("QI_NOTIFY_ATTEMPTS", "30")  # ~ minutes before parking
    runner = runner_factory(IntakeService, CatalogService, NotifyService)
    try:
        with ClusterRpcProxy({"AMQP_URI": clean_broker}, timeout=30) as proxies:
            codes = [notice(proxies, n) for n in range(15)]
            support.wait_for(lambda: len(sink.messages()) >= 5, timeout=30)
            sink.kill()  # mid-run: some sent, some on their way
            down_at = len(sink.message_ids())
            codes += [notice(proxies, n) for n in range(15, NOTICES)]
            time.sleep(2.0)  # deliveries fail and wait meanwhile
            sink.start()
            support.wait_for(
                lambda: len(sink.message_ids()) >= NOTICES, timeout=90, interval=0.2
            )
            time.sleep(1.0)  # nothing more arrives late
            counts = sink.message_ids()
            parked = proxies.notify.undelivered()
            failures = sum(
                m["deliveries"]["email"]["attempts"] - 1
                for code in codes
                for m in proxies.notify.messages_for_progress_code(code)
            )
    finally:
        runner.kill()  # before the databases go: the sender polls them
        sink.kill()
    fault_report(
        "SMTP server killed mid-run, restarted",
        sent=NOTICES,
        effects=len(counts),
        lost=NOTICES - len(counts),
        duplicated=sum(n - 1 for n in counts.values()),
        parked=len(parked),
        note=f"{down_at} delivered before the kill, {failures} attempts retried",
    )
    assert len(counts) == NOTICES and set(counts.values()) == {1}
    assert parked == [] and failures > 0
