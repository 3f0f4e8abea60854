"""Issue 19's loop in a real browser, with a real SMTP server (aiosmtpd):
a customer files a demand online with an e-mail address, the one-time notice
arrives by e-mail with the full list and the contacts (7.4.3), the customer
opens its link and uploads the materials, staff refer the demand, the partner
sees the referral in its console inbox, signs for it, reports a stage and
uploads the e-report; the customer receives "report ready", follows its link
to the progress page (the partner's stages, the verification code) and
downloads the very file by code (7.4.4, 7.4.6), then receives the survey
invitation and rates from its link (9.2.1).

Staff's steps go through the API (the console's own forms are walked by
test_console_pages.py); everything the customer and the partner do is done in
Chromium. The harness (tests/e2e/browser.py) runs this file as a script in a
child process without eventlet; the SMTP sink's folder reaches it in
TEST_MAIL_DIR.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from datetime import date
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest

from tests import support
from tests.e2e.browser import (
    ADMIN,
    DESKTOP,
    PASSWORD,
    PHONE,
    REPO,
    STAFF,
    Api,
    browse,
    hand_over,
    needs_chromium,
    open_accounts,
    run_scenarios,
    scenario_ran,
)
from tests.smtp_sink import SmtpSink

PARTNER = ("loop.clerk", PASSWORD)
CUSTOMER_EMAIL = "zhang.li@example.cn"
REPORT_FILE = "%PDF-1.4\n% 电子报告 LOOP-2026-0001\n%%EOF\n".encode()
MATERIAL_FILE = "%PDF-1.4\n% 客户补充材料\n%%EOF\n".encode()
PASSED_REVIEW = dict.fromkeys(("capability", "method", "cycle", "fee"), True)


# --------------------------------------------------------------------------
# the browser side: run as ``python tests/e2e/test_customer_loop_pages.py``
# --------------------------------------------------------------------------


def mails(subject_part: str) -> list:
    """The e-mails to the customer whose subject holds ``subject_part``."""
    folder = Path(os.environ["TEST_MAIL_DIR"])
    found = []
    for path in sorted(folder.glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=default)
        if message["To"] == CUSTOMER_EMAIL and subject_part in message["Subject"]:
            found.append(message)
    return found


def wait_until(check, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError("it did not arrive in time")
        time.sleep(0.2)
    return value


def link_in(message) -> str:
    """The platform's link in an e-mail's text (the progress or rating page)."""
    text = message.get_body(("plain",)).get_content()
    return re.search(r"https?://127\.0\.0\.1:\d+/\S+", text).group(0)


def set_up_lab(base_url: str) -> None:
    admin = Api(base_url, ADMIN)
    lab = admin.post(
        "/api/v1/catalog/institutions",
        {"code": "91320100LAB0000LPX", "name": "闭环检测中心", "kind": "lab"},
    )
    assert lab.status_code == 201, lab.text
    lab_id = lab.json()["id"]
    granted = admin.post(
        f"/api/v1/catalog/institutions/{lab_id}/qualifications",
        {
            "kind": "CMA",
            "cert_no": "CMA-LOOP-0001",
            "scope_codes": ["6.3.1"],
            "valid_from": "2026-01-01",
            "valid_to": "2028-12-31",
        },
    )
    assert granted.status_code == 201, granted.text
    open_accounts(base_url, ((PARTNER[0], "partner", lab_id),))


def the_loop(drive, seen: dict) -> None:
    started = time.monotonic()
    staff = Api(drive.base_url, STAFF)

    # the customer files online, giving an e-mail address
    customer = drive.person(PHONE)
    drive.go(customer, "/demand")
    customer.fill("#applicant", "常州某玩具有限公司")
    customer.fill("#contact_phone", "13912340000")
    customer.fill("#contact_email", CUSTOMER_EMAIL)
    customer.select_option("#service_item_code", "6.3.1")
    customer.fill("#description", "塑料玩具安全性能检测")
    drive.submit(customer, customer.get_by_role("button", name="提交需求"))
    code = customer.inner_text("[data-progress-code]").strip()
    demand_id = staff.get("/api/v1/demands").json()["items"][0]["demand_id"]
    path = f"/api/v1/demands/{demand_id}"

    # staff take it and send the one-time notice: nothing provided yet
    assert staff.post(f"{path}/take", {}).status_code == 200
    notice = staff.post(f"{path}/materials-notice", {"provided": []})
    assert notice.status_code == 200, notice.text
    seen["listed"] = notice.json()["outstanding_materials"]
    (mail,) = wait_until(lambda: mails("材料一次性告知书"))
    seen["notice_text"] = mail.get_body(("plain",)).get_content()
    seen["notice_printable"] = "@media print" in mail.get_body(("html",)).get_content()
    seen["service_phone"] = (
        Api(drive.base_url).get("/api/v1/public/guide").json()["service_phone"]
    )

    # the customer follows the notice's link and uploads each material
    drive.go(customer, link_in(mail).removeprefix(drive.base_url))
    seen["contacts_shown"] = customer.inner_text("[data-contacts]")
    drive.shot(customer, "loop-notice-on-progress")
    for material in seen["listed"]:
        customer.select_option("#upload-material", material)
        customer.set_input_files(
            "#upload-file",
            {
                "name": "材料.pdf",
                "mimeType": "application/pdf",
                "buffer": MATERIAL_FILE,
            },
        )
        assert drive.submit(customer, customer.get_by_role("button", name="上传材料"))
    seen["uploaded_text"] = customer.inner_text("[data-uploads]")
    kept = staff.get(f"{path}/materials").json()["items"]
    seen["staff_sees"] = [f["material"] for f in kept]
    # and on the staff member's own page of the demand, each to open
    desk = drive.person(DESKTOP)
    drive.login(desk, STAFF)
    drive.go(desk, f"/console/demands/{demand_id}")
    seen["desk_uploaded"] = desk.inner_text("[data-uploaded]")
    seen["desk_rows"] = desk.locator("[data-uploaded] tbody tr").count()
    first = desk.locator("[data-uploaded] a").first.get_attribute("href")
    seen["desk_file_same"] = desk.request.get(drive.base_url + first).body() == (
        MATERIAL_FILE
    )
    drive.shot(desk, "loop-staff-sees-uploads")

    # staff record the supplement, review and refer; the referral is sent
    staff.post(f"{path}/supplements", {"items": seen["listed"]})
    staff.post(f"{path}/contract-review", {"checks": PASSED_REVIEW})
    assert staff.post(f"{path}/decision", {"outcome": "referred"}).status_code == 200
    (referral,) = wait_until(lambda: staff.get(path).json()["referrals"])
    sent = staff.post(f"/api/v1/referrals/{referral['id']}/sending", {})
    assert sent.status_code == 200, sent.text

    # the partner: its console inbox, then the referral signed for and done
    partner = drive.person(DESKTOP)
    drive.login(partner, PARTNER)

    def in_inbox():
        drive.go(partner, "/console/messages")
        return partner.locator("[data-kind=referral_sent]").count()

    wait_until(in_inbox)
    drive.shot(partner, "loop-partner-inbox")
    drive.submit(partner, partner.locator("[data-kind=referral_sent] a").first)
    seen["partner_message"] = partner.inner_text("[data-message-text]")
    drive.go(partner, f"/console/referrals/{referral['id']}")
    drive.submit(partner, partner.get_by_role("button", name="签收"))
    partner.select_option("#progress-stage", "sample_received")
    partner.fill("#progress-note", "内部：样品编号 LP-7")
    drive.submit(partner, partner.get_by_role("button", name="报告进度"))
    partner.fill("#completion-report_no", "LOOP-2026-0001")
    partner.fill("#completion-issued_on", date.today().isoformat())
    partner.set_input_files(
        "#completion-report_file",
        {"name": "report.pdf", "mimeType": "application/pdf", "buffer": REPORT_FILE},
    )
    drive.submit(partner, partner.get_by_role("button", name="办结"))
    seen["partner_sha256"] = partner.inner_text("[data-sha256]").strip()
    verification = partner.inner_text("[data-verification-code]").strip()
    seen["verification_code"] = verification
    drive.shot(partner, "loop-partner-completed")

    # the customer: "report ready", its link, the stages, the file by code
    (ready,) = wait_until(lambda: mails("报告已出具"))
    seen["ready_text"] = ready.get_body(("plain",)).get_content()
    drive.go(customer, link_in(ready).removeprefix(drive.base_url))
    seen["stages_reached"] = [
        element.inner_text()
        for element in customer.locator("[data-stage-reached]").all()
    ]
    seen["progress_verification"] = customer.inner_text("[data-verification-code]")
    seen["progress_text"] = customer.inner_text("main")
    drive.shot(customer, "loop-report-ready")
    with customer.expect_download() as download:
        customer.locator("[data-download]").click()
    seen["downloaded_same"] = Path(download.value.path()).read_bytes() == REPORT_FILE

    # the invitation, and the rating from its link
    (invitation,) = wait_until(lambda: mails("评价"), timeout=30)
    drive.go(customer, link_in(invitation).removeprefix(drive.base_url))
    for group in customer.locator("fieldset.rating").all():
        group.get_by_label("满意", exact=True).check()
    drive.submit(customer, customer.get_by_role("button", name="提交评价"))
    seen["rated_text"] = customer.inner_text("main")
    drive.shot(customer, "loop-rated")
    seen["survey"] = (
        Api(drive.base_url).get(f"/api/v1/public/surveys?code={code}").json()["items"]
    )
    seen["walk_seconds"] = round(time.monotonic() - started, 1)
    for page in (customer, partner):
        page.context.close()


def drive(base_url: str, outdir: Path) -> dict:
    set_up_lab(base_url)
    return run_scenarios(base_url, outdir, "loop-*.png", (the_loop,), {})


# --------------------------------------------------------------------------
# the tests: a platform with a mail server, one browser run, what it saw
# --------------------------------------------------------------------------

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def sink(tmp_path_factory):
    server = SmtpSink(tmp_path_factory.mktemp("loop-mail"), support.free_port())
    yield server.start()
    server.kill()


@pytest.fixture(scope="module")
def platform(amqp_uri, tmp_path_factory, sink):
    """Every service with the demo accounts, mail to the sink, links to itself."""
    support.delete_topology(amqp_uri)
    services = support.ServicesProcess(
        {
            "QI_AMQP_URI": amqp_uri,
            "QI_VAR_DIR": str(tmp_path_factory.mktemp("loop")),
            "QI_SEED_ACCOUNTS": str(REPO / "services/gateway/demo_accounts.json"),
            "QI_SMTP_URL": sink.url,
            "QI_NOTIFY_POLL_SECONDS": "0.2",
            # the walk polls progress while events travel: not a guesser
            "QI_PROGRESS_QUERIES_PER_MINUTE": "1000",
        }
    )
    services.env["QI_PUBLIC_BASE_URL"] = services.base_url
    yield services.start(timeout=60)
    services.kill()


@pytest.fixture(scope="module")
def seen(platform, sink, tmp_path_factory, monkeypatch_module):
    monkeypatch_module.setenv("TEST_MAIL_DIR", str(sink.folder))
    result = tmp_path_factory.mktemp("loop-run") / "seen.json"
    return browse(__file__, platform.base_url, result, timeout=180)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_the_customer_and_the_partner_close_the_loop_in_the_browser(seen):
    scenario_ran(seen, "the_loop")
    # the notice by e-mail: every material listed, numbered, with the contacts
    for number, material in enumerate(seen["listed"], start=1):
        assert f"{number}. {material}（未提供）" in seen["notice_text"]
    assert seen["service_phone"] in seen["notice_text"]
    assert seen["notice_printable"]
    assert seen["contacts_shown"] == seen["service_phone"]
    # the materials went up against the notice and reached staff
    assert seen["staff_sees"] == seen["listed"]
    for material in seen["listed"]:
        assert material in seen["uploaded_text"]
        assert material in seen["desk_uploaded"]
    assert seen["desk_rows"] == len(seen["listed"])
    assert seen["desk_file_same"] is True
    # the partner's inbox, the report kept as uploaded
    assert "转办" in seen["partner_message"]
    assert seen["partner_sha256"] == hashlib.sha256(REPORT_FILE).hexdigest()
    assert "LOOP-2026-0001" in seen["ready_text"]
    reached = [text.split()[0] for text in seen["stages_reached"]]
    assert reached == ["签收", "收样", "已出报告"], seen["stages_reached"]
    assert seen["progress_verification"].strip() == seen["verification_code"]
    assert "LP-7" not in seen["progress_text"]  # no partner-internal note
    assert seen["downloaded_same"] is True
    # the rating from the invitation's link
    assert "感谢您的评价" in seen["rated_text"]
    (survey,) = seen["survey"]
    assert survey["status"] == "rated"
    print(f"loop: walk {seen['walk_seconds']} s, browser run {seen['seconds']} s")


if __name__ == "__main__":
    hand_over(drive)
