"""The manager's board at a province's scale (issue 22): what it reads in one
call each — the accounts from the gateway's read model, every staff member's
efficiency figures at once, the referred demands' watched referrals together
— answers what the reads one by one answered, and an account's change shows
on the very next read (7.4.2, 8.3.4, 9.2.2).

Services run in this process on the real RabbitMQ, stores on PostgreSQL.
"""

from __future__ import annotations

from kombu import Connection
from nameko.standalone.rpc import ClusterRpcProxy

from services.evaluation import figures
from services.gateway.access import STAFF_ROLES
from services.referral.contract import WATCHED
from tests import support
from tests.integration import test_case_rules as rules
from tests.integration import test_gateway_access as access_tests
from tests.integration.test_evaluation import NOVEMBER, seed_november
from tests.integration.test_gateway_efficiency import settled_events

backend = access_tests.backend
gateway = access_tests.gateway


def listed(gateway) -> dict[str, dict]:
    answer = gateway.get("/api/v1/accounts", "admin", params={"limit": 100})
    assert answer.status_code == 200, answer.text
    return {a["username"]: a for a in answer.json()["items"]}


def test_an_accounts_change_shows_on_the_next_read_and_on_the_board(gateway):
    app = rules.app_of(gateway, "gateway")
    demand_id = rules.registered(gateway)
    assert gateway.post(f"/api/v1/demands/{demand_id}/take", who="wang").ok
    assert listed(gateway)["wang"]["active"] is True
    assert gateway.get("/api/v1/board", "zhao").json()["disabled_owners"] == []

    # disabled: the very next list and board say so
    disabled = gateway.post(
        "/api/v1/accounts/wang/disable", {"reason": "离职"}, "admin"
    )
    assert disabled.status_code == 200, disabled.text
    assert listed(gateway)["wang"]["active"] is False
    board = gateway.get("/api/v1/board", "zhao").json()
    assert [(r["demand_id"], r["owner"]) for r in board["disabled_owners"]] == [
        (demand_id, "wang")
    ]
    assert "wang" not in [s["username"] for s in board["staff"]]

    # enabled again: off the disabled owners, back among the staff
    assert gateway.post("/api/v1/accounts/wang/enable", {}, "admin").ok
    assert listed(gateway)["wang"]["active"] is True
    board = gateway.get("/api/v1/board", "zhao").json()
    assert board["disabled_owners"] == []
    assert "wang" in [s["username"] for s in board["staff"]]

    # another role and institution: no longer jsqi's staff
    moved = gateway.post(
        "/api/v1/accounts/liqiang/role",
        {"role": "partner", "institution": "jsmi"},
        "admin",
    )
    assert moved.status_code == 200, moved.text
    assert listed(gateway)["liqiang"]["role"] == "partner"
    assert listed(gateway)["liqiang"]["role_label"] == "合作机构人员"
    board = gateway.get("/api/v1/board", "zhao").json()
    assert "liqiang" not in [s["username"] for s in board["staff"]]

    # the read model says what each account's own events say, rebuilt too
    rows = app.accounts()
    assert rows == [app.account(row["username"]).public() for row in rows] and len(
        rows
    ) == len(access_tests.ACCOUNTS)
    assert [r["username"] for r in rows] == sorted(r["username"] for r in rows)
    app.account_index.rebuild()
    assert app.accounts() == rows


def test_the_boards_staff_figures_are_each_members_own(gateway):
    for who in ("wang", "liqiang"):
        demand_id = rules.registered(gateway, who)
        path = f"/api/v1/demands/{demand_id}"
        assert gateway.post(f"{path}/take", who=who).ok
        review = {"checks": rules.PASSED}
        assert gateway.post(f"{path}/contract-review", review, who).ok
    settled_events(gateway, "evaluation")

    board = gateway.get("/api/v1/board", "zhao").json()
    expected = [
        a["username"]
        for a in rules.app_of(gateway, "gateway").accounts()
        if a["institution"] == "jsqi" and a["role"] in STAFF_ROLES and a["active"]
    ]
    assert [s["username"] for s in board["staff"]] == expected
    assert {"wang", "liqiang", "zhao"} <= set(expected)
    some = board["staff"][0]["figures"]
    period = {"since": some["since"], "until": some["until"]}
    for member in board["staff"]:
        own = gateway.get(
            f"/api/v1/evaluation/staff/{member['username']}/efficiency",
            "zhao",
            params=period,
        )
        assert own.status_code == 200, own.text
        assert member["figures"] == own.json()
    wang = next(s for s in board["staff"] if s["username"] == "wang")
    assert wang["figures"]["professionalism"]["contract_reviews"] == 1
    assert wang["figures"]["timeliness"]["first_responses"] == 1


def test_every_members_batched_figures_equal_their_own(databases):
    from services.evaluation.application import EvaluationApplication

    app = EvaluationApplication()
    try:
        seed_november(app)
        app.view.catch_up()  # as the RPC does before it counts
        staff = ["staff-a", "staff-b", "nobody", "staff-a"]
        got = figures.efficiency_of_staff(app.kernel, app.calendar, staff, *NOVEMBER)
        assert list(got) == ["staff-a", "staff-b", "nobody"]
        for member in got:
            assert got[member] == app.efficiency_figures(member, *NOVEMBER)
        assert got["staff-a"]["timeliness"]["first_responses"] == 2
        assert got["staff-b"]["timeliness"]["first_responses"] == 1
        assert got["nobody"]["satisfaction"]["rated"] == 0
        assert (
            figures.efficiency_of_staff(app.kernel, app.calendar, [], *NOVEMBER) == {}
        )
    finally:
        app.close()


def test_watched_referrals_of_referred_demands_equal_the_reads_one_by_one(
    gateway, clean_broker
):
    access_tests.lab_with_partner(gateway, "bat")
    referred = [rules.referred_demand(gateway) for _ in range(2)]
    audit = {
        "actor": {"id": "zhao", "role": "manager", "institution": "jsqi"},
        "channel": "web",
    }
    with ClusterRpcProxy({"AMQP_URI": clean_broker}, timeout=20) as rpc:
        demands = rpc.intake.referred_demands("jsqi", 50)
        assert {d["demand_id"] for d in demands} >= {d for d, _ in referred}
        one_by_one = []
        for demand in demands:
            got = rpc.intake.get_demand(demand["demand_id"])
            codes = [need["item_code"] for need in got["needs"]]
            assert demand["item_codes"] == codes
            for brief in rpc.referral.referrals_for(demand["demand_id"], codes):
                if brief["state"] in WATCHED:
                    one_by_one.append(
                        rpc.referral.referral(brief["id"], audit_data=audit)
                    )
        batched = rpc.referral.watched_referrals(demands, audit_data=audit)
        assert {r for _, r in referred} <= {r["id"] for r in batched}
        assert batched == one_by_one

        # another institution's manager sees none of them
        other = {
            "actor": {"id": "othermgr", "role": "manager", "institution": "nj-lab"},
            "channel": "web",
        }
        assert rpc.referral.watched_referrals(demands, audit_data=other) == []
        assert rpc.referral.watched_referrals([], audit_data=audit) == []


def board_without(runner_factory, broker, tmp_path, monkeypatch, *absent: str):
    """The board of zhao (jsqi's manager), every service running but
    ``absent`` (not deployed: no RPC queue, not even an earlier test's)."""
    with Connection(broker) as conn:
        channel = conn.channel()
        for name in absent:
            channel.queue_delete(f"rpc-{name}")
    from services.catalog.service import CatalogService
    from services.evaluation.service import EvaluationService
    from services.gateway.service import GatewayService
    from services.intake.service import IntakeService
    from services.referral.service import ReferralService

    services = {
        "intake": IntakeService,
        "referral": ReferralService,
        "catalog": CatalogService,
        "evaluation": EvaluationService,
        "gateway": GatewayService,
    }
    running = [name for name in services if name not in absent]
    monkeypatch.setenv("QI_SERVICES", ",".join(running))
    seed = support.seed_accounts(
        tmp_path / "accounts.json", access_tests.ACCOUNTS, access_tests.PASSWORD
    )
    monkeypatch.setenv("QI_SEED_ACCOUNTS", str(seed))
    monkeypatch.setenv("QI_GATEWAY_SECRET", "test-secret-" + "x" * 32)
    runner = runner_factory(
        *(services[name] for name in running), http_port=support.free_port()
    )
    client = access_tests.Client(f"http://{runner.http_address}")
    return client.get("/api/v1/board", "zhao")


def test_a_board_whose_service_is_not_running_is_503(
    databases, runner_factory, clean_broker, tmp_path, monkeypatch
):
    answer = board_without(
        runner_factory, clean_broker, tmp_path, monkeypatch, "evaluation"
    )
    assert answer.status_code == 503, answer.text
    assert answer.json()["title"] == "服务暂不可用，请稍后再试"


def test_without_catalog_the_board_counts_idle_demands_by_the_default_limit(
    databases, runner_factory, clean_broker, tmp_path, monkeypatch
):
    answer = board_without(
        runner_factory, clean_broker, tmp_path, monkeypatch, "catalog"
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["stale"] == []
    assert {s["username"] for s in answer.json()["staff"]} >= {"wang", "zhao"}
