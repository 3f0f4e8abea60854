"""Events a service cannot read with its key are reported as unreadable in a
case's verification (a wrong or missing QI_CIPHER_KEY), never as an altered
event: the hash chain says nothing about what cannot be read (audit contract).
The gateway's /healthz and ops' parked messages ask every service behind it,
notify included."""

import re
from uuid import UUID

import pytest
import requests
from eventsourcing.cryptography import AESCipher
from eventsourcing.utils import Environment
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import select, update

from services.catalog.service import CatalogService
from services.gateway.service import GatewayService
from services.intake.application import IntakeApplication
from services.intake.service import IntakeService
from shared import rpc  # noqa: F401 - registers our errors for deserialisation
from shared.audit import Actor, AuditContext, audit_scope
from shared.case_history import case_audit, case_events, verify_case
from shared.providers import application_of
from shared.tables import stored_events
from tests import support

KEY = AESCipher.create_key(32)
OTHER_KEY = AESCipher.create_key(32)
PASSWORD = "correct horse battery staple 1"
FORM = {
    "applicant": "常州某电机有限公司",
    "contact_phone": "0519-86661234",
    "service_item_code": "6.3.1",
    "description": "电机能效检测",
    "channel": "window",
}
STAFF = AuditContext(actor=Actor("staff-a", "staff", "jsqi"), channel="window")


def reencrypt(app, originator_id, version: int, key: str) -> None:
    """Store one event encrypted with another key, as a tool that found the
    wrong key would have written it; its content is unchanged."""
    other = AESCipher(Environment(env={"CIPHER_KEY": key}))
    events = stored_events(app.recorder)
    stored = events.c
    where = (stored.originator_id == UUID(str(originator_id))) & (
        stored.originator_version == version
    )
    with app.kernel.transaction() as conn:
        found = bytes(conn.execute(select(stored.state).where(where)).scalar())
        state = other.encrypt(app.mapper.cipher.decrypt(found))
        conn.execute(update(events).where(where).values(state=state))


def test_a_case_read_with_the_wrong_key_is_unreadable_not_altered(
    databases, monkeypatch
):
    monkeypatch.setenv("QI_CIPHER_KEY", KEY)
    app = IntakeApplication()
    try:
        with audit_scope(STAFF):
            demand = app.register_demand(FORM)
            app.take(demand["id"], "staff-a")
        case = demand["id"]
        assert verify_case(app, case)["unreadable"] == []
        assert len(case_events(app, case)) == 2
        assert case_audit(app, case) == {
            "events": case_events(app, case),
            "check": verify_case(app, case),
        }
    finally:
        app.close()

    monkeypatch.setenv("QI_CIPHER_KEY", OTHER_KEY)
    wrong = IntakeApplication()
    try:
        check = verify_case(wrong, case)
        assert check["breaks"] == [] and check["streams"] == 1
        assert check["unreadable"] == [
            {
                "aggregate_id": case,
                "version": 1,
                "reason": "this key does not decrypt it",
            }
        ]
        assert case_events(wrong, case) == []  # left out, named by the check
        # the audit's one read of both says the same
        assert case_audit(wrong, case) == {"events": [], "check": check}
        checked, found = wrong.verify_all()
        assert checked == 1 and [type(f).__name__ for f in found] == ["Unreadable"]
    finally:
        wrong.close()


@pytest.fixture
def platform(databases, runner_factory, clean_broker, tmp_path, monkeypatch):
    accounts = [("sun", "regulator", ""), ("ops", "ops", "")]
    seed = support.seed_accounts(tmp_path / "accounts.json", accounts, PASSWORD)
    monkeypatch.setenv("QI_SEED_ACCOUNTS", str(seed))
    monkeypatch.setenv("QI_GATEWAY_SECRET", "test-secret-" + "x" * 32)
    monkeypatch.setenv("QI_CIPHER_KEY", KEY)
    # notify belongs to this installation but is not running
    monkeypatch.setenv("QI_SERVICES", "intake,catalog,notify,gateway")
    monkeypatch.setenv("QI_RPC_TIMEOUT_SECONDS", "5")
    runner = runner_factory(
        IntakeService,
        CatalogService,
        GatewayService,
        http_port=support.free_port(),
    )
    with ClusterRpcProxy({"AMQP_URI": clean_broker}, timeout=20) as proxies:
        yield runner, proxies, f"http://{runner.http_address}"


def login(base: str, username: str) -> dict:
    answer = requests.post(
        f"{base}/api/v1/auth/login",
        json={"username": username, "password": PASSWORD},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


# SQLite: four services in this process, each with its own pool, would take
# many of PostgreSQL's connections (the kernel test above runs on both)
@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_regulator_is_told_an_event_cannot_be_read_not_that_it_was_altered(
    platform,
):
    runner, proxies, base = platform
    audit_data = {"actor": STAFF.actor.__dict__, "channel": "window"}
    case = proxies.intake.register_demand(FORM, audit_data=audit_data)["id"]
    regulator = login(base, "sun")
    path = f"{base}/api/v1/audit/cases/{case}"
    first = requests.get(path, headers=regulator, timeout=30)
    assert first.status_code == 200, first.text
    checked = first.json()["verification"]
    assert checked["breaks"] == checked["unreadable"] == []
    # only the services this test runs answer for the case
    assert checked["services_not_answering"] == ["complaints", "evaluation", "referral"]
    # the gateway recorded that read in the case (a stream of its own); that
    # event is now stored under a key the gateway does not have
    again = requests.get(path, headers=regulator, timeout=30).json()
    read = next(
        row["aggregate_id"]
        for row in again["timeline"]
        if row["event"] == "CaseRead.Recorded"
    )
    gateway = application_of(support.container_of(runner, "gateway"))
    reencrypt(gateway, read, 1, OTHER_KEY)

    answer = requests.get(path, headers=regulator, timeout=30)
    assert answer.status_code == 200, answer.text
    check = answer.json()["verification"]
    assert check["passed"] is False
    assert check["breaks"] == []  # nothing is called altered
    assert [
        (u["service"], u["aggregate_id"], u["version"]) for u in check["unreadable"]
    ] == [("gateway", read, 1)]
    assert "this key does not decrypt it" in check["unreadable"][0]["reason"]
    timeline = answer.json()["timeline"]
    assert ("intake", "Demand.Registered") in [
        (r["service"], r["event"]) for r in timeline
    ]
    assert read not in [r["aggregate_id"] for r in timeline]

    page = requests.get(
        f"{path}/export",
        headers=regulator,
        params={"format": "html"},
        timeout=30,
    )
    assert page.status_code == 200, page.text
    assert f"流 {read} 第 1 个事件无法读取（密钥错误或缺失" in page.text
    assert "被改动" not in page.text

    # /healthz pings every service of the installation behind the gateway
    health = requests.get(f"{base}/healthz", timeout=30)
    assert health.status_code == 503
    # notify does not run here: no RPC queue, or one an earlier test of the
    # session left behind with nobody consuming it
    assert re.search(
        r"notify: (not running|did not answer)", health.json()["detail"]
    ), health.json()["detail"]
    parked = requests.get(
        f"{base}/api/v1/ops/parked-messages", headers=login(base, "ops"), timeout=30
    )
    assert parked.status_code == 200, parked.text
    assert parked.json()["services"]["notify"] is None  # not answering, said
    assert parked.json()["services"]["intake"] == []
