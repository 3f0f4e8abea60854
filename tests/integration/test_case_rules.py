"""The rules that hold a case together, over HTTP (issue 20): item codes the
catalog holds, corrections kept in the history, no stranded owner (7.4.2),
nothing resolved while a referral is open, in-house deadlines, unsent
referrals escalated, refusals never answered 2xx, one clock in Beijing time.

Services run in this process on the real RabbitMQ, stores on PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
import uuid
from datetime import UTC, datetime, timedelta

import requests

from services.catalog.contract import institution_id
from shared import calendar, config, topology
from shared.amqp import ConfirmingPublisher
from shared.providers import application_of
from tests import support
from tests.integration import test_gateway_access as access_tests
from tests.integration.test_application_kernel import demand_referred
from tests.integration.test_gateway_efficiency import settled_events
from tests.smtp_sink import SmtpSink

# the fixtures of the access tests: the same services, accounts and client
backend = access_tests.backend


gateway = access_tests.gateway

ONLINE_FORM = access_tests.ONLINE_FORM
PASSED = dict.fromkeys(("capability", "method", "cycle", "fee"), True)
CJK = re.compile(r"[\u4e00-\u9fff]")


def registered(gateway, who: str = "wang", **changes) -> str:
    form = {**ONLINE_FORM, "channel": "window", **changes}
    answer = gateway.post("/api/v1/demands", form, who)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def history(gateway, demand_id: str, who: str = "wang") -> list[str]:
    items = gateway.get(f"/api/v1/demands/{demand_id}/history", who).json()["items"]
    return [h["event"] for h in items]


def app_of(gateway, service: str):
    return application_of(support.container_of(gateway.runner, service))


# -- 1. item codes checked against the catalog ----------------------------------


def test_an_item_the_catalog_does_not_hold_is_refused_at_registration(gateway):
    before = settled_events(gateway, "intake")
    online = gateway.post(
        "/api/v1/demands", {**ONLINE_FORM, "service_item_code": "6.3.3"}
    )
    assert online.status_code == 400, online.text
    [error] = online.json()["errors"]
    assert error["field"] == "service_item_code"
    assert "6.3.3" in error["message"] and CJK.search(error["message"])

    needs = [
        {"item_code": "6.3.1", "description": "玩具安全检测"},
        {"item_code": "6.3.3", "description": "不存在的事项"},
    ]
    shorthand = ("service_item_code", "description")
    form = {k: v for k, v in ONLINE_FORM.items() if k not in shorthand}
    form = {**form, "channel": "window", "needs": needs}
    window = gateway.post("/api/v1/demands", form, "wang")
    assert window.status_code == 400, window.text
    assert [e["field"] for e in window.json()["errors"]] == ["needs[1].item_code"]
    assert settled_events(gateway, "intake") == before  # nothing stored


def test_a_referral_that_cannot_be_opened_is_on_the_board_with_why(
    gateway, clean_broker
):
    demand_id = str(uuid.uuid4())
    envelope = demand_referred(position=90_001, demand_id=demand_id)
    envelope = dataclasses.replace(envelope, data={**envelope.data, "items": ["6.3.3"]})
    publisher = ConfirmingPublisher(clean_broker)
    try:
        publisher.publish_batch(
            topology.event_exchange("intake").name,
            [("DemandReferred", support.signed(envelope))],
        )
    finally:
        publisher.close()

    def unopened():
        board = gateway.get("/api/v1/board", "zhao")
        assert board.status_code == 200, board.text
        return board.json()["unopened"]

    [row] = support.wait_for(unopened, timeout=15)
    assert row["demand_id"] == demand_id and row["items"] == ["6.3.3"]
    assert "6.3.3" in row["reason"] and "服务目录" in row["reason"]
    # another institution's manager does not see it; staff have no board
    assert gateway.get("/api/v1/board", "othermgr").json()["unopened"] == []
    assert gateway.get("/api/v1/board", "wang").status_code == 403


# -- 2. a registered form corrected --------------------------------------------


def test_staff_correct_a_form_checked_as_a_registration_and_the_old_stays(gateway):
    demand_id = registered(gateway, main_business="电子玩具")
    path = f"/api/v1/demands/{demand_id}"
    assert gateway.post(f"{path}/take", who="wang").status_code == 200
    events = history(gateway, demand_id)

    refused = [
        ({"contact_phone": "123", "reason": "客户来电更正"}, "contact_phone"),
        ({"service_item_code": "6.3.3", "reason": "客户改项"}, "service_item_code"),
        ({"main_business": "电子玩具"}, "reason"),
        ({"main_business": "电子玩具", "reason": "没有改动"}, "body"),
    ]
    for body, field in refused:
        answer = gateway.post(f"{path}/correction", body, "wang")
        assert answer.status_code == 400, (body, answer.text)
        assert field in [e["field"] for e in answer.json()["errors"]], answer.text
    assert history(gateway, demand_id) == events  # nothing stored

    before = datetime.now(UTC)
    corrected = gateway.post(
        f"{path}/correction",
        {
            "main_business": "儿童玩具与电子产品",
            "service_item_code": "6.4",
            "description": "产品认证咨询",
            "reason": "客户来电更正主营业务与服务事项",
        },
        "liqiang",
    )
    assert corrected.status_code == 200, corrected.text
    shown = corrected.json()
    assert shown["main_business"] == "儿童玩具与电子产品"
    assert [n["item_code"] for n in shown["needs"]] == ["6.4"]
    assert shown["corrections"] == [
        {
            "staff_id": "liqiang",
            "reason": "客户来电更正主营业务与服务事项",
            "fields": ["main_business", "needs"],
        }
    ]
    assert history(gateway, demand_id)[-1] == "Corrected"
    assert (
        gateway.post(
            f"{path}/correction", {"main_business": "x", "reason": "越权"}, "other"
        ).status_code
        == 404
    )

    # the regulator reads the case as it stood before and after
    old = gateway.get(
        f"/api/v1/audit/cases/{demand_id}", "sun", params={"as_of": before.isoformat()}
    ).json()
    now = gateway.get(f"/api/v1/audit/cases/{demand_id}", "sun").json()
    assert old["demand"]["main_business"] == "电子玩具"
    assert [n["item_code"] for n in old["demand"]["needs"]] == ["6.3.1"]
    assert now["demand"]["main_business"] == "儿童玩具与电子产品"
    assert "Demand.Corrected" in [e["event"] for e in now["timeline"]]


def console(gateway, who: str) -> tuple[requests.Session, str]:
    """A browser signed in to the console, and its CSRF token."""
    browser = requests.Session()
    browser.get(f"{gateway.base}/console/login", timeout=10)
    csrf = browser.cookies["qi_csrf"]
    signed_in = browser.post(
        f"{gateway.base}/console/login",
        data={"username": who, "password": access_tests.PASSWORD, "csrf": csrf},
        timeout=10,
    )
    assert signed_in.status_code == 200, signed_in.text
    return browser, csrf


def test_the_console_corrects_a_form(gateway):
    demand_id = registered(gateway)
    browser, csrf = console(gateway, "wang")
    page = f"{gateway.base}/console/demands/{demand_id}"
    assert "更正登记表" in browser.get(page, timeout=10).text
    bad = browser.post(
        f"{page}/correction",
        data={"contact_phone": "123", "reason": "更正电话", "csrf": csrf},
        timeout=10,
    )
    assert bad.status_code == 400
    done = browser.post(
        f"{page}/correction",
        data={"contact_person": "王经理", "reason": "补记联系人", "csrf": csrf},
        timeout=10,
    )
    assert done.status_code == 200 and "登记表已更正" in done.text
    assert (
        gateway.get(f"/api/v1/demands/{demand_id}", "wang").json()["registration"][
            "contact_person"
        ]
        == "王经理"
    )


# -- 3. no stranded owner (7.4.2) ------------------------------------------------


def test_hand_overs_go_to_colleagues_are_withdrawn_and_managers_reassign(gateway):
    demand_id = registered(gateway)
    path = f"/api/v1/demands/{demand_id}"
    assert gateway.post(f"{path}/take", who="wang").status_code == 200
    for receiver in ("wnag", "other", "sun"):  # mistyped, foreign, not staff
        offer = {"to_staff": receiver, "reason": "外出培训"}
        refused = gateway.post(f"{path}/handover", offer, "wang")
        assert refused.status_code == 400, refused.text
        assert refused.json()["errors"][0]["field"] == "to_staff"
    offer = {"to_staff": "liqiang", "reason": "外出培训"}
    assert gateway.post(f"{path}/handover", offer, "wang").status_code == 200

    withdrawal = {"reason": "培训取消"}
    not_his = gateway.post(f"{path}/handover-withdrawal", withdrawal, "liqiang")
    assert not_his.status_code == 400
    withdrawn = gateway.post(f"{path}/handover-withdrawal", withdrawal, "wang")
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["handover"] is None
    late = gateway.post(f"{path}/handover-answer", {"accept": True}, "liqiang")
    assert late.status_code == 400  # nothing left to accept
    assert history(gateway, demand_id)[-1] == "HandoverWithdrawn"

    # wang leaves: his account is disabled; his open demand is on the board
    disabled = gateway.post(
        "/api/v1/accounts/wang/disable", {"reason": "离职"}, "admin"
    )
    assert disabled.status_code == 200, disabled.text
    board = gateway.get("/api/v1/board", "zhao").json()
    assert [(r["demand_id"], r["owner"]) for r in board["disabled_owners"]] == [
        (demand_id, "wang")
    ]
    reassignment = {"to_staff": "liqiang", "reason": "原负责人已离职"}
    assert (
        gateway.post(f"{path}/reassignment", reassignment, "liqiang").status_code == 403
    )
    to_disabled = {"to_staff": "wang", "reason": "试试"}
    assert gateway.post(f"{path}/reassignment", to_disabled, "zhao").status_code == 400
    moved = gateway.post(f"{path}/reassignment", reassignment, "zhao")
    assert moved.status_code == 200, moved.text
    assert moved.json()["owner"] == "liqiang"
    assert moved.json()["reassignments"] == [
        {"by": "zhao", "from": "wang", "to": "liqiang", "reason": "原负责人已离职"}
    ]
    assert history(gateway, demand_id, "zhao")[-1] == "Reassigned"
    assert gateway.get("/api/v1/board", "zhao").json()["disabled_owners"] == []


# -- 4. nothing closed while work is open; deadlines ---------------------------


def referred_demand(gateway) -> tuple[str, str]:
    demand_id = registered(gateway)
    path = f"/api/v1/demands/{demand_id}"
    gateway.post(f"{path}/take", who="wang")
    gateway.post(f"{path}/contract-review", {"checks": PASSED}, "wang")
    decided = gateway.post(f"{path}/decision", {"outcome": "referred"}, "wang")
    assert decided.status_code == 200, decided.text

    def opened():
        found = gateway.get(path, "wang").json()["referrals"]
        return found[0] if found else None

    return demand_id, support.wait_for(opened, timeout=15)["id"]


def test_a_demand_with_an_open_referral_is_not_resolved_and_unsent_ones_escalate(
    gateway,
):
    access_tests.lab_with_partner(gateway, "res")
    demand_id, referral_id = referred_demand(gateway)
    path = f"/api/v1/demands/{demand_id}"
    events = history(gateway, demand_id)
    refused = gateway.post(f"{path}/resolution", {"summary": "已办结"}, "wang")
    assert refused.status_code == 409, refused.text
    assert referral_id in refused.json()["detail"]
    assert "6.3.1" in refused.json()["detail"]
    assert history(gateway, demand_id) == events

    # matched but never sent: escalated once after the configured limit
    referral = app_of(gateway, "referral")
    catalog = app_of(gateway, "catalog")
    matched = gateway.get(f"/api/v1/referrals/{referral_id}", "wang").json()
    assert matched["state"] == "matched"
    soon = datetime.now(UTC) + timedelta(minutes=1)
    assert referral_id not in referral.escalate_all_overdue(catalog, soon)
    later = datetime.now(UTC) + timedelta(days=5)
    assert referral.escalate_all_overdue(catalog, later)[referral_id] == ["sending"]
    assert referral_id not in referral.escalate_all_overdue(catalog, later)
    board = gateway.get("/api/v1/board", "zhao").json()
    [watched] = [r for r in board["referrals"] if r["id"] == referral_id]
    assert watched["escalated"] and watched["state"] == "matched"


def in_house_demand(gateway) -> tuple[str, dict]:
    """A demand wang serves in-house (jsqi qualified for 6.3.1 if need be)."""
    demand_id = registered(gateway)
    path = f"/api/v1/demands/{demand_id}"
    gateway.post(f"{path}/take", who="wang")
    gateway.post(f"{path}/contract-review", {"checks": PASSED}, "wang")
    decision = {"outcome": "in_house", "details": {"department": "电子检测部"}}
    decided = gateway.post(f"{path}/decision", decision, "wang")
    if decided.status_code == 409:  # 4.1: the institution must hold the item
        qualify_front_door(gateway)
        decided = gateway.post(f"{path}/decision", decision, "wang")
    assert decided.status_code == 200, decided.text
    return demand_id, decided.json()


def test_a_demand_referred_is_not_resolved_before_its_referral_opens(gateway):
    """Resolved at once after the referral decision, before referral has
    consumed DemandReferred: the item counts as open until its referral
    closes, opened or not yet (8.3.5)."""
    demand_id = registered(gateway)
    path = f"/api/v1/demands/{demand_id}"
    gateway.post(f"{path}/take", who="wang")
    gateway.post(f"{path}/contract-review", {"checks": PASSED}, "wang")
    decided = gateway.post(f"{path}/decision", {"outcome": "referred"}, "wang")
    assert decided.status_code == 200, decided.text
    assert decided.json()["referred_items"] == ["6.3.1"]
    refused = gateway.post(f"{path}/resolution", {"summary": "已办结"}, "wang")
    assert refused.status_code == 409, refused.text
    assert "6.3.1" in refused.json()["detail"]
    opened = support.wait_for(
        lambda: gateway.get(path, "wang").json()["referrals"], timeout=15
    )
    again = gateway.post(f"{path}/resolution", {"summary": "已办结"}, "wang")
    assert again.status_code == 409, again.text
    assert opened[0]["id"] in again.json()["detail"]
    assert "Resolved" not in history(gateway, demand_id)


def test_an_in_house_demand_with_a_referral_opened_late_is_not_resolved(
    gateway, clean_broker
):
    """A demand served in-house whose item also has a referral open (a
    DemandReferred replayed after the demand was reopened and decided
    in-house): resolving is refused naming it, whatever the demand's status."""
    demand_id, decided = in_house_demand(gateway)
    assert decided["status"] == "in_service" and decided["referred_items"] == []
    path = f"/api/v1/demands/{demand_id}"
    opened = referral_opened_late(gateway, clean_broker, demand_id, 90_002)
    events = history(gateway, demand_id)
    refused = gateway.post(f"{path}/resolution", {"summary": "已办结"}, "wang")
    assert refused.status_code == 409, refused.text
    assert opened["id"] in refused.json()["detail"]
    assert "6.3.1" in refused.json()["detail"]
    assert history(gateway, demand_id) == events  # nothing stored

    # once its referral is closed, the in-house service is resolved
    cancelled = gateway.post(
        f"/api/v1/referrals/{opened['id']}/cancellation",
        {"reason": "误转办，本机构自主服务"},
        "wang",
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["state"] == "cancelled"
    resolved = gateway.post(f"{path}/resolution", {"summary": "已办结"}, "wang")
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "resolved"


def test_a_reopened_demand_with_an_open_referral_is_not_answered_at_once(
    gateway, clean_broker
):
    """Referred for one item, resolved once that referral closed, reopened:
    a referral of its other item opened since (a DemandReferred replayed)
    keeps it from being answered at once (8.3.1), which ends the service as
    a resolution does (8.3.5)."""
    needs = [
        {"item_code": "6.3.1", "description": "玩具安全检测"},
        {"item_code": "6.4", "description": "产品认证咨询"},
    ]
    shorthand = ("service_item_code", "description")
    form = {k: v for k, v in ONLINE_FORM.items() if k not in shorthand}
    form = {**form, "channel": "window", "needs": needs}
    created = gateway.post("/api/v1/demands", form, "wang")
    assert created.status_code == 201, created.text
    demand_id = created.json()["id"]
    path = f"/api/v1/demands/{demand_id}"
    gateway.post(f"{path}/take", who="wang")
    gateway.post(f"{path}/contract-review", {"checks": PASSED}, "wang")
    referred = {"outcome": "referred", "details": {"items": ["6.3.1"]}}
    assert gateway.post(f"{path}/decision", referred, "wang").status_code == 200
    [first] = support.wait_for(
        lambda: gateway.get(path, "wang").json()["referrals"], timeout=15
    )
    cancelled = gateway.post(
        f"/api/v1/referrals/{first['id']}/cancellation", {"reason": "客户撤回"}, "wang"
    )
    assert cancelled.status_code == 200, cancelled.text
    done = gateway.post(f"{path}/resolution", {"summary": "客户撤回转办"}, "wang")
    assert done.status_code == 200, done.text
    reopened = gateway.post(f"{path}/reopening", {"reason": "客户改为咨询"}, "wang")
    assert reopened.status_code == 200, reopened.text
    assert reopened.json()["referred_items"] == ["6.3.1"]

    late = referral_opened_late(gateway, clean_broker, demand_id, 90_003, "6.4")
    events = history(gateway, demand_id)
    answer = {"outcome": "answered", "details": {"answer": "已电话答复"}}
    refused = gateway.post(f"{path}/decision", answer, "wang")
    assert refused.status_code == 409, refused.text
    assert late["id"] in refused.json()["detail"] and "6.4" in refused.json()["detail"]
    assert first["id"] not in refused.json()["detail"]  # that one is closed
    assert history(gateway, demand_id) == events


def referral_opened_late(
    gateway, broker: str, demand_id: str, position: int, item: str = "6.3.1"
):
    """A DemandReferred for the demand's ``item`` arriving now (a parked one
    replayed), and the referral referral opens from it."""
    envelope = demand_referred(position=position, demand_id=demand_id)
    envelope = dataclasses.replace(envelope, data={**envelope.data, "items": [item]})
    publisher = ConfirmingPublisher(broker)
    try:
        publisher.publish_batch(
            topology.event_exchange("intake").name,
            [("DemandReferred", support.signed(envelope))],
        )
    finally:
        publisher.close()
    referral = app_of(gateway, "referral")
    [opened] = support.wait_for(
        lambda: referral.referrals_for(demand_id, [item]), timeout=15
    )
    return opened


def test_in_house_service_is_due_by_the_items_cycle_and_swept_once(gateway):
    demand_id, decided = in_house_demand(gateway)
    cycle = gateway.get("/api/v1/catalog/items/6.3.1").json()["cycle_days"]
    due = datetime.fromisoformat(decided["in_house_due"])
    expected = calendar.calendar_from_env().add_working_days(calendar.today(), cycle)
    assert due.astimezone(calendar.SHANGHAI).date() == expected

    intake = app_of(gateway, "intake")
    assert demand_id not in intake.sweep_in_house(due - timedelta(days=3))
    assert intake.sweep_in_house(due - timedelta(hours=1))[demand_id] == ["reminded"]
    assert demand_id not in intake.sweep_in_house(due - timedelta(minutes=30))
    assert intake.sweep_in_house(due + timedelta(hours=1))[demand_id] == ["escalated"]
    assert demand_id not in intake.sweep_in_house(due + timedelta(days=2))
    events = history(gateway, demand_id)
    assert events.count("InHouseReminded") == events.count("InHouseEscalated") == 1
    board = gateway.get("/api/v1/board", "zhao").json()
    assert [r["demand_id"] for r in board["in_house_overdue"]] == [demand_id]


def test_in_house_reminder_and_escalation_reach_the_owner_and_managers_once(
    gateway, tmp_path, monkeypatch
):
    """Past its due date, in-house service is reminded to its owner (the
    institution's staff inbox) and escalated to its managers (inbox and
    e-mail, their address configured), once each (8.3.2, 8.3.5, 9.4)."""
    sink = SmtpSink(tmp_path / "mail", support.free_port()).start()
    try:
        book = tmp_path / "addresses.json"
        book.write_text(
            json.dumps({"jsqi": {"manager": "zhao@jsqi.example.cn"}}),
            encoding="utf-8",
        )
        monkeypatch.setenv("QI_SMTP_URL", sink.url)
        monkeypatch.setenv("QI_NOTIFY_ADDRESSES", str(book))
        demand_id, decided = in_house_demand(gateway)
        due = datetime.fromisoformat(decided["in_house_due"])
        intake = app_of(gateway, "intake")
        assert intake.sweep_in_house(due - timedelta(hours=1))[demand_id] == [
            "reminded"
        ]

        def inbox(who: str, kind: str) -> list[dict]:
            answer = gateway.get("/api/v1/inbox", who)
            assert answer.status_code == 200, answer.text
            return [
                m
                for m in answer.json()["items"]
                if m["kind"] == kind and m["demand_id"] == demand_id
            ]

        [reminder] = support.wait_for(
            lambda: inbox("wang", "in_house_due_soon"), timeout=20
        )
        assert reminder["audience"] == "staff" and reminder["institution"] == "jsqi"
        assert reminder["text"].startswith("首问负责人 wang：")
        assert "6.3.1" in reminder["subject"] and "即将届满" in reminder["text"]
        assert inbox("wang", "in_house_overdue") == []  # not yet overdue

        assert demand_id not in intake.sweep_in_house(due - timedelta(minutes=30))
        assert intake.sweep_in_house(due + timedelta(hours=1))[demand_id] == [
            "escalated"
        ]
        assert demand_id not in intake.sweep_in_house(due + timedelta(days=2))
        [escalation] = support.wait_for(
            lambda: inbox("zhao", "in_house_overdue"), timeout=20
        )
        assert escalation["audience"] == "manager"
        assert "已超过办结期限" in escalation["text"]
        assert "首问负责人 wang" in escalation["text"]
        [mail] = support.wait_for(lambda: sink.to("zhao@jsqi.example.cn"), timeout=20)
        assert mail["Subject"] == "自主服务超期需督办：服务事项 6.3.1"
        assert demand_id in mail["Subject"] + mail.get_body(("plain",)).get_content()

        # once each: later sweeps and rounds add nothing; staff do not read
        # the managers' escalation, managers read both
        support.wait_for(
            lambda: gateway.get("/api/v1/inbox", "zhao").json()["total"] >= 2
        )
        time.sleep(2 * config.get_float("QI_NOTIFY_POLL_SECONDS"))
        assert intake.sweep_in_house(due + timedelta(days=3)) == {}
        assert [m["id"] for m in inbox("wang", "in_house_due_soon")] == [reminder["id"]]
        assert inbox("wang", "in_house_overdue") == []
        assert [m["id"] for m in inbox("zhao", "in_house_overdue")] == [
            escalation["id"]
        ]
        assert len(inbox("zhao", "in_house_due_soon")) == 1
        assert len(sink.messages()) == 1  # the owner has no address: inbox only
    finally:
        sink.kill()


def qualify_front_door(gateway) -> None:
    """The receiving institution (jsqi, seeded) holds a qualification for 6.3.1."""
    granted = gateway.post(
        f"/api/v1/catalog/institutions/{institution_id('jsqi')}/qualifications",
        {
            "kind": "CMA",
            "cert_no": "CMA-jsqi",
            "scope_codes": ["6.3.1"],
            "valid_from": "2026-01-01",
            "valid_to": "2030-12-31",
        },
        "admin",
    )
    assert granted.status_code == 201, granted.text


# -- 8. refusals are never 2xx; one clock ---------------------------------------


def test_a_refused_materials_notice_answers_409_naming_them_and_is_recorded(
    gateway,
):
    demand_id = registered(gateway)
    path = f"/api/v1/demands/{demand_id}"
    gateway.post(f"{path}/take", who="wang")
    checklist = gateway.get("/api/v1/catalog/items/6.3.1").json()["materials"]
    first = gateway.post(
        f"{path}/materials-notice", {"provided": checklist[:1]}, "wang"
    )
    assert first.status_code == 200, first.text
    gateway.post(f"{path}/supplements", {"items": checklist[1:]}, "wang")

    late = gateway.post(f"{path}/materials-notice", {"provided": []}, "wang")
    assert late.status_code == 409, late.text
    problem = late.json()
    assert "7.4.3" in problem["detail"] and checklist[0] in problem["detail"]
    assert history(gateway, demand_id)[-1] == "NoticeRefused"  # still counted
    # the console says it was refused, never that it went out
    browser, csrf = console(gateway, "wang")
    page = browser.post(
        f"{gateway.base}/console/demands/{demand_id}/materials-notice",
        data={"csrf": csrf},
        timeout=10,
    )
    assert page.status_code == 409
    assert "7.4.3" in page.text and checklist[0] in page.text
    assert 'class="notice" role="status"' not in page.text  # no success banner
    assert history(gateway, demand_id).count("NoticeRefused") == 2

    details = {"outcome": "in_house", "details": {"outcome": "referred"}}
    forged = gateway.post(f"{path}/decision", details, "wang")
    assert forged.status_code == 400
    assert history(gateway, demand_id)[-1] == "NoticeRefused"


def test_today_is_beijing_s_at_one_in_the_morning(gateway, monkeypatch):
    """At 01:00 Beijing time (17:00 UTC the day before) a qualification that
    ended yesterday in Beijing is no longer valid, for every service."""
    lab = gateway.post(
        "/api/v1/catalog/institutions",
        {"code": "91320100LAB0000clkX", "name": "时钟检测中心", "kind": "lab"},
        "admin",
    ).json()
    one_am = datetime(2026, 12, 4, 1, 0, tzinfo=calendar.SHANGHAI)
    granted = gateway.post(
        f"/api/v1/catalog/institutions/{lab['id']}/qualifications",
        {
            "kind": "CMA",
            "cert_no": "CMA-clk",
            "scope_codes": ["6.5"],
            "valid_from": "2026-01-01",
            "valid_to": "2026-12-03",
        },
        "admin",
    )
    assert granted.status_code == 201, granted.text
    monkeypatch.setattr(calendar, "CLOCK", lambda: one_am.astimezone(UTC))
    assert calendar.today().isoformat() == "2026-12-04"

    listed = gateway.get(
        "/api/v1/catalog/qualified-institutions", params={"item": "6.5"}
    )
    assert listed.status_code == 200, listed.text
    assert listed.json()["on"] == "2026-12-04"
    assert lab["id"] not in [i["institution_id"] for i in listed.json()["institutions"]]
    assert app_of(gateway, "referral").today().isoformat() == "2026-12-04"
