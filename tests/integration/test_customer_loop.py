"""Issue 19 as the customer and the partner lab see it, through the gateway's
API with every service on the real RabbitMQ and PostgreSQL: the materials the
one-time notice lists uploaded by the progress code and read by the demand's
staff (7.4.3), the partner's stages, the expected date and the report on the
progress page (7.4.6), the e-report uploaded with its number, stored by its
SHA-256 and downloaded by the code (7.4.4), its verification with a QR code,
and the console's inbox of the caller's own messages.
"""

from __future__ import annotations

import hashlib
import json
import stat
from datetime import datetime

import requests

from services.gateway.pages.rendering import BEIJING
from tests import support
from tests.integration import test_gateway_access as access_tests

backend = access_tests.backend
gateway = access_tests.gateway

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def upload(gateway, path: str, files: dict, data: dict, who: str | None = None):
    return requests.post(
        f"{gateway.base}{path}",
        files=files,
        data=data,
        headers=gateway.headers(who),
        timeout=10,
    )


def noticed_demand(gateway) -> tuple[str, str, list[str]]:
    """A demand filed online, taken by wang and noticed with nothing provided."""
    filed = gateway.post("/api/v1/demands", access_tests.ONLINE_FORM).json()
    path = f"/api/v1/demands/{filed['id']}"
    assert gateway.post(f"{path}/take", who="wang").status_code == 200
    notice = gateway.post(f"{path}/materials-notice", {"provided": []}, "wang")
    assert notice.status_code == 200, notice.text
    return filed["id"], filed["progress_code"], notice.json()["outstanding_materials"]


def test_materials_go_up_by_code_checked_and_reach_the_demands_staff_only(
    gateway, monkeypatch
):
    demand_id, code, wanted = noticed_demand(gateway)
    progress = gateway.get(f"/api/v1/progress/{code}").json()
    assert progress["outstanding_materials"] == wanted
    guide = gateway.get("/api/v1/public/guide").json()
    assert progress["contacts"] == guide["service_phone"]
    (notice,) = support.wait_for(
        lambda: gateway.get(f"/api/v1/progress/{code}").json()["messages"],
        timeout=15,
    )
    assert notice["kind"] == "materials_notice"
    for number, material in enumerate(wanted, start=1):
        assert f"{number}. {material}（未提供）" in notice["text"]

    url = f"/api/v1/progress/{code}/materials"
    refusals = {
        "a text file": ({"file": ("a.txt", b"hello")}, {"material": wanted[0]}),
        "no file": ({}, {"material": wanted[0]}),
        "not listed": ({"file": ("a.png", PNG)}, {"material": "营业执照原件"}),
    }
    for case, (files, data) in refusals.items():
        answer = upload(gateway, url, files, data)
        assert answer.status_code == 400, (case, answer.text)
        (error,) = answer.json()["errors"]
        assert any("\u4e00" <= c <= "\u9fff" for c in error["message"]), case
    monkeypatch.setenv("QI_UPLOAD_MAX_BYTES", "32")
    too_big = upload(gateway, url, {"file": ("a.png", PNG)}, {"material": wanted[0]})
    assert too_big.status_code == 400
    assert too_big.json()["errors"][0]["message"].startswith("文件过大")
    monkeypatch.delenv("QI_UPLOAD_MAX_BYTES")
    assert (
        gateway.get(f"/api/v1/demands/{demand_id}/materials", "wang").json()["items"]
        == []
    ), "nothing is kept of a refused file"

    sent = upload(gateway, url, {"file": ("执照.png", PNG)}, {"material": wanted[0]})
    assert sent.status_code == 201, sent.text
    digest = hashlib.sha256(PNG).hexdigest()
    assert sent.json()["sha256"] == digest
    (kept,) = gateway.get(f"/api/v1/demands/{demand_id}/materials", "wang").json()[
        "items"
    ]
    assert kept["material"] == wanted[0] and kept["media_type"] == "image/png"
    copy = gateway.get(f"/api/v1/demands/{demand_id}/materials/{digest}", "wang")
    assert copy.status_code == 200 and copy.content == PNG
    assert copy.headers["Content-Type"] == "image/png"
    for outsider in ("other", "othermgr", "chen", "sun", None):
        answer = gateway.get(
            f"/api/v1/demands/{demand_id}/materials/{digest}", outsider
        )
        assert answer.status_code in (401, 403, 404), outsider
    assert [
        u["material"] for u in gateway.get(f"/api/v1/progress/{code}").json()["uploads"]
    ] == [wanted[0]]
    # the upload is part of the case the regulator reads
    audit = gateway.get(f"/api/v1/audit/cases/{demand_id}", "sun").json()
    assert "CustomerMaterials.Uploaded" in [row["event"] for row in audit["timeline"]]


def test_the_partners_stages_report_and_its_file_reach_the_customer_by_code(
    gateway, tmp_path
):
    lab_id = access_tests.lab_with_partner(gateway, "pp")
    demand_id, code, wanted = noticed_demand(gateway)
    path = f"/api/v1/demands/{demand_id}"
    gateway.post(f"{path}/supplements", {"items": wanted}, "wang")
    referral_id = access_tests.refer_and_send(gateway, demand_id)
    referral_path = f"/api/v1/referrals/{referral_id}"

    (shown,) = gateway.get(f"/api/v1/progress/{code}").json()["referrals"]
    assert shown["stages"] == [] and shown["expected_on"]  # estimated already
    clerk = "pp.clerk"
    assert gateway.post(f"{referral_path}/acceptance", {}, clerk).status_code == 200
    for stage, note in (("sample_received", "内部备注：样品袋破损"), ("testing", "")):
        body = {"stage": stage, "note": note}
        assert gateway.post(f"{referral_path}/progress", body, clerk).status_code == 200

    referral = gateway.get(referral_path, clerk).json()
    progress = gateway.get(f"/api/v1/progress/{code}").json()
    (shown,) = progress["referrals"]
    assert [s["label"] for s in shown["stages"]] == ["签收", "收样", "检测中"]
    due = datetime.fromisoformat(referral["completion_due"]).astimezone(BEIJING)
    assert shown["expected_on"] == due.date().isoformat()
    text = json.dumps(progress, ensure_ascii=False)
    for private in ("样品袋破损", lab_id, access_tests.ONLINE_FORM["applicant"]):
        assert private not in text

    # the partner's e-report: a PDF only, with its number
    file_url = f"{referral_path}/report/file"
    fields = {"report_no": "PP-2026-001", "issued_on": "2026-11-26"}
    not_pdf = upload(gateway, file_url, {"file": ("r.png", PNG)}, fields, clerk)
    assert not_pdf.status_code == 400
    assert not_pdf.json()["errors"][0]["message"] == "文件格式不符：只接受 PDF 文件"
    digest = hashlib.sha256(PDF).hexdigest()
    future = {**fields, "issued_on": "2099-01-01"}
    refused = upload(gateway, file_url, {"file": ("r.pdf", PDF)}, future, clerk)
    assert refused.status_code == 400, refused.text
    assert not list(tmp_path.rglob(digest)), "nothing is kept for a refused report"
    done = upload(gateway, file_url, {"file": ("报告.pdf", PDF)}, fields, clerk)
    assert done.status_code == 200, done.text
    report = done.json()["report"]
    assert report["sha256"] == digest and report["report_no"] == "PP-2026-001"
    (stored,) = [p for p in (tmp_path / "blobs").rglob(digest)]
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stored.read_bytes() == PDF

    (shown,) = gateway.get(f"/api/v1/progress/{code}").json()["referrals"]
    assert shown["stages"][-1]["label"] == "已出报告"
    assert shown["report"]["verification_code"] == report["verification_code"]
    assert shown["report"]["downloadable"] is True
    got = gateway.get(f"/api/v1/progress/{code}/reports/{digest}")
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["Content-Type"] == "application/pdf"
    assert gateway.get(f"/api/v1/progress/{code}/reports/{'0' * 64}").status_code == 404
    page = requests.get(
        f"{gateway.base}/progress", params={"code": code}, timeout=10
    ).text
    assert "已出报告" in page and f"sha256={digest}" in page

    # a replacement: the old report shows replaced, with the QR of its page
    newer = PDF.replace(b"1.4", b"1.7")
    replaced = upload(
        gateway,
        file_url,
        {"file": ("新报告.pdf", newer)},
        {**fields, "report_no": "PP-2026-001A"},
        clerk,
    )
    assert replaced.status_code == 200, replaced.text
    old_code = report["verification_code"]
    verify = requests.get(
        f"{gateway.base}/verify", params={"code": old_code}, timeout=10
    ).text
    assert "已被替换" in verify and f"/verify/qr.svg?code={old_code}" in verify
    qr = requests.get(f"{gateway.base}/verify/qr.svg?code={old_code}", timeout=10)
    assert qr.headers["Content-Type"].startswith("image/svg+xml")
    assert b"<svg" in qr.content
    stale = gateway.get(f"/api/v1/progress/{code}/reports/{digest}")
    assert stale.status_code == 404  # only the current report is handed out
    newest = hashlib.sha256(newer).hexdigest()
    assert gateway.get(f"/api/v1/progress/{code}/reports/{newest}").content == newer


def test_the_inbox_holds_the_callers_own_messages_only(gateway):
    access_tests.lab_with_partner(gateway, "ib")
    demand_id = gateway.post("/api/v1/demands", access_tests.ONLINE_FORM).json()["id"]
    referral_id = access_tests.refer_and_send(gateway, demand_id)
    (sent,) = support.wait_for(
        lambda: gateway.get("/api/v1/inbox", "ib.clerk").json()["items"], timeout=15
    )
    assert sent["kind"] == "referral_sent" and sent["audience"] == "partner"
    assert sent["demand_id"] == demand_id
    for other in ("chen", "wang", "zhao", "other"):
        assert gateway.get("/api/v1/inbox", other).json()["items"] == [], other
    for refused in ("sun", "ops", "admin", None):
        assert gateway.get("/api/v1/inbox", refused).status_code in (401, 403)

    # the console: 收件箱 in the menu, the message opened to print
    session = requests.Session()
    session.get(f"{gateway.base}/console/login", timeout=10)
    login = session.post(
        f"{gateway.base}/console/login",
        data={
            "username": "ib.clerk",
            "password": access_tests.PASSWORD,
            "csrf": session.cookies["qi_csrf"],
        },
        timeout=10,
    )
    assert login.status_code == 200, login.text
    listed = session.get(f"{gateway.base}/console/messages", timeout=10).text
    assert '<a href="/console/messages">收件箱</a>' in listed
    assert f"/console/messages/{sent['id']}" in listed
    opened = session.get(f"{gateway.base}/console/messages/{sent['id']}", timeout=10)
    assert opened.status_code == 200 and sent["subject"] in opened.text
    assert (
        "@media print"
        in session.get(f"{gateway.base}/static/console.css", timeout=10).text
    )
    assert referral_id  # the referral the message is about
