"""Faults: a service killed mid-way, a relay that forgot its position, a broker
restarted under load. Nothing is lost and nothing takes effect twice.
"""

import concurrent.futures
import sqlite3
import subprocess
import threading
import time

import psycopg
import pytest
import requests

from shared.relay_lock import FileLock
from tests import support
from tests.api_client import DEMO_ACCOUNTS, STAFF, ApiClient
from tests.faults.load import FORM, post_until_registered, wait_until_done


def count(path, sql: str) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchone()[0]


# referrals opened: the first event of each Referral aggregate
REFERRALS_OPENED = (
    "SELECT COUNT(*) FROM stored_events "
    "WHERE originator_version = 1 AND topic LIKE '%:Referral.%'"
)


PARKED = "SELECT COUNT(*) FROM qi_parked_messages"


def referrals_shown(base_url: str, demand_id: str) -> list:
    return ApiClient(base_url).login(*STAFF).demand(demand_id)["referrals"]


def file_and_refer(base_url: str) -> str:
    """A customer files online; staff take, review and refer it (8.3.4)."""
    created = requests.post(f"{base_url}/api/v1/demands", json=FORM, timeout=5)
    assert created.status_code == 201, created.text
    demand_id = created.json()["id"]
    ApiClient(base_url).login(*STAFF).refer(demand_id)
    return demand_id


@pytest.fixture
def sqlite_env(amqp_uri, tmp_path):
    support.delete_topology(amqp_uri)
    return {
        "QI_AMQP_URI": amqp_uri,
        "QI_VAR_DIR": str(tmp_path),
        "QI_SEED_ACCOUNTS": str(DEMO_ACCOUNTS),
    }


def test_killed_after_storing_before_publishing_publishes_after_restart(
    sqlite_env, tmp_path, fault_report
):
    # Someone else holds intake's relay lock, so the service stores but cannot
    # publish: exactly the window between save and publish.
    blocker = FileLock(str(tmp_path / "intake.sqlite") + ".relay.lock")
    assert blocker.acquire()
    first = support.ServicesProcess(sqlite_env).start()
    try:
        demand_id = file_and_refer(first.base_url)
        time.sleep(0.5)
        assert referrals_shown(first.base_url, demand_id) == []
    finally:
        first.process.kill()  # SIGKILL: no clean-up of any kind
        first.process.wait()
    blocker.release()

    second = support.ServicesProcess(sqlite_env).start()
    try:
        support.wait_for(lambda: referrals_shown(second.base_url, demand_id), 10)
        time.sleep(0.5)  # room for a duplicate to show up, if there were one
        opened = count(tmp_path / "referral.sqlite", REFERRALS_OPENED)
        registered = "SELECT COUNT(*) FROM stored_events WHERE originator_version=1"
        parked = count(tmp_path / "referral.sqlite", PARKED)
        fault_report(
            "SIGKILL between store and publish",
            sent=1,
            effects=opened,
            lost=max(0, 1 - opened),
            duplicated=max(0, opened - 1),
            parked=parked,
            note="stored, killed before its relay could publish, published after",
        )
        assert opened == 1
        assert count(tmp_path / "intake.sqlite", registered) == 1
        assert parked == 0
    finally:
        second.kill()


def test_a_relay_that_lost_its_position_republishes_without_double_effects(
    sqlite_env, tmp_path, fault_report
):
    services = support.ServicesProcess(sqlite_env).start()
    try:
        ids = [file_and_refer(services.base_url) for _ in range(3)]
        for demand_id in ids:
            support.wait_for(lambda d=demand_id: referrals_shown(services.base_url, d))
    finally:
        services.process.kill()
        services.process.wait()
    # as if the crash came after the broker confirmed but before the position
    # was written: everything is published again on restart
    with sqlite3.connect(tmp_path / "intake.sqlite") as conn:
        conn.execute("UPDATE qi_relay_position SET position = 0")

    restarted = support.ServicesProcess(sqlite_env).start()
    try:
        support.wait_for(
            lambda: (
                "qi_referral_duplicates_ignored_total"
                '{event_type="DemandReferred",source="intake"} 3.0'
                in requests.get(restarted.metrics_url, timeout=5).text
            )
        )
        opened = count(tmp_path / "referral.sqlite", REFERRALS_OPENED)
        parked = count(tmp_path / "referral.sqlite", PARKED)
        fault_report(
            "relay lost its position",
            sent=3,
            effects=opened,
            lost=max(0, 3 - opened),
            duplicated=max(0, opened - 3),
            parked=parked,
            note="3 events published again after the restart, 3 duplicates ignored",
        )
        assert opened == 3
        assert parked == 0
    finally:
        restarted.kill()


def restart_rabbitmq() -> None:
    subprocess.run(["rabbitmqctl", "stop_app"], check=True, capture_output=True)
    try:
        time.sleep(1.0)
    finally:
        subprocess.run(["rabbitmqctl", "start_app"], check=True, capture_output=True)
        subprocess.run(["rabbitmqctl", "await_startup"], capture_output=True)


# In 3 of 15 runs this session, one demand stayed unreadable after the restart:
# its referral was stored, but GET /api/v1/demands/{id} answered 503 until the
# deadline while referral's calls to catalog kept timing out ("catalog.item did
# not answer within 5s"). A service's RPC path not recovering from a broker
# restart is the open question; make faults runs this, make test does not.
@pytest.mark.slow_fault
def test_broker_restart_while_1000_demands_stream_in(amqp_uri, tmp_path, fault_report):
    support.delete_topology(amqp_uri)
    urls, cleanup = support.database_urls("postgres", tmp_path)
    env = {
        "QI_AMQP_URI": amqp_uri,
        "QI_VAR_DIR": str(tmp_path),
        "QI_INTAKE_DATABASE_URL": urls["intake"],
        "QI_REFERRAL_DATABASE_URL": urls["referral"],
        "QI_RPC_TIMEOUT_SECONDS": "5",
        "QI_SEED_ACCOUNTS": str(DEMO_ACCOUNTS),
    }
    services = support.ServicesProcess(env).start()
    total, sent = 1000, threading.Semaphore(0)
    deadline = time.monotonic() + 240

    staff = threading.local()

    def submit(i: int) -> str:
        demand_id = post_until_registered(services.base_url, f"stream-{i}", deadline)
        if not hasattr(staff, "client"):
            staff.client = ApiClient(services.base_url).login(*STAFF)
        staff.client.refer(demand_id, deadline)
        sent.release()
        return demand_id

    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            futures = [pool.submit(submit, i) for i in range(total)]
            # restart once a fifth has gone through
            wait_until_done(sent, 200, futures, deadline)
            restart_rabbitmq()
            ids = {f.result() for f in futures}
        assert len(ids) == total

        schema = urls["referral"].split("schema=")[1]
        intake_schema = urls["intake"].split("schema=")[1]

        opened = (
            f"FROM {schema}.referral_events "
            "WHERE originator_version = 1 AND topic LIKE '%:Referral.%'"
        )

        def referral_count() -> int:
            with psycopg.connect(support.PG_BASE) as conn:
                return conn.execute(f"SELECT COUNT(*) {opened}").fetchone()[0]

        support.wait_for(lambda: referral_count() >= total, timeout=120, interval=0.5)
        time.sleep(1.0)  # late duplicates would land now
        with psycopg.connect(support.PG_BASE) as conn:
            referrals = conn.execute(
                f"SELECT COUNT(*), COUNT(DISTINCT originator_id) {opened}"
            ).fetchone()
            demands = conn.execute(
                f"SELECT COUNT(*) FROM {intake_schema}.intake_events "
                "WHERE originator_version = 1"
            ).fetchone()[0]
            parked = conn.execute(
                f"SELECT status, attempts, error FROM {schema}.qi_parked_messages"
            ).fetchall()
        fault_report(
            "RabbitMQ restart under 1,000 demands",
            sent=total,
            effects=referrals[1],
            lost=total - referrals[1],
            duplicated=referrals[0] - referrals[1],
            parked=len(parked),
            note=f"{demands} demands stored, each referred once",
        )
        assert demands == total
        assert referrals == (total, total)
        assert parked == []
    except BaseException:
        print(services.output()[-6000:])  # what the services said, on failure
        with psycopg.connect(support.PG_BASE) as conn:  # sessions left open
            for row in conn.execute(
                "SELECT pid, state, xact_start, left(query, 200) FROM "
                "pg_stat_activity WHERE state LIKE 'idle in transaction%'"
            ):
                print("open transaction:", row)
        raise
    finally:
        services.kill()
        cleanup()
