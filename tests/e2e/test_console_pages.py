"""The pages in a real browser: Debian's Chromium driven by Playwright.

The whole path of issue 10 is walked through the pages alone — a customer
files online, staff take the demand, send the one-time notice, record the
supplement and refer it, the partner signs for and completes it, the customer
follows progress and rates, and the regulator opens the timeline — with every
form also sent wrong once (a message next to the field, nothing stored), a
staff member of another institution trying a case page by URL, and the
network to anything but 127.0.0.1 blocked.

The harness (tests/e2e/browser.py) runs this file as a script in a child
process without eventlet, which drives one browser for the whole module; the
tests below judge what it saw. Screenshots of every page land in
tests/artifacts/console/ (gitignored).
"""

from __future__ import annotations

import hashlib
import re
import time
from datetime import date
from pathlib import Path
from urllib.parse import urlparse

from services.catalog.contract import institution_id
from tests.e2e.browser import (
    ADMIN,
    ARTIFACTS,
    DESKTOP,
    MANAGER,
    OTHER_MANAGER,
    OTHER_STAFF,
    PASSWORD,
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

PARTNER = ("lab.clerk", PASSWORD)
COLLEAGUE = ("li.staff", "staff-demo-2026")
LAB_STAFF = ("lab.staff", PASSWORD)
REPORT_FILE = "%PDF-1.4 电子报告 NJ-2026-0077".encode()


# --------------------------------------------------------------------------
# the browser side: run as ``python tests/e2e/test_console_pages.py``
# --------------------------------------------------------------------------


def set_up_institutions(base_url: str) -> None:
    """A lab qualified for 6.3.1 with a partner clerk, and a staff member of
    another institution — through the API, as the admin would."""
    admin = Api(base_url, ADMIN)
    lab = admin.post(
        "/api/v1/catalog/institutions",
        {"code": "91320100LAB00000CX", "name": "南京检测中心", "kind": "lab"},
    )
    assert lab.status_code == 201, lab.text
    lab_id = lab.json()["id"]
    granted = admin.post(
        f"/api/v1/catalog/institutions/{lab_id}/qualifications",
        {
            "kind": "CMA",
            "cert_no": "CMA-NJ-0001",
            "scope_codes": ["6.3.1"],
            "valid_from": "2026-01-01",
            "valid_to": "2028-12-31",
        },
    )
    assert granted.status_code == 201, granted.text
    # the front door serves metrology (6.1) itself: in-house service needs its
    # own valid qualification for the item (4.1)
    front_door = str(institution_id("jsqi"))
    granted = admin.post(
        f"/api/v1/catalog/institutions/{front_door}/qualifications",
        {
            "kind": "METROLOGY",
            "cert_no": "JSQI-JL-0001",
            "scope_codes": ["6.1"],
            "valid_from": "2026-01-01",
            "valid_to": "2029-12-31",
        },
    )
    assert granted.status_code == 201, granted.text
    body = admin.post(
        "/api/v1/catalog/institutions",
        {"code": "91110000CERT0000CX", "name": "中质认证中心", "kind": "certification"},
    )
    assert body.status_code == 201, body.text
    granted = admin.post(
        f"/api/v1/catalog/institutions/{body.json()['id']}/qualifications",
        {
            "kind": "CERT_BODY",
            "cert_no": "CNCA-R-2026-001",
            "scope_codes": ["6.4.3"],
            "scope_text": "质量管理体系认证",
            "valid_from": "2026-01-01",
            "valid_to": "2029-12-31",
        },
    )
    assert granted.status_code == 201, granted.text
    open_accounts(
        base_url,
        (
            (PARTNER[0], "partner", lab_id),
            (OTHER_STAFF[0], "staff", "otherqi"),
            (LAB_STAFF[0], "staff", lab_id),
            (OTHER_MANAGER[0], "manager", "otherqi"),
        ),
    )


def public_forms_refuse_bad_input(drive: Driver, seen: dict) -> None:
    page = drive.person(PHONE)
    staff = Api(drive.base_url, STAFF)
    before = staff.get("/api/v1/demands").json()["total"]

    drive.go(page, "/demand")
    seen["demand_empty"] = drive.sent(page, page.get_by_role("button", name="提交需求"))
    drive.shot(page, "demand-form-errors")
    page.fill("#applicant", "苏州某电子科技有限公司")
    page.fill("#contact_phone", "12345")
    page.select_option("#service_item_code", "6.3.1")
    page.fill("#description", "电子玩具安全性能检测")
    page.fill("#credit_code", "91320100ABCDEFGHIJ")
    seen["demand_bad_phone"] = {
        **drive.sent(page, page.get_by_role("button", name="提交需求")),
        "applicant_kept": page.input_value("#applicant"),
    }
    seen["demands_stored"] = staff.get("/api/v1/demands").json()["total"] - before

    drive.go(page, "/complaint")
    seen["complaint_empty"] = drive.sent(page, page.get_by_role("button", name="提交"))
    drive.shot(page, "complaint-form-errors")
    page.fill("#description", "报告出具时间超过承诺周期")
    page.fill("#remedy_requested", "尽快出具报告")
    seen["complaint_no_name"] = drive.sent(
        page, page.get_by_role("button", name="提交")
    )
    # kept as typed; choosing anonymity, the same complaint goes through
    seen["complaint_kept"] = page.input_value("#description")
    page.get_by_label("匿名", exact=True).check()
    drive.submit(page, page.get_by_role("button", name="提交"))
    complaint_code = page.inner_text("[data-complaint-code]").strip()
    drive.shot(page, "complaint-filed")
    drive.submit(page, page.get_by_role("link", name="查询处理进度"))
    seen["complaint_status"] = page.inner_text("[data-status]")
    seen["complaint_status_page"] = page.inner_text("main")
    seen["complaint_code"] = complaint_code
    drive.shot(page, "complaint-status")

    # the look-up forms, sent from the keyboard (Enter in the field)
    for name, path, value in (
        ("progress_empty", "/progress", ""),
        ("progress_unknown", "/progress", "ZZZZZZZZZZ"),
        ("complaint_status_empty", "/complaint/status", ""),
        ("verify_empty", "/verify", ""),
        ("verify_unknown", "/verify", "ABCDEFGH23"),
        ("rate_empty", "/rate", ""),
    ):
        drive.go(page, path)
        page.fill("#code", value)
        with page.expect_navigation() as landed:
            page.press("#code", "Enter")
        seen[name] = {
            "status": landed.value.status,
            "errors": drive.field_errors(page),
        }
        drive.shot(page, name.replace("_", "-"))

    desk = drive.person(DESKTOP)
    drive.go(desk, "/console/login")
    seen["login_empty"] = drive.sent(desk, desk.get_by_role("button", name="登录"))
    desk.fill("#username", STAFF[0])
    desk.fill("#password", "not-the-password")
    seen["login_wrong"] = drive.sent(desk, desk.get_by_role("button", name="登录"))
    drive.shot(desk, "login-errors")
    page.context.close()
    desk.context.close()


def wait_until(check, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError("the page did not show it in time")
        time.sleep(0.3)
    return value


def the_whole_walk(drive: Driver, seen: dict) -> None:
    customer = drive.person(PHONE)
    drive.go(customer, "/")
    seen["guide_title"] = customer.title()
    seen["header_colour"] = customer.evaluate(
        "getComputedStyle(document.querySelector('header.top')).backgroundColor"
    )
    drive.shot(customer, "guide")
    drive.go(customer, "/demand")
    customer.fill("#applicant", "苏州某电子科技有限公司")
    customer.fill("#contact_phone", "13812345678")
    customer.select_option("#service_item_code", "6.3.1")
    customer.fill("#description", "电子玩具安全性能检测")
    drive.submit(customer, customer.get_by_role("button", name="提交需求"))
    code = customer.inner_text("[data-progress-code]").strip()
    seen["filed_text"] = customer.inner_text("main")
    seen["progress_code"] = code
    drive.shot(customer, "demand-filed")

    # staff: the workbench, take, one-time notice, supplement, review, refer
    staff = drive.person(DESKTOP)
    drive.go(staff, "/console/")
    seen["anonymous_console_url"] = urlparse(staff.url).path
    staff.fill("#username", STAFF[0])
    staff.fill("#password", STAFF[1])
    drive.submit(staff, staff.get_by_role("button", name="登录"))
    seen["workbench_rows"] = staff.locator("[data-demand-id]").count()
    drive.shot(staff, "workbench")
    demand_id = staff.locator("[data-demand-id]").first.get_attribute("data-demand-id")
    seen["demand_id"] = demand_id
    seen["owner_before"] = staff.locator("[data-demand-id] td").nth(4).inner_text()
    drive.submit(staff, staff.get_by_role("link", name="办理").first)
    drive.submit(staff, staff.get_by_role("button", name="我来受理"))
    seen["owner_after"] = staff.inner_text("[data-owner]")
    checklist = staff.locator("input[name=provided]")
    materials = [
        checklist.nth(i).get_attribute("value") for i in range(checklist.count())
    ]
    checklist.first.check()
    drive.submit(staff, staff.get_by_role("button", name="发送一次性告知"))
    seen["outstanding"] = staff.inner_text("[data-outstanding]")
    seen["checklist"] = materials
    drive.shot(staff, "demand-notice-sent")
    api = Api(drive.base_url, STAFF)
    events_before = len(api.get(f"/api/v1/demands/{demand_id}/history").json()["items"])
    seen["supplement_empty"] = drive.sent(
        staff, staff.get_by_role("button", name="登记补充材料")
    )
    drive.shot(staff, "supplement-errors")
    seen["decision_empty"] = drive.sent(staff, staff.get_by_role("button", name="确定"))
    events_after = len(api.get(f"/api/v1/demands/{demand_id}/history").json()["items"])
    seen["staff_events_stored_by_bad_input"] = events_after - events_before
    for box in staff.locator("input[name=items]").all():
        box.check()
    drive.submit(staff, staff.get_by_role("button", name="登记补充材料"))
    for box in staff.locator("input[name=checks]").all():
        box.check()
    drive.submit(staff, staff.get_by_role("button", name="记录评审结果"))
    staff.select_option("#decision-outcome", "referred")
    drive.submit(staff, staff.get_by_role("button", name="确定"))
    seen["status_after_decision"] = staff.inner_text("[data-status]")

    def send_button():
        staff.reload()
        button = staff.get_by_role("button", name="发送转办")
        return button if button.count() else None

    drive.submit(staff, wait_until(send_button))
    drive.shot(staff, "demand-referred")

    # the partner: inbox, sign for, progress, completion with the e-report
    partner = drive.person(DESKTOP)
    drive.login(partner, PARTNER)
    seen["partner_landing"] = urlparse(partner.url).path
    seen["inbox_rows"] = partner.locator("[data-referral-id]").count()
    drive.shot(partner, "inbox")
    drive.submit(partner, partner.get_by_role("link", name="办理").first)
    referral_url = partner.url
    seen["return_empty"] = drive.sent(
        partner, partner.get_by_role("button", name="退回")
    )
    seen["state_after_bad_return"] = partner.inner_text("[data-state]")
    drive.submit(partner, partner.get_by_role("button", name="签收"))
    seen["state_after_acceptance"] = partner.inner_text("[data-state]")
    partner.select_option("#progress-stage", "testing")
    partner.fill("#progress-note", "样品检测中")
    drive.submit(partner, partner.get_by_role("button", name="报告进度"))
    partner.fill("#completion-report_no", "NJ-2026-0077")
    partner.fill("#completion-issued_on", date.today().isoformat())
    seen["completion_without_file"] = {
        **drive.sent(partner, partner.get_by_role("button", name="办结")),
        "state": partner.inner_text("[data-state]"),
    }
    drive.shot(partner, "completion-errors")
    partner.fill("#completion-report_no", "NJ-2026-0077")
    partner.fill("#completion-issued_on", date.today().isoformat())
    partner.set_input_files(
        "#completion-report_file",
        {"name": "report.pdf", "mimeType": "application/pdf", "buffer": REPORT_FILE},
    )
    drive.submit(partner, partner.get_by_role("button", name="办结"))
    seen["sha256_shown"] = partner.inner_text("[data-sha256]")
    verification = partner.inner_text("[data-verification-code]").strip()
    seen["verification_code"] = verification
    partner.fill("#feedback-summary", "检测合格，报告已出具")
    drive.submit(partner, partner.get_by_role("button", name="发送反馈"))
    seen["state_at_end"] = partner.inner_text("[data-state]")
    seen["referral_url"] = referral_url
    drive.shot(partner, "referral-done")

    # the customer: verification, progress, rating
    drive.go(customer, f"/verify?code={verification}")
    seen["report_status"] = customer.inner_text("[data-report-status]")
    drive.shot(customer, "verify")

    def fed_back():
        drive.go(customer, f"/progress?code={code}")
        return "反馈" in customer.inner_text(".timeline")

    wait_until(fed_back)
    seen["progress_text"] = customer.inner_text("main")
    drive.shot(customer, "progress")

    def survey_form():
        drive.go(customer, f"/rate?code={code}")
        return customer.get_by_role("button", name="提交评价").count()

    wait_until(survey_form)
    seen["rating_empty"] = drive.sent(
        customer, customer.get_by_role("button", name="提交评价")
    )
    drive.shot(customer, "rating-errors")
    surveys = Api(drive.base_url).get(f"/api/v1/public/surveys?code={code}").json()
    seen["survey_status_after_bad_rating"] = surveys["items"][0]["status"]
    for group in customer.locator("fieldset.rating").all():
        group.get_by_label("满意", exact=True).check()
    customer.fill("#comments", "办理及时")
    drive.submit(customer, customer.get_by_role("button", name="提交评价"))
    seen["rated_text"] = customer.inner_text("main")
    drive.shot(customer, "rated")

    # the regulator: the timeline, as-of view, verification and export
    regulator = drive.person(DESKTOP)
    drive.login(regulator, REGULATOR)
    drive.go(regulator, f"/console/cases/{demand_id}")
    seen["verification"] = regulator.get_attribute(
        "[data-verification]", "data-verification"
    )
    seen["timeline_text"] = regulator.inner_text("[data-timeline]")
    seen["timeline_rows"] = regulator.locator("[data-timeline] tbody tr").count()
    drive.shot(regulator, "case-timeline")
    regulator.fill("#as_of", "2020-01-01 08:00")
    drive.submit(regulator, regulator.get_by_role("button", name="查看"))
    seen["timeline_rows_as_of_2020"] = regulator.locator(
        "[data-timeline] tbody tr"
    ).count()
    drive.shot(regulator, "case-as-of")
    drive.go(regulator, f"/console/cases/{demand_id}")
    with regulator.expect_download() as download:
        regulator.get_by_role("link", name="导出可打印的审计页").click()
    exported = Path(download.value.path()).read_text(encoding="utf-8")
    seen["export_has_event"] = "Referral.Completed" in exported
    for page in (customer, staff, partner, regulator):
        page.context.close()


def partner_returns_with_reason(drive: Driver, seen: dict) -> None:
    """A second demand, referred through the API; the partner returns it."""
    staff = Api(drive.base_url, STAFF)
    filed = Api(drive.base_url).post(
        "/api/v1/demands",
        {
            "applicant": "无锡某机械有限公司",
            "contact_phone": "13912345678",
            "service_item_code": "6.3.1",
            "description": "零件尺寸检测",
            "channel": "website",
        },
    )
    path = f"/api/v1/demands/{filed.json()['id']}"
    staff.post(f"{path}/take", {})
    checks = dict.fromkeys(("capability", "method", "cycle", "fee"), True)
    staff.post(f"{path}/contract-review", {"checks": checks})
    staff.post(f"{path}/decision", {"outcome": "referred"})
    (referral,) = wait_until(lambda: staff.get(path).json()["referrals"])
    sent = staff.post(f"/api/v1/referrals/{referral['id']}/sending", {})
    assert sent.status_code == 200, sent.text

    partner = drive.person(DESKTOP)
    drive.login(partner, PARTNER)
    drive.go(partner, f"/console/referrals/{referral['id']}")
    partner.fill("#return-reason", "本中心该项目设备检修，暂不能承接")
    drive.submit(partner, partner.get_by_role("button", name="退回"))
    seen["after_return_path"] = urlparse(partner.url).path
    seen["after_return_notice"] = partner.inner_text(".notice")
    drive.shot(partner, "returned")
    stored = staff.get(f"/api/v1/referrals/{referral['id']}").json()
    seen["returns"] = [r["reason"] for r in stored["returns"]]
    partner.context.close()


def another_institution_by_url(drive: Driver, seen: dict) -> None:
    demand_id = seen["demand_id"]
    outsider = drive.person(DESKTOP)
    drive.login(outsider, OTHER_STAFF)
    seen["outsider_workbench_rows"] = outsider.locator("[data-demand-id]").count()
    for name, path in (
        ("case", f"/console/cases/{demand_id}"),
        ("demand", f"/console/demands/{demand_id}"),
        ("export", f"/console/cases/{demand_id}/export"),
        ("referral", urlparse(seen["referral_url"]).path),
    ):
        seen[f"outsider_{name}"] = drive.opened(outsider, path)
    drive.shot(outsider, "outsider-404")
    outsider.context.close()


def staff_register_at_the_window(drive: Driver, seen: dict) -> None:
    """Appendix B at the window: refused once, then registered."""
    staff = drive.person(DESKTOP)
    drive.login(staff, STAFF)
    before = Api(drive.base_url, STAFF).get("/api/v1/demands").json()["total"]
    drive.submit(staff, staff.get_by_role("link", name="登记新需求"))
    staff.select_option("#channel", "phone")
    staff.fill("#applicant", "常州某材料有限公司")
    staff.fill("#contact_phone", "0519-8888")
    seen["window_bad"] = drive.sent(staff, staff.get_by_role("button", name="登记"))
    seen["window_channel_kept"] = staff.input_value("#channel")
    drive.shot(staff, "window-form-errors")
    after = Api(drive.base_url, STAFF).get("/api/v1/demands").json()["total"]
    seen["window_stored_by_bad_input"] = after - before
    staff.fill("#contact_phone", "0519-88886666")
    staff.select_option("#service_item_code", "6.3.1")
    staff.fill("#description", "高分子材料拉伸性能检测")
    drive.submit(staff, staff.get_by_role("button", name="登记"))
    # the confirmation to print for the customer: the one page with the code
    seen["window_landing"] = urlparse(staff.url).path
    seen["window_notice"] = staff.inner_text("main")
    link = staff.get_attribute("[data-demand-link]", "href")
    demand_id = link.rsplit("/", 1)[-1]
    drive.go(staff, link)
    seen["window_demand_page"] = staff.inner_text("main")
    history = Api(drive.base_url, STAFF).get(f"/api/v1/demands/{demand_id}/history")
    first = history.json()["items"][0]
    seen["window_registered_by"] = [first["actor"]["id"], first["channel"]]
    drive.shot(staff, "window-registered")
    staff.context.close()


def referred_and_sent(base_url: str, applicant: str) -> tuple[str, str]:
    """A demand filed online, taken, referred and sent through the API: the
    (demand id, referral id) a manager's board watches."""
    staff = Api(base_url, STAFF)
    filed = Api(base_url).post(
        "/api/v1/demands",
        {
            "applicant": applicant,
            "contact_phone": "13712345678",
            "service_item_code": "6.3.1",
            "description": "玩具材料检测",
            "channel": "website",
        },
    )
    demand_id = filed.json()["id"]
    path = f"/api/v1/demands/{demand_id}"
    staff.post(f"{path}/take", {})
    checks = dict.fromkeys(("capability", "method", "cycle", "fee"), True)
    staff.post(f"{path}/contract-review", {"checks": checks})
    staff.post(f"{path}/decision", {"outcome": "referred"})
    (referral,) = wait_until(lambda: staff.get(path).json()["referrals"])
    sent = staff.post(f"/api/v1/referrals/{referral['id']}/sending", {})
    assert sent.status_code == 200, sent.text
    return demand_id, referral["id"]


def history_length(base_url: str, demand_id: str) -> int:
    history = Api(base_url, STAFF).get(f"/api/v1/demands/{demand_id}/history")
    return len(history.json()["items"])


def manager_board_and_green_channel(drive: Driver, seen: dict) -> None:
    """The SLA and overdue board as of a moment a month ahead, and the green
    channel opened on a demand's page, refused once without its reason."""
    demand_id, referral_id = referred_and_sent(drive.base_url, "扬州某玩具有限公司")
    seen["board_referral_id"] = referral_id
    manager = drive.person(DESKTOP)
    drive.login(manager, MANAGER)
    seen["manager_menu"] = manager.inner_text("nav")
    status = drive.go(manager, "/console/board?working_hours=很多&now=明天")
    seen["board_bad"] = {"status": status, "errors": drive.field_errors(manager)}
    drive.shot(manager, "board-errors")
    drive.go(manager, "/console/board")
    seen["board_now_late"] = manager.locator("[data-late-id]").count()
    manager.fill("#working_hours", "4")
    ahead = date.fromordinal(date.today().toordinal() + 30).isoformat()
    manager.fill("#now", f"{ahead} 10:00")
    drive.submit(manager, manager.get_by_role("button", name="查看"))
    seen["board_stale_rows"] = manager.locator("[data-stale-id]").count()
    late = manager.locator(f"[data-late-id='{referral_id}'] [data-overdue]")
    seen["board_overdue"] = late.inner_text() if late.count() else ""
    drive.shot(manager, "board")

    drive.go(manager, f"/console/demands/{demand_id}")
    seen["demand_acceptance_due"] = manager.inner_text("[data-acceptance-due]")
    before = history_length(drive.base_url, demand_id)
    seen["green_empty"] = drive.sent(
        manager, manager.get_by_role("button", name="开通绿色通道")
    )
    seen["green_stored_by_bad_input"] = (
        history_length(drive.base_url, demand_id) - before
    )
    drive.shot(manager, "green-channel-errors")
    manager.fill("#green-channel-reason", "出口订单急需检测报告")
    drive.submit(manager, manager.get_by_role("button", name="开通绿色通道"))
    seen["green_status"] = manager.inner_text("[data-status]")
    seen["green_notice"] = manager.inner_text(".notice")
    seen["green_form_left"] = manager.get_by_role("button", name="开通绿色通道").count()
    drive.shot(manager, "green-channel")

    staff = drive.person(DESKTOP)
    drive.login(staff, STAFF)
    seen["staff_menu"] = staff.inner_text("nav")
    for name, path in (
        ("board", "/console/board"),
        ("quality", "/console/quality"),
    ):
        seen[f"staff_{name}"] = drive.opened(staff, path)
    drive.go(staff, f"/console/demands/{demand_id}")
    seen["staff_green_form"] = staff.get_by_role("button", name="开通绿色通道").count()
    drive.shot(staff, "board-refused-to-staff")
    manager.context.close()
    staff.context.close()


def manager_quality_and_half_year(drive: Driver, seen: dict) -> None:
    """Call-backs and improvement items, and a half-year summary drafted,
    read, printed and signed off — each form refused once first."""
    manager = drive.person(DESKTOP)
    drive.login(manager, MANAGER)
    drive.submit(manager, manager.get_by_role("link", name="回访与改进"))
    api = Api(drive.base_url, MANAGER)
    seen["call_backs"] = [
        manager.locator("[data-call-back-id]").count(),
        api.get("/api/v1/evaluation/call-backs").json()["total"],
    ]
    seen["improvements"] = [
        manager.locator("[data-improvement-id]").count(),
        api.get("/api/v1/evaluation/improvements").json()["total"],
    ]
    manager.fill("#summary-year", "")
    seen["summary_empty"] = drive.sent(
        manager, manager.get_by_role("button", name="生成半年总结")
    )
    seen["summaries_after_bad_draft"] = manager.locator("[data-summaries] a").count()
    drive.shot(manager, "summary-errors")
    manager.fill("#summary-year", str(date.today().year))
    manager.select_option("#summary-half", "1" if date.today().month <= 6 else "2")
    drive.submit(manager, manager.get_by_role("button", name="生成半年总结"))
    summary_path = urlparse(manager.url).path
    seen["summary_path"] = summary_path
    seen["summary_status_drafted"] = manager.inner_text("[data-summary-status]")
    drive.shot(manager, "summary-draft")
    with manager.expect_download() as download:
        manager.get_by_role("link", name="下载 PDF").click()
    seen["summary_pdf_head"] = Path(download.value.path()).read_bytes()[:5].decode()
    seen["sign_off_empty"] = {
        **drive.sent(manager, manager.get_by_role("button", name="签发")),
        "state": manager.inner_text("[data-summary-status]"),
    }
    manager.fill("#sign-off-note", "数据已核对，同意报送")
    drive.submit(manager, manager.get_by_role("button", name="签发"))
    seen["summary_status_signed"] = manager.inner_text("[data-summary-status]")
    seen["summary_signed_by"] = manager.inner_text("[data-signed-by]")
    drive.shot(manager, "summary-signed")
    status = drive.go(manager, f"{summary_path}/view")
    seen["summary_view"] = {"status": status, "text": manager.inner_text("body")}
    drive.shot(manager, "summary-view")
    manager.context.close()

    other = drive.person(DESKTOP)
    drive.login(other, OTHER_MANAGER)
    for name, path in (
        ("summary", summary_path),
        ("view", f"{summary_path}/view"),
        ("pdf", f"{summary_path}/pdf"),
        ("demand", f"/console/demands/{seen['demand_id']}"),
    ):
        seen[f"other_manager_{name}"] = drive.opened(other, path)
    drive.go(other, "/console/board")
    seen["other_manager_board_rows"] = other.locator(
        "[data-stale-id], [data-late-id]"
    ).count()
    drive.shot(other, "other-manager-summary-404")
    other.context.close()


def staff_hand_over_follow_up_and_resolve(drive: Driver, seen: dict) -> None:
    """A demand handed over between colleagues (offer, refuse once, accept),
    followed up, resolved and reopened; each form refused once first."""
    staff_api = Api(drive.base_url, STAFF)
    filed = Api(drive.base_url).post(
        "/api/v1/demands",
        {
            "applicant": "镇江某食品有限公司",
            "contact_phone": "13612345678",
            "service_item_code": "6.1",  # served in-house by the front door
            "description": "电子秤检定",
            "channel": "website",
        },
    )
    demand_id = filed.json()["id"]
    path = f"/console/demands/{demand_id}"
    staff_api.post(f"/api/v1/demands/{demand_id}/take", {})
    owner = drive.person(DESKTOP)
    drive.login(owner, STAFF)
    drive.go(owner, path)
    before = history_length(drive.base_url, demand_id)
    seen["handover_empty"] = drive.sent(
        owner, owner.get_by_role("button", name="提出移交")
    )
    owner.fill("#handover-to_staff", COLLEAGUE[0])
    owner.fill("#handover-reason", "客户改为线下送样，由李强对接")
    drive.submit(owner, owner.get_by_role("button", name="提出移交"))
    seen["handover_pending"] = owner.inner_text("[data-handover]")
    drive.shot(owner, "handover-offered")

    colleague = drive.person(DESKTOP)
    drive.login(colleague, COLLEAGUE)
    drive.go(colleague, path)
    colleague.get_by_label("拒绝", exact=True).check()
    seen["refuse_without_reason"] = {
        **drive.sent(colleague, colleague.get_by_role("button", name="提交答复")),
    }
    seen["handover_stored_by_bad_input"] = (
        history_length(drive.base_url, demand_id) - before
    )
    drive.shot(colleague, "handover-answer-errors")
    colleague.get_by_label("接收", exact=True).check()
    drive.submit(colleague, colleague.get_by_role("button", name="提交答复"))
    seen["owner_after_handover"] = colleague.inner_text("[data-owner]")
    before = history_length(drive.base_url, demand_id)
    seen["follow_up_empty"] = {
        **drive.sent(colleague, colleague.get_by_role("button", name="记录跟进")),
    }
    colleague.fill("#follow-ups-note", "已电话联系客户，约定周五送样")
    drive.submit(colleague, colleague.get_by_role("button", name="记录跟进"))
    seen["follow_up_notice"] = colleague.inner_text(".notice")
    for box in colleague.locator("input[name=checks]").all():
        box.check()
    drive.submit(colleague, colleague.get_by_role("button", name="记录评审结果"))
    colleague.select_option("#decision-outcome", "in_house")
    seen["in_house_without_department"] = {
        **drive.sent(colleague, colleague.get_by_role("button", name="确定")),
    }
    colleague.select_option("#decision-outcome", "in_house")
    colleague.fill("#decision-department", "化学检测部")
    drive.submit(colleague, colleague.get_by_role("button", name="确定"))
    seen["resolve_empty"] = drive.sent(
        colleague, colleague.get_by_role("button", name="办结")
    )
    seen["status_after_bad_resolve"] = colleague.inner_text("[data-status]")
    colleague.fill("#resolution-summary", "检测完成，报告已交客户")
    drive.submit(colleague, colleague.get_by_role("button", name="办结"))
    seen["status_resolved"] = colleague.inner_text("[data-status]")
    seen["reopen_empty"] = drive.sent(
        colleague, colleague.get_by_role("button", name="重新办理")
    )
    colleague.fill("#reopening-reason", "客户对报告结论有疑问")
    drive.submit(colleague, colleague.get_by_role("button", name="重新办理"))
    seen["status_reopened"] = colleague.inner_text("[data-status]")
    # 跟进 ×1, 办结, 重新办理: nothing from the three refused forms
    seen["events_by_good_forms"] = history_length(drive.base_url, demand_id) - before
    drive.shot(colleague, "demand-reopened")
    drive.go(colleague, "/console/")
    row = colleague.locator(f"[data-demand-id='{demand_id}'] [data-deadline]")
    seen["workbench_deadline"] = row.inner_text()
    seen["workbench_deadline_cells"] = colleague.locator("[data-deadline]").count()
    owner.context.close()
    colleague.context.close()


def institution_names_on_the_workbench(drive: Driver, seen: dict) -> None:
    """A demand registered at the lab's window shows the lab by its catalog
    name on its workbench and demand page."""
    lab = Api(drive.base_url, LAB_STAFF)
    filed = lab.post(
        "/api/v1/demands",
        {
            "applicant": "南通某纺织有限公司",
            "contact_phone": "13512345678",
            "service_item_code": "6.3.1",
            "description": "纺织品色牢度检测",
            "channel": "window",
        },
    )
    assert filed.status_code == 201, filed.text
    page = drive.person(DESKTOP)
    drive.login(page, LAB_STAFF)
    seen["lab_workbench_institution"] = (
        page.locator("[data-demand-id] td").nth(1).inner_text()
    )
    drive.go(page, f"/console/demands/{filed.json()['id']}")
    seen["lab_demand_institution"] = page.inner_text("[data-institution]")
    drive.shot(page, "lab-workbench")
    page.context.close()


def certification_bodies_query(drive: Driver, seen: dict) -> None:
    """The public query of certification bodies and their scopes (6.4 c)."""
    page = drive.person(PHONE)
    drive.go(page, "/")
    drive.submit(page, page.get_by_role("link", name="认证机构查询"))
    seen["bodies_count"] = page.inner_text("[data-body-count]")
    seen["bodies_text"] = page.inner_text("main")
    drive.shot(page, "bodies")
    page.fill("#on", "2026-02-30")
    seen["bodies_bad_day"] = drive.sent(page, page.get_by_role("button", name="查询"))
    drive.shot(page, "bodies-errors")
    page.fill("#on", "2030-06-01")
    drive.submit(page, page.get_by_role("button", name="查询"))
    seen["bodies_2030_status"] = page.locator(
        "[data-qualification-status]"
    ).all_inner_texts()
    page.fill("#on", "")
    page.fill("#scope", "6.9.9")
    drive.submit(page, page.get_by_role("button", name="查询"))
    seen["bodies_other_scope"] = page.inner_text("[data-body-count]")
    page.context.close()


def drive(base_url: str, outdir: Path) -> dict:
    set_up_institutions(base_url)
    return run_scenarios(
        base_url,
        outdir,
        "*.png",  # every screenshot of the previous run
        (
            public_forms_refuse_bad_input,
            the_whole_walk,
            partner_returns_with_reason,
            another_institution_by_url,
            staff_register_at_the_window,
            manager_board_and_green_channel,
            manager_quality_and_half_year,
            staff_hand_over_follow_up_and_resolve,
            institution_names_on_the_workbench,
            certification_bodies_query,
        ),
        {},
    )


# --------------------------------------------------------------------------
# the tests: a platform, one browser run, and what it saw
# --------------------------------------------------------------------------

pytestmark = needs_chromium


platform, seen = page_fixtures(
    "console",
    240,
    # the walk polls progress while events travel: not a guesser
    QI_PROGRESS_QUERIES_PER_MINUTE="1000",
)


def test_the_whole_walk_through_the_pages(seen):
    scenario_ran(seen, "the_whole_walk")
    assert "服务指南" in seen["guide_title"]
    assert len(seen["progress_code"]) == 10
    assert re.search(r"于 \d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d 登记", seen["filed_text"])
    assert seen["anonymous_console_url"] == "/console/login"
    assert seen["workbench_rows"] == 1
    assert seen["owner_before"] == "尚未受理"
    assert seen["owner_after"] == STAFF[0]
    # the one-time notice lists every checklist item not ticked as provided
    assert seen["outstanding"] == "、".join(seen["checklist"][1:])
    assert seen["status_after_decision"] == "已转办"
    assert seen["partner_landing"] == "/console/referrals"
    assert seen["inbox_rows"] == 1
    assert seen["state_after_acceptance"] == "已签收"
    # the gateway hashed the uploaded file itself
    assert seen["sha256_shown"] == hashlib.sha256(REPORT_FILE).hexdigest()
    assert seen["verification_code"]
    assert seen["state_at_end"] == "已反馈首问负责人"
    assert seen["report_status"] == "有效"
    assert "已转办" in seen["progress_text"]
    assert "感谢您的评价" in seen["rated_text"]
    # the regulator: one timeline across services, verified, as of a moment
    assert seen["verification"] == "passed"
    for step in (
        "Demand.MaterialsNoticeIssued",
        "Referral.Accepted",
        "Referral.Completed",
        "Demand.ReferralFeedbackReceived",
    ):
        assert step in seen["timeline_text"], step
    assert "lab.clerk" in seen["timeline_text"]
    assert "南京检测中心" in seen["timeline_text"]  # institutions by name
    assert "签收" in seen["timeline_text"]  # events in Chinese beside their names
    assert "合作机构人员" in seen["timeline_text"]
    assert seen["timeline_rows_as_of_2020"] == 0 < seen["timeline_rows"]
    assert seen["export_has_event"]


def test_every_form_names_the_field_and_stores_nothing(seen):
    scenario_ran(seen, "public_forms_refuse_bad_input")
    scenario_ran(seen, "the_whole_walk")
    expected = {
        "demand_empty": {"applicant", "contact_phone", "service_item_code"},
        "demand_bad_phone": {"contact_phone", "credit_code"},
        "complaint_empty": {"description", "remedy_requested"},
        "complaint_no_name": {"complainant_name"},
        "progress_empty": {"code"},
        "progress_unknown": {"code"},
        "complaint_status_empty": {"code"},
        "verify_empty": {"code"},
        "verify_unknown": {"code"},
        "rate_empty": {"code"},
        "login_empty": {"username", "password"},
        "login_wrong": {"password"},
        "supplement_empty": {"supplements-items"},
        "decision_empty": {"decision-outcome"},
        "return_empty": {"return-reason"},
        "completion_without_file": {"completion-report_file"},
        "rating_empty": {"overall", "dimensions-attitude"},
    }
    for form, fields in expected.items():
        shown = seen[form]
        assert shown["status"] in (400, 401, 404), (form, shown)
        assert fields <= set(shown["errors"]), (form, shown["errors"])
    assert seen["demand_empty"]["errors"]["applicant"] == "请填写申请人"
    assert seen["complaint_kept"] == "报告出具时间超过承诺周期"
    assert seen["demand_bad_phone"]["applicant_kept"] == "苏州某电子科技有限公司"
    # nothing stored by any refused form
    assert seen["demands_stored"] == 0
    assert seen["staff_events_stored_by_bad_input"] == 0
    assert seen["state_after_bad_return"] == "已派发待签收"
    assert seen["completion_without_file"]["state"] == "办理中（检测中）"
    assert seen["survey_status_after_bad_rating"] == "issued"
    assert seen["english_errors"] == []


def test_the_partner_returns_a_referral_with_its_reason(seen):
    scenario_ran(seen, "partner_returns_with_reason")
    assert seen["after_return_path"] == "/console/referrals"
    assert seen["after_return_notice"] == "已退回，原因已记录"
    assert seen["returns"] == ["本中心该项目设备检修，暂不能承接"]


def test_staff_register_a_demand_at_the_window(seen):
    scenario_ran(seen, "staff_register_at_the_window")
    refused = seen["window_bad"]
    assert refused["status"] == 400
    assert {"contact_phone", "service_item_code", "description"} <= set(
        refused["errors"]
    )
    assert seen["window_channel_kept"] == "phone"
    assert seen["window_stored_by_bad_input"] == 0
    assert seen["window_landing"] == "/console/register"
    assert "进度查询码" in seen["window_notice"]
    # shown once, to print for the customer: the demand's own page never does
    assert "进度查询码" not in seen["window_demand_page"]
    assert seen["window_registered_by"] == [STAFF[0], "phone"]


def test_a_complaint_is_filed_and_followed_by_its_code(seen):
    scenario_ran(seen, "public_forms_refuse_bad_input")
    assert len(seen["complaint_code"]) >= 8
    assert seen["complaint_status"]
    # the complainant sees stage labels, not what was written
    assert "报告出具时间超过承诺周期" not in seen["complaint_status_page"]


def test_the_manager_board_shows_idle_demands_and_overdue_referrals(seen):
    scenario_ran(seen, "manager_board_and_green_channel")
    assert "时限与超期" in seen["manager_menu"]
    assert "时限与超期" not in seen["staff_menu"]
    refused = seen["board_bad"]
    assert refused["status"] == 400
    assert {"working_hours", "now"} <= set(refused["errors"])
    # sent a moment ago: not late now, unsigned-for a month later (8.3.4)
    assert seen["board_now_late"] == 0
    assert seen["board_overdue"] == "签收超期"
    assert seen["board_stale_rows"] >= 1
    # the demand page shows the referral's deadline in the Chinese style
    assert re.fullmatch(
        r"\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d", seen["demand_acceptance_due"]
    )


def test_a_manager_opens_the_green_channel_with_its_reason(seen):
    scenario_ran(seen, "manager_board_and_green_channel")
    refused = seen["green_empty"]
    assert refused["status"] == 400
    assert refused["errors"] == {"green-channel-reason": "请填写开通原因"}
    assert seen["green_stored_by_bad_input"] == 0
    assert seen["green_status"].endswith("（绿色通道）")
    assert seen["green_notice"] == "已开通绿色通道"
    assert seen["green_form_left"] == 0


def test_manager_pages_are_refused_to_staff(seen):
    scenario_ran(seen, "manager_board_and_green_channel")
    for name in ("board", "quality"):
        shown = seen[f"staff_{name}"]
        assert shown["status"] == 403, (name, shown)
        assert "无权" in shown["text"]
    assert seen["staff_green_form"] == 0


def test_a_half_year_summary_is_drafted_printed_and_signed_off(seen):
    scenario_ran(seen, "manager_quality_and_half_year")
    # the lists are the API's lists of the manager's institution
    assert seen["call_backs"][0] == seen["call_backs"][1]
    assert seen["improvements"][0] == seen["improvements"][1]
    refused = seen["summary_empty"]
    assert refused["status"] == 400
    assert {"summary-year", "summary-half"} <= set(refused["errors"])
    assert seen["summaries_after_bad_draft"] == 0
    assert seen["summary_path"].startswith("/console/summaries/")
    assert seen["summary_status_drafted"] == "草稿"
    assert seen["summary_pdf_head"] == "%PDF-"
    assert seen["sign_off_empty"]["status"] == 400
    assert seen["sign_off_empty"]["errors"] == {"sign-off-note": "请填写签发意见"}
    assert seen["sign_off_empty"]["state"] == "草稿"
    assert seen["summary_status_signed"] == "已签发"
    assert seen["summary_signed_by"] == MANAGER[0]
    assert seen["summary_view"]["status"] == 200
    assert str(date.today().year) in seen["summary_view"]["text"]


def test_another_institutions_manager_gets_not_found_by_url(seen):
    scenario_ran(seen, "manager_quality_and_half_year")
    for name in ("summary", "view", "pdf", "demand"):
        shown = seen[f"other_manager_{name}"]
        assert shown["status"] == 404, (name, shown)
        assert "未找到" in shown["text"]
    assert seen["other_manager_board_rows"] == 0


def test_staff_hand_over_follow_up_resolve_and_reopen(seen):
    scenario_ran(seen, "staff_hand_over_follow_up_and_resolve")
    assert seen["handover_empty"]["status"] == 400
    assert {"handover-to_staff", "handover-reason"} <= set(
        seen["handover_empty"]["errors"]
    )
    assert seen["handover_pending"].startswith(f"{STAFF[0]} → {COLLEAGUE[0]}")
    assert seen["refuse_without_reason"]["status"] == 400
    assert "handover-answer-reason" in seen["refuse_without_reason"]["errors"]
    # only the offer was stored; the refused forms stored nothing
    assert seen["handover_stored_by_bad_input"] == 1
    assert seen["owner_after_handover"] == COLLEAGUE[0]
    assert "follow-ups-note" in seen["follow_up_empty"]["errors"]
    assert seen["follow_up_notice"] == "跟进已记录"
    assert "decision-department" in seen["in_house_without_department"]["errors"]
    assert "resolution-summary" in seen["resolve_empty"]["errors"]
    assert seen["status_after_bad_resolve"] == "服务中"
    assert seen["status_resolved"] == "已办结"
    assert "reopening-reason" in seen["reopen_empty"]["errors"]
    assert seen["status_reopened"] == "重新办理"
    # follow-up, contract review, decision, resolution, reopening
    assert seen["events_by_good_forms"] == 5
    assert seen["workbench_deadline"] == "未超时"
    assert seen["workbench_deadline_cells"] >= 1


def test_institutions_are_named_from_the_catalog(seen):
    scenario_ran(seen, "institution_names_on_the_workbench")
    assert seen["lab_workbench_institution"] == "南京检测中心"
    assert seen["lab_demand_institution"] == "南京检测中心"


def test_certification_bodies_and_their_scopes_are_public(seen):
    scenario_ran(seen, "certification_bodies_query")
    assert seen["bodies_count"] == "2"  # and the demo province's
    for shown in ("中质认证中心", "CNCA-R-2026-001", "质量管理体系认证", "有效"):
        assert shown in seen["bodies_text"], shown
    assert seen["bodies_bad_day"]["status"] == 400
    assert "on" in seen["bodies_bad_day"]["errors"]
    assert seen["bodies_2030_status"] and "有效" not in seen["bodies_2030_status"]
    assert seen["bodies_other_scope"] == "0"


def test_staff_of_another_institution_cannot_open_the_case_by_url(seen):
    scenario_ran(seen, "another_institution_by_url")
    assert seen["outsider_workbench_rows"] == 0
    for name in ("case", "demand", "export", "referral"):
        shown = seen[f"outsider_{name}"]
        assert shown["status"] == 404, (name, shown)
        assert "未找到" in shown["text"]
        assert "苏州某电子科技有限公司" not in shown["text"]


def test_pages_load_with_the_network_to_anything_but_127_0_0_1_blocked(seen):
    assert not seen["failures"], seen["failures"]
    assert seen["elsewhere"] == []
    # the style sheet came from the gateway itself: the header is styled
    assert seen["header_colour"] == "rgb(11, 83, 148)"
    assert len(seen["screenshots"]) >= 20
    for name in seen["screenshots"]:
        assert (ARTIFACTS / name).stat().st_size > 1000
    print(f"console pages: browser run {seen['seconds']} s")


def test_every_page_fits_a_phone_and_1366_wide_screen(seen):
    assert not seen["failures"], seen["failures"]
    assert seen["too_wide"] == []


def test_a_form_without_its_csrf_token_is_refused_and_stores_nothing(platform, seen):
    import requests

    staff = Api(platform.base_url, STAFF)
    before = staff.get("/api/v1/demands").json()["total"]
    browser = requests.Session()
    form = browser.get(f"{platform.base_url}/demand", timeout=10)
    assert form.status_code == 200
    filled = {
        "applicant": "苏州某电子科技有限公司",
        "contact_phone": "13812345678",
        "service_item_code": "6.3.1",
        "description": "电子玩具安全性能检测",
    }
    for token in ("", "forged-token-of-another-site-000000000000"):
        sent = browser.post(
            f"{platform.base_url}/demand", data={**filled, "csrf": token}, timeout=10
        )
        assert sent.status_code == 403
        assert "页面已过期" in sent.text
    assert staff.get("/api/v1/demands").json()["total"] == before


def test_the_login_cookie_is_httponly_and_samesite_strict(platform, seen):
    import requests

    browser = requests.Session()
    browser.get(f"{platform.base_url}/console/login", timeout=10)
    csrf = browser.cookies["qi_csrf"]
    answer = browser.post(
        f"{platform.base_url}/console/login",
        data={"username": STAFF[0], "password": STAFF[1], "csrf": csrf},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/console/"
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith("qi_console=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    workbench = browser.get(f"{platform.base_url}/console/", timeout=10)
    assert workbench.status_code == 200 and "工作台" in workbench.text
    # without the cookie, a console page sends the visitor to log in
    bare = requests.get(
        f"{platform.base_url}/console/", allow_redirects=False, timeout=10
    )
    assert bare.status_code == 303
    assert bare.headers["Location"].startswith("/console/login")


if __name__ == "__main__":
    hand_over(drive)
