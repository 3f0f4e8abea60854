"""What the customer does and sees by the progress code they hold, without a
login (7.4.3, 7.4.4, 7.4.6): where the demand stands — the partner's stages,
the expected completion date by the working-day calendar, the report's
verification code and its file once issued, the materials still wanted with
whom to ask, the messages the platform sent them — and the two things they
send: the materials listed in the one-time notice, and a download of the
e-report.

Nothing personal is shown (the code is the only credential: no name, phone
or address), nothing of the partner's own notes; whoever holds the code sees
this and no more. Every look-up counts against the visitor's guesses (the
route's guard).
"""

from __future__ import annotations

from urllib.parse import quote

from nameko.exceptions import UnknownService
from werkzeug.wrappers import Response

from services.gateway import uploads
from services.gateway.usecases.common import CUSTOMER, utc_now
from services.gateway.usecases.operation import use_case
from services.gateway.usecases.owners import CODE_HOLDER
from services.referral.contract import CUSTOMER_STAGES
from shared import blobs
from shared.audit import Actor
from shared.errors import DependencyUnavailable, NotFound, ValidationFailed

# a demand takes at most this many files from its customer
MOST_FILES = 50
# what the progress page shows of a message (no delivery address, even masked)
MESSAGE_FIELDS = ("id", "kind", "kind_label", "subject", "text", "created_at")


def _demand_of(gw, code: str) -> str:
    return gw.intake.demand_for_progress_code(code)["demand_id"]


def _messages(gw, code: str) -> list[dict] | None:
    """The customer's messages, newest first; None while notify is away (the
    rest of the page still answers)."""
    try:
        found = gw.notify.messages_for_progress_code(code)
    except (DependencyUnavailable, UnknownService, NotFound):
        return None
    return [{k: m[k] for k in MESSAGE_FIELDS} for m in found]


def progress_of(gw, code: str) -> dict:
    """The whole progress view of the demand a code names (NotFound if none)."""
    shown = gw.intake.progress(code)
    demand_id = _demand_of(gw, code)
    store = blobs.store_from_config()
    referrals = gw.referral.customer_progress(demand_id, shown["items"])
    for referral in referrals:
        report = referral["report"]
        if report is not None:
            report["downloadable"] = report["status"] == "valid" and store.exists(
                report["sha256"]
            )
    shown["referrals"] = referrals
    shown["customer_stages"] = CUSTOMER_STAGES
    shown["contacts"] = (
        gw.catalog.guide()["service_phone"] if shown["outstanding_materials"] else ""
    )
    shown["uploads"] = [
        {k: f[k] for k in ("material", "filename", "size", "uploaded_at")}
        for f in uploads.files_of(gw.app, demand_id)
    ]
    shown["messages"] = _messages(gw, code)
    return shown


@use_case(roles=None, owner=CODE_HOLDER)
def report_file(gw, actor: Actor, _, *, code: str, sha256: str) -> Response:
    """The e-report file of the demand's referral, by its digest: a valid
    report only (a revoked or replaced one is checked on the verification
    page, not handed out again)."""
    digest = blobs.normal_digest(sha256)
    if digest is None:
        raise NotFound("report")
    shown = gw.intake.progress(code)
    demand_id = _demand_of(gw, code)
    for referral in gw.referral.customer_progress(demand_id, shown["items"]):
        report = referral["report"]
        if report and report["sha256"] == digest:
            if report["status"] != "valid":
                raise ValidationFailed.single(
                    "report", f"该报告{report['status_label']}，请以最新报告为准"
                )
            return file_response(
                blobs.store_from_config().get(digest),
                "application/pdf",
                f"{report['report_no']}.pdf",
            )
    raise NotFound("report")


@use_case(roles=None, owner=CODE_HOLDER)
def upload_material(
    gw, actor: Actor, _, *, code: str, material: str, content: bytes, filename: str
) -> dict:
    """A file for one of the materials the one-time notice still lists
    (7.4.3): PDF, JPEG or PNG within the size limit. Staff check it and record
    the supplement; nothing is stored for a refused file."""
    shown = gw.intake.progress(code)
    wanted = shown["outstanding_materials"]
    if not wanted:
        raise ValidationFailed.single("material", "目前没有需要补充的材料")
    if material not in wanted:
        raise ValidationFailed.single(
            "material", "请选择告知书中列明的材料：" + "、".join(wanted)
        )
    media = blobs.checked_file(content, "file", blobs.MATERIAL_TYPES)
    demand_id = _demand_of(gw, code)
    if len(uploads.files_of(gw.app, demand_id)) >= MOST_FILES:
        raise ValidationFailed.single(
            "file", f"每项需求最多上传 {MOST_FILES} 个文件，请与服务人员联系"
        )
    digest = blobs.store_from_config().put(content)
    return uploads.record(
        gw.app,
        CUSTOMER,
        demand_id,
        {
            "material": material,
            "sha256": digest,
            "size": len(content),
            "media_type": media,
            "filename": filename,
            "at": utc_now(),
        },
    )


def file_response(content: bytes, media: str, filename: str) -> Response:
    """A stored file as a download, named in UTF-8 (RFC 6266)."""
    response = Response(content, mimetype=media)
    ascii_name = "".join(c if c.isascii() and c.isalnum() else "_" for c in filename)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response
