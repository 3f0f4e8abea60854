"""The console's inbox and its printable messages, and the pages that move
files: the partner's e-report with its number (7.4.4), the customer's
materials against the one-time notice and the report download by progress
code (7.4.3, 7.4.6), the staff's copy of what the customer sent, and the
verification page's QR code.

Mixed into PagesRoutes. Each page runs the use case its API route runs
(services/gateway/usecases: messages, customer, files).
"""

from __future__ import annotations

import io
import re

import segno
from nameko.web.handlers import http
from werkzeug.wrappers import Response

from services.gateway.access import ANONYMOUS
from services.gateway.pages.handlers import html_errors, signed_in, with_csrf
from services.gateway.pages.rendering import (
    field_errors,
    render,
    text,
)
from services.gateway.routing.query import page_of
from services.gateway.usecases import customer, files, messages
from services.notify.contract import AUDIENCES, CHANNELS
from shared import config
from shared.errors import NotFound, ValidationFailed
from shared.validation import require_filled

INBOX_PAGE = 20
UPLOADED = "材料已上传，服务人员核对后将为您登记"
# what a verification code may look like (referral's contract keeps the
# exact alphabet; this only keeps a QR from holding anything else)
CODE = re.compile(r"^[A-Z0-9]{8,32}$")


def normal_code(code: str) -> str | None:
    code = code.strip().upper().replace("-", "")
    return code if CODE.match(code) else None


def verification_url(code: str) -> str:
    base = config.get("QI_PUBLIC_BASE_URL").rstrip("/")
    return f"{base}/verify?code={code}"


def qr_svg(url: str) -> bytes:
    """The URL as a QR code (error correction M), SVG with its own size."""
    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(
        out, kind="svg", scale=4, border=2, xmldecl=False, title="报告核验二维码"
    )
    return out.getvalue()


def completion_with_file(gw, actor, found, referral_id: str, request):
    """The partner's completion form: the e-report file itself, its number,
    date and conclusion; the file is kept and its SHA-256 recorded."""
    form = request.form
    upload = request.files.get("report_file")
    content = upload.read() if upload and upload.filename else b""
    require_filled(
        {
            "report_no": (text(form, "report_no"), "报告编号"),
            "issued_on": (text(form, "issued_on"), "签发日期"),
            "file": (content, "请选择要上传的电子报告文件"),
        }
    )
    return files.upload_report.run(
        gw,
        actor,
        found,
        referral_id=referral_id,
        content=content,
        report_no=text(form, "report_no"),
        issued_on=text(form, "issued_on"),
        conclusion=text(form, "conclusion"),
    )


class FilePages:
    """Mixed into PagesRoutes."""

    # -- the inbox ------------------------------------------------------------

    @http("GET", "/console/messages")
    @html_errors
    def messages_page(self, request):
        actor = signed_in(self, request)
        offset, _ = page_of(request)
        page = messages.inbox(self, actor, offset=offset, limit=INBOX_PAGE)
        return render(request, "messages.html", actor=actor, page=page)

    @http("GET", "/console/messages/<string:message_id>")
    @html_errors
    def message_page(self, request, message_id):
        """One message, laid out to print (the materials notice: the full
        list and whom to ask)."""
        actor = signed_in(self, request)
        found = messages.message(self, actor, message_id=message_id)
        return render(
            request,
            "message.html",
            actor=actor,
            message=found,
            audiences=AUDIENCES,
            message_channels=CHANNELS,
        )

    # -- the customer's, by progress code ---------------------------------------

    def _progress_again(self, request, code: str, status: int, **context):
        found = customer.progress_of(self, code)
        return render(
            request, "progress.html", status, code=code, progress=found, **context
        )

    @http("POST", "/progress/materials")
    @html_errors
    @with_csrf
    def material_upload_submit(self, request):
        """A file for a material the notice lists; the page again either way."""
        code = text(request.form, "code")
        material = text(request.form, "material")
        upload = request.files.get("file")
        content = upload.read() if upload and upload.filename else b""
        self.count_guess(request, "code")
        try:
            require_filled(
                {
                    "material": (material, "请选择要上传的是哪一项材料"),
                    "file": (content, "请选择要上传的文件"),
                }
            )
            customer.upload_material(
                self,
                ANONYMOUS,
                code=code,
                material=material,
                content=content,
                filename=upload.filename[:200] if upload else "",
            )
        except ValidationFailed as exc:
            errors = field_errors(exc.errors, "upload")
            return self._progress_again(request, code, 400, errors=errors)
        return self._progress_again(request, code, 200, done=UPLOADED)

    @http("GET", "/progress/report")
    @html_errors
    def report_download(self, request):
        """The e-report file, by the progress code and the report's digest."""
        self.count_guess(request, "code")
        return customer.report_file(
            self,
            ANONYMOUS,
            code=text(request.args, "code"),
            sha256=text(request.args, "sha256"),
        )

    @http("GET", "/verify/qr.svg")
    @html_errors
    def verification_qr(self, request):
        """The verification page's address as a QR code, to print on a report."""
        code = normal_code(request.args.get("code", ""))
        if code is None:
            raise NotFound("code")
        response = Response(qr_svg(verification_url(code)), mimetype="image/svg+xml")
        response.headers["Cache-Control"] = "public, max-age=86400"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    # -- the staff's copy of what the customer sent -------------------------------

    @http("GET", "/console/demands/<string:demand_id>/materials/<string:sha256>")
    @html_errors
    def material_download(self, request, demand_id, sha256):
        actor = signed_in(self, request)
        return files.material_file(self, actor, demand_id=demand_id, sha256=sha256)
