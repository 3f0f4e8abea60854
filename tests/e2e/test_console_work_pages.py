"""The staff work pages in a real browser: fee quotes (5.3.1.5), the chain of
custody of samples (7.4.4) and the manager's staff efficiency (9.2.2).

As in test_console_pages.py, the harness (tests/e2e/browser.py) runs this
file as a script in a child process that drives one Chromium for the module,
with the network to anything but 127.0.0.1 blocked; the tests below judge
what it saw. Every form is sent wrong once (a message by the field,
nothing stored, checked through the JSON API), and staff and managers of
another institution try the pages by URL. Screenshots land in
tests/artifacts/console/ as work-*.png.
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlparse

from tests.e2e.browser import (
    ARTIFACTS,
    DESKTOP,
    MANAGER,
    OTHER_MANAGER,
    OTHER_STAFF,
    PHONE,
    REGULATOR,
    STAFF,
    Api,
    Driver,
    hand_over,
    needs_chromium,
    open_accounts,
    page_fixtures,
    run_scenarios,
    scenario_ran,
)

FRONT_DOOR_NAME = "江苏省质量基础设施一站式服务中心"
SAMPLE = "YP-2026-0001"
EVER = "since=2000-01-01T00:00:00%2B08:00&until=2100-01-01T00:00:00%2B08:00"


# --------------------------------------------------------------------------
# the browser side: run as ``python tests/e2e/test_console_work_pages.py``
# --------------------------------------------------------------------------


def set_up(base_url: str) -> str:
    """Accounts of another institution, and a demand at the front door."""
    open_accounts(
        base_url,
        (
            (OTHER_STAFF[0], "staff", "otherqi"),
            (OTHER_MANAGER[0], "manager", "otherqi"),
        ),
    )
    filed = Api(base_url, STAFF).post(
        "/api/v1/demands",
        {
            "applicant": "扬州某线缆有限公司",
            "contact_phone": "13912345678",
            "service_item_code": "6.3.1",
            "description": "电线电缆阻燃性能检测",
            "channel": "window",
        },
    )
    assert filed.status_code == 201, filed.text
    demand_id = filed.json()["id"]
    # wang takes it: one first response for the efficiency figures, once the
    # evaluation service has the event
    staff = Api(base_url, STAFF)
    assert staff.post(f"/api/v1/demands/{demand_id}/take", {}).status_code == 200
    figures = f"/api/v1/evaluation/staff/{STAFF[0]}/efficiency?" + EVER
    manager = Api(base_url, MANAGER)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        counted = manager.get(figures).json()["timeliness"]["first_responses"]
        if counted:
            break
        time.sleep(0.2)
    return demand_id


def stored(api: Api, demand_id: str, prefix: str) -> int:
    """Events of the demand's case whose name starts with ``prefix``, as the
    regulator's audit of the case lists them (every service's store)."""
    audit = api.get(f"/api/v1/audit/cases/{demand_id}").json()
    return sum(1 for row in audit["timeline"] if row["event"].startswith(prefix))


def quote_drafted_issued_and_accepted(drive: Driver, seen: dict) -> None:
    demand_id = seen["demand_id"]
    regulator = Api(drive.base_url, REGULATOR)
    staff = drive.person(DESKTOP)
    drive.login(staff, STAFF)
    drive.go(staff, f"/console/demands/{demand_id}")
    seen["front_door_shown"] = staff.inner_text("[data-institution]")
    drive.submit(staff, staff.get_by_role("link", name="收费报价"))
    seen["quotes_path"] = urlparse(staff.url).path

    # the table as it comes (the demand's item in the first row), then that
    # row with a bad price and no sample count
    button = staff.get_by_role("button", name="生成报价草稿")
    seen["draft_empty"] = drive.sent(staff, button)
    staff.fill("#draft-lines-0-parameter", "阻燃性能")
    staff.fill("#draft-lines-0-unit_price", "一百")
    seen["draft_bad_row"] = {
        **drive.sent(staff, button),
        "kept": staff.input_value("#draft-lines-0-parameter"),
    }
    drive.shot(staff, "work-quote-errors")
    seen["quotes_stored_by_bad_input"] = stored(regulator, demand_id, "Quote.")

    # 120.50 × 12 = 1446.00, 5 % off for 10+ samples → 1373.70; + 80.00
    # = 1453.70; the 5 % discount is 72.685 → 72.69; total 1381.01
    staff.fill("#draft-lines-0-unit_price", "120.50")
    staff.fill("#draft-lines-0-samples", "12")
    staff.fill("#draft-lines-1-item_code", "6.3.1")
    staff.fill("#draft-lines-1-parameter", "烟密度")
    staff.fill("#draft-lines-1-unit_price", "80")
    staff.fill("#draft-lines-1-samples", "1")
    staff.fill("#draft-discount_percent", "5")
    drive.submit(staff, button)
    seen["quote_path"] = urlparse(staff.url).path
    seen["quote_drafted"] = {
        "state": staff.inner_text("dl [data-quote-state]"),
        "total": staff.inner_text("[data-total]"),
        "notice": staff.inner_text(".notice"),
    }
    # the customer wants 50 samples: a second version, once refused for 0
    revise = staff.get_by_role("button", name="保存为新版本")
    staff.fill("#revision-lines-0-samples", "0")
    seen["revision_bad"] = drive.sent(staff, revise)
    seen["quote_events_after_bad_revision"] = stored(regulator, demand_id, "Quote.")
    # 120.50 × 50 = 6025.00, 10 % off for 50+ → 5422.50; + 80.00 = 5502.50;
    # 5 % discount 275.125 → 275.13; total 5227.37
    staff.fill("#revision-lines-0-samples", "50")
    drive.submit(staff, revise)
    seen["quote_revised"] = {
        "title": staff.inner_text("h1"),
        "total": staff.inner_text("[data-total]"),
    }
    drive.submit(staff, staff.get_by_role("button", name="出具第2版报价"))
    seen["quote_issued_state"] = staff.inner_text("dl [data-quote-state]")
    drive.submit(staff, staff.get_by_role("button", name="记录客户已接受第2版"))
    seen["quote_accepted_state"] = staff.inner_text("dl [data-quote-state]")
    drive.shot(staff, "work-quote-accepted")
    quote_id = seen["quote_path"].rsplit("/", 1)[1]
    seen["quote_id"] = quote_id
    answer = Api(drive.base_url, STAFF).get(f"/api/v1/quotes/{quote_id}").json()
    seen["quote_api"] = {
        "state": answer["state"],
        "total": answer["breakdown"]["total"],
        "lines": len(answer["breakdown"]["lines"]),
    }
    seen["quote_events"] = stored(regulator, demand_id, "Quote.")
    drive.go(staff, f"/console/demands/{demand_id}/quotes")
    seen["quotes_listed"] = staff.locator("[data-quote-id]").count()
    staff.context.close()


def samples_handed_over_along_a_chain(drive: Driver, seen: dict) -> None:
    demand_id = seen["demand_id"]
    regulator = Api(drive.base_url, REGULATOR)
    staff = drive.person(DESKTOP)
    drive.login(staff, STAFF)
    drive.go(staff, f"/console/demands/{demand_id}")
    drive.submit(staff, staff.get_by_role("link", name="样品交接与报告送达"))

    register = staff.get_by_role("button", name="登记样品")
    seen["sample_empty"] = drive.sent(staff, register)
    seen["custody_stored_by_bad_input"] = stored(regulator, demand_id, "SampleCustody.")
    staff.fill("#sample-sample_id", SAMPLE)
    staff.fill("#sample-description", "阻燃电缆 ZR-YJV 3×2.5，每段 1 米")
    staff.fill("#sample-quantity", "3")
    drive.submit(staff, register)
    seen["sample_notice"] = staff.inner_text(".notice")

    handover = staff.get_by_role("button", name="记录交接")
    before = stored(regulator, demand_id, "SampleCustody.")
    seen["handover_empty"] = drive.sent(staff, handover)
    seen["handover_stored_by_bad_input"] = (
        stored(regulator, demand_id, "SampleCustody.") - before
    )
    drive.shot(staff, "work-custody-errors")

    for holder, to, at, place in (
        ("customer", STAFF[0], "2026-11-26T09:30", "服务窗口"),
        (STAFF[0], "南京检测中心 收样员", "2026-11-26T15:00", "南京检测中心收样室"),
    ):
        staff.get_by_label(SAMPLE, exact=False).first.check()
        staff.select_option("#handover-from_party", holder)
        staff.fill("#handover-to_party", to)
        staff.fill("#handover-at", at)
        staff.fill("#handover-place", place)
        drive.submit(staff, handover)
    seen["holder"] = staff.inner_text(f"[data-sample-id='{SAMPLE}'] [data-holder]")
    seen["chain"] = [
        [
            row.locator("[data-from]").inner_text(),
            row.locator("[data-to]").inner_text(),
        ]
        for row in staff.locator("[data-movement]").all()
    ]
    seen["chain_text"] = staff.inner_text("[data-chain]")

    staff.fill("#delivery-report_no", "NJ-2026-0077")
    staff.select_option("#delivery-method", "email")
    staff.fill("#delivery-email", "zhang@example.com")
    drive.submit(staff, staff.get_by_role("button", name="记录送达"))
    seen["deliveries"] = staff.inner_text("[data-deliveries]")
    drive.shot(staff, "work-custody-chain")

    # tested to destruction: the lab disposes of it and custody ends
    staff.locator("#disposal-sample_ids input").first.check()
    staff.select_option("#disposal-from_party", "南京检测中心 收样员")
    staff.fill("#disposal-at", "2026-12-01T16:00")
    staff.fill("#disposal-place", "南京检测中心")
    staff.fill("#disposal-method", "燃烧试验后残样按固体废物处置")
    drive.submit(staff, staff.get_by_role("button", name="记录处置"))
    seen["after_disposal"] = {
        "state": staff.inner_text(f"[data-sample-id='{SAMPLE}']"),
        "last": staff.locator("[data-movement] [data-action]").last.inner_text(),
        "forms": staff.locator("#handover-sample_ids").count(),
    }
    seen["handovers_stored"] = stored(
        regulator, demand_id, "SampleCustody.SampleHandedOver"
    )
    staff.context.close()

    # the regulator reads the chain and is offered no form
    reader = drive.person(PHONE)
    drive.login(reader, REGULATOR)
    drive.go(reader, f"/console/demands/{demand_id}/custody")
    seen["regulator_chain_rows"] = reader.locator("[data-movement]").count()
    seen["regulator_forms"] = reader.locator("main form").count()
    drive.shot(reader, "work-custody-regulator")
    reader.context.close()


def manager_assesses_efficiency(drive: Driver, seen: dict) -> None:
    manager = drive.person(DESKTOP)
    drive.login(manager, MANAGER)
    seen["manager_menu"] = manager.inner_text("header nav")
    drive.submit(manager, manager.get_by_role("link", name="人员效能"))
    seen["efficiency_staff"] = sorted(
        row.get_attribute("data-staff") for row in manager.locator("[data-staff]").all()
    )
    # the page's figures are the API's for the same period
    since = manager.input_value("#since")
    until = manager.input_value("#until")
    row = manager.locator(f"[data-staff='{STAFF[0]}']")
    seen["wang_first_responses"] = row.locator("[data-first-responses]").inner_text()
    figures = (
        Api(drive.base_url, MANAGER)
        .get(
            f"/api/v1/evaluation/staff/{STAFF[0]}/efficiency"
            f"?since={since}T00:00:00%2B08:00&until={until}T23:59:59%2B08:00"
        )
        .json()
    )
    seen["api_first_responses"] = figures["timeliness"]["first_responses"]
    drive.shot(manager, "work-efficiency")

    for name, query in (
        ("period_bad_day", "since=2026-02-30"),
        ("period_backwards", "since=2026-06-30&until=2026-01-01"),
    ):
        status = drive.go(manager, f"/console/efficiency?{query}")
        seen[name] = {"status": status, "errors": drive.field_errors(manager)}

    drive.go(manager, "/console/efficiency")
    drive.submit(
        manager,
        manager.locator(f"[data-staff='{STAFF[0]}']").get_by_role(
            "button", name="评价并留存"
        ),
    )
    seen["assessment_path"] = urlparse(manager.url).path
    seen["assessed_staff"] = manager.inner_text("[data-assessed-staff]")
    assessment_id = seen["assessment_path"].rsplit("/", 1)[1]
    comment = manager.get_by_role("button", name="记录评价意见")
    seen["comment_empty"] = drive.sent(manager, comment)
    api = Api(drive.base_url, MANAGER)
    path = f"/api/v1/evaluation/efficiency-assessments/{assessment_id}"
    seen["comments_after_bad_input"] = len(api.get(path).json()["comments"])
    manager.fill("#comment-comment", "首次响应及时，继续保持")
    drive.submit(manager, comment)
    seen["comments_shown"] = manager.inner_text("[data-comments]")
    seen["comments_stored"] = [c["text"] for c in api.get(path).json()["comments"]]
    # an improvement item from the finding (9.3), refused once when empty
    improve = manager.get_by_role("button", name="登记整改事项")
    manager.select_option("#improvement-owner", "")
    seen["improvement_empty"] = drive.sent(manager, improve)
    items = "/api/v1/evaluation/improvements/"
    listed = manager_items(api)
    seen["improvements_after_bad_input"] = len(listed)
    manager.fill("#improvement-finding", "首次响应用时偏长")
    manager.select_option("#improvement-owner", STAFF[0])
    actions = "每日开窗前查看待受理需求\n窗口交接班时当面交接"
    manager.fill("#improvement-actions", actions)
    manager.fill("#improvement-deadline", "2026-12-31")
    drive.submit(manager, improve)
    seen["improvement_notice"] = manager.inner_text(".notice")
    seen["improvement_shown"] = manager.inner_text("[data-improvement]")
    seen["improvement_forms_left"] = improve.count()
    drive.shot(manager, "work-assessment")
    (opened,) = [i for i in manager_items(api) if i not in listed]
    item = api.get(items + opened).json()
    seen["improvement_stored"] = {
        k: item[k] for k in ("finding", "owner", "actions", "source", "ref")
    }
    seen["assessment_id"] = assessment_id
    drive.go(manager, "/console/board")
    seen["board_staff"] = manager.locator("[data-staff]").count()
    manager.context.close()

    staff = drive.person(DESKTOP)
    drive.login(staff, STAFF)
    seen["staff_efficiency"] = drive.opened(staff, "/console/efficiency")
    staff.context.close()


def manager_items(api: Api) -> list[str]:
    """The ids of the improvement items of the manager's institution."""
    listed = api.get("/api/v1/evaluation/improvements?limit=100").json()
    return [row["item_id"] for row in listed["items"]]


def another_institution_by_url(drive: Driver, seen: dict) -> None:
    demand_id = seen["demand_id"]
    outsider = drive.person(DESKTOP)
    drive.login(outsider, OTHER_STAFF)
    for name, path in (
        ("quotes", f"/console/demands/{demand_id}/quotes"),
        ("quote", f"/console/quotes/{seen['quote_id']}"),
        ("custody", f"/console/demands/{demand_id}/custody"),
    ):
        seen[f"outsider_{name}"] = drive.opened(outsider, path)
    drive.shot(outsider, "work-outsider-404")
    outsider.context.close()

    other = drive.person(DESKTOP)
    drive.login(other, OTHER_MANAGER)
    seen["outsider_assessment"] = drive.opened(other, seen["assessment_path"])
    drive.go(other, "/console/efficiency")
    seen["other_efficiency_staff"] = sorted(
        row.get_attribute("data-staff") for row in other.locator("[data-staff]").all()
    )
    other.context.close()


def drive(base_url: str, outdir: Path) -> dict:
    seen: dict = {"demand_id": set_up(base_url)}
    seen["qualified_for_6_3_1"] = [
        row["institution_name"]
        for row in Api(base_url)
        .get("/api/v1/catalog/qualified-institutions?item=6.3.1")
        .json()["institutions"]
    ]
    return run_scenarios(
        base_url,
        outdir,
        "*-work-*.png",  # this module's previous run
        (
            quote_drafted_issued_and_accepted,
            samples_handed_over_along_a_chain,
            manager_assesses_efficiency,
            another_institution_by_url,
        ),
        seen,
    )


# --------------------------------------------------------------------------
# the tests: a platform, one browser run, and what it saw
# --------------------------------------------------------------------------

pytestmark = needs_chromium


platform, seen = page_fixtures("work-pages", 180)


def test_staff_draft_issue_and_record_acceptance_of_a_quote(seen):
    scenario_ran(seen, "quote_drafted_issued_and_accepted")
    assert seen["quotes_path"] == f"/console/demands/{seen['demand_id']}/quotes"
    assert seen["quote_path"].startswith("/console/quotes/")
    assert seen["quote_drafted"]["state"] == "草稿"
    assert seen["quote_drafted"]["total"] == "1381.01 元"
    assert "草稿" in seen["quote_drafted"]["notice"]
    assert seen["quote_issued_state"] == "已出具"
    revised = seen["quote_revised"]
    assert revised == {"title": "收费报价（第2版）", "total": "5227.37 元"}
    assert seen["quote_accepted_state"] == "已接受"
    assert seen["quote_api"] == {"state": "accepted", "total": "5227.37", "lines": 2}
    # drafted, revised, issued, accepted; none from the refused forms
    assert seen["quote_events"] == 4
    assert seen["quotes_listed"] == 1


def test_a_bad_quote_names_the_row_and_field_and_stores_nothing(seen):
    scenario_ran(seen, "quote_drafted_issued_and_accepted")
    empty = seen["draft_empty"]
    assert empty["status"] == 400
    # the first row comes filled with the demand's item: what it lacks is named
    assert empty["errors"] == {
        "draft-lines-0-parameter": "请填写检测参数/项目",
        "draft-lines-0-unit_price": "请填写单价",
        "draft-lines-0-samples": "请填写样品数量",
    }
    bad = seen["draft_bad_row"]
    assert bad["status"] == 400
    assert bad["errors"]["draft-lines-0-unit_price"] == "单价不是有效的数字"
    assert bad["errors"]["draft-lines-0-samples"] == "请填写样品数量"
    assert bad["kept"] == "阻燃性能"
    assert seen["quotes_stored_by_bad_input"] == 0
    refused = seen["revision_bad"]
    assert refused["status"] == 400
    assert refused["errors"] == {
        "revision-lines-0-samples": "样品数量应在1到100000之间"
    }
    assert seen["quote_events_after_bad_revision"] == 1


def test_samples_are_registered_handed_over_and_their_chain_shown(seen):
    scenario_ran(seen, "samples_handed_over_along_a_chain")
    assert seen["sample_notice"] == "样品已登记"
    assert seen["holder"] == "南京检测中心 收样员"
    assert seen["chain"] == [
        ["客户", STAFF[0]],
        [STAFF[0], "南京检测中心 收样员"],
    ]
    assert "2026年11月26日 09:30" in seen["chain_text"]
    assert "南京检测中心收样室" in seen["chain_text"]
    assert seen["handovers_stored"] == 2
    assert "NJ-2026-0077" in seen["deliveries"] and "免费" in seen["deliveries"]
    assert "已处置" in seen["after_disposal"]["state"]
    assert seen["after_disposal"]["last"] == "处置"
    assert seen["after_disposal"]["forms"] == 0  # nothing left to hand over
    assert seen["regulator_chain_rows"] == 3
    assert seen["regulator_forms"] == 0


def test_custody_forms_sent_wrong_name_the_fields_and_store_nothing(seen):
    scenario_ran(seen, "samples_handed_over_along_a_chain")
    empty = seen["sample_empty"]
    assert empty["status"] == 400
    assert {"sample-sample_id", "sample-description", "sample-quantity"} <= set(
        empty["errors"]
    )
    assert seen["custody_stored_by_bad_input"] == 0
    refused = seen["handover_empty"]
    assert refused["status"] == 400
    assert refused["errors"]["handover-sample_ids"] == "请勾选交接的样品"
    assert {"handover-from_party", "handover-to_party"} <= set(refused["errors"])
    assert seen["handover_stored_by_bad_input"] == 0


def test_the_manager_assesses_and_comments_on_staff_efficiency(seen):
    scenario_ran(seen, "manager_assesses_efficiency")
    assert "人员效能" in seen["manager_menu"]
    assert seen["efficiency_staff"] == ["li.staff", "wang.staff", "zhao.manager"]
    assert seen["api_first_responses"] == 1
    assert seen["wang_first_responses"].startswith(f"{seen['api_first_responses']} 次")
    for name, field in (("period_bad_day", "since"), ("period_backwards", "until")):
        assert seen[name]["status"] == 400, seen[name]
        assert field in seen[name]["errors"], seen[name]
    assert seen["assessment_path"].startswith("/console/efficiency/assessments/")
    assert seen["assessed_staff"] == STAFF[0]
    assert seen["comment_empty"]["status"] == 400
    assert seen["comment_empty"]["errors"] == {"comment-comment": "请填写评价意见"}
    assert seen["comments_after_bad_input"] == 0
    assert seen["comments_stored"] == ["首次响应及时，继续保持"]
    assert "首次响应及时，继续保持" in seen["comments_shown"]
    assert seen["board_staff"] == 3
    refused = seen["improvement_empty"]
    assert refused["status"] == 400
    assert {
        "improvement-finding",
        "improvement-owner",
        "improvement-actions",
        "improvement-deadline",
    } == set(refused["errors"])
    assert seen["improvements_after_bad_input"] == 0
    assert "整改事项已登记" in seen["improvement_notice"]
    # one item per assessment: shown in place of the form
    assert "首次响应用时偏长" in seen["improvement_shown"]
    assert "2026年12月31日" in seen["improvement_shown"]
    assert seen["improvement_forms_left"] == 0
    assert seen["improvement_stored"] == {
        "finding": "首次响应用时偏长",
        "owner": STAFF[0],
        "actions": ["每日开窗前查看待受理需求", "窗口交接班时当面交接"],
        "source": "efficiency",
        "ref": seen["assessment_id"],
    }
    assert seen["staff_efficiency"]["status"] == 403


def test_another_institution_gets_not_found_by_url(seen):
    scenario_ran(seen, "another_institution_by_url")
    for name in ("quotes", "quote", "custody", "assessment"):
        shown = seen[f"outsider_{name}"]
        assert shown["status"] == 404, (name, shown)
        assert "未找到" in shown["text"]
        assert "扬州某线缆有限公司" not in shown["text"]
    assert seen["other_efficiency_staff"] == [OTHER_MANAGER[0], OTHER_STAFF[0]]


def _signed_in(base_url: str, who: tuple[str, str]):
    """A browser-like session signed in through the login page."""
    import requests

    browser = requests.Session()
    browser.get(f"{base_url}/console/login", timeout=10)
    csrf = browser.cookies["qi_csrf"]
    signed = browser.post(
        f"{base_url}/console/login",
        data={"username": who[0], "password": who[1], "csrf": csrf},
        timeout=10,
    )
    assert signed.ok, signed.status_code
    return browser


def test_another_institutions_forms_are_not_found_and_store_nothing(platform, seen):
    scenario_ran(seen, "manager_assesses_efficiency")
    base, demand_id = platform.base_url, seen["demand_id"]
    regulator, manager = Api(base, REGULATOR), Api(base, MANAGER)
    assessment = (
        "/api/v1/evaluation/efficiency-assessments/"
        + (seen["assessment_path"].rsplit("/", 1)[1])
    )
    before = [stored(regulator, demand_id, p) for p in ("Quote.", "SampleCustody.")]
    comments = manager.get(assessment).json()["comments"]
    line = {"item_code": "6.3.1", "parameter": "阻燃", "unit_price": "1"}
    for who, path, form in (
        (OTHER_STAFF, f"/console/demands/{demand_id}/quotes", line),
        (OTHER_STAFF, f"/console/quotes/{seen['quote_id']}/withdrawal", {}),
        (
            OTHER_STAFF,
            f"/console/demands/{demand_id}/custody/sample",
            {"sample_id": "X-1", "description": "外来", "quantity": "1"},
        ),
        (OTHER_MANAGER, f"/console/efficiency/{STAFF[0]}/assessments", {}),
        (OTHER_MANAGER, seen["assessment_path"] + "/comments", {"comment": "外来"}),
        (
            OTHER_MANAGER,
            seen["assessment_path"] + "/improvements",
            {"finding": "外来", "owner": OTHER_STAFF[0], "actions": "外来"},
        ),
    ):
        browser = _signed_in(base, who)
        sent = browser.post(
            f"{base}{path}", data={**form, "csrf": browser.cookies["qi_csrf"]}
        )
        assert sent.status_code == 404, (path, sent.status_code)
        assert "未找到" in sent.text
    after = [stored(regulator, demand_id, p) for p in ("Quote.", "SampleCustody.")]
    assert after == before
    assert manager.get(assessment).json()["comments"] == comments


def test_the_front_door_is_named_and_never_matched_to_an_item(seen):
    scenario_ran(seen, "quote_drafted_issued_and_accepted")
    assert seen["front_door_shown"] == FRONT_DOOR_NAME
    assert FRONT_DOOR_NAME not in seen["qualified_for_6_3_1"]


def test_the_work_pages_load_locally_fit_the_screen_and_speak_chinese(seen):
    assert not seen["failures"], seen["failures"]
    assert seen["elsewhere"] == []
    assert seen["too_wide"] == []
    assert seen["english_errors"] == []
    assert len(seen["screenshots"]) >= 8
    for name in seen["screenshots"]:
        assert (ARTIFACTS / name).stat().st_size > 1000
    print(f"work pages: browser run {seen['seconds']} s")


if __name__ == "__main__":
    hand_over(drive)
