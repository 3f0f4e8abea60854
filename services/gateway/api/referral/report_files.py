"""The e-report file over HTTP (7.4.4): the partner uploads the PDF with its
number and date (completing the referral, or replacing its report), reads it
back; the customer downloads it by the progress code they hold."""

from __future__ import annotations

from services.gateway.routing import answers
from services.gateway.routing.body import day, text
from services.gateway.routing.declare import Call, route
from services.gateway.routing.uploads import file_of, form_text
from services.gateway.usecases import customer, files
from shared import blobs

REPORT_FIELDS = {
    "required": ["report_no", "issued_on"],
    "properties": {
        "report_no": text("报告编号", 64),
        "issued_on": day("签发日期"),
        "conclusion": text("结论摘要", 2000),
    },
}


class ReportFileRoutes:
    @route(
        "POST",
        "/api/v1/referrals/{referral_id}/report/file",
        files.upload_report,
        "上传电子报告（PDF）及其编号、签发日期：办结转办，或替换已出具的报告",
        upload=blobs.REPORT_TYPES,
        upload_fields=REPORT_FIELDS,
        once="referral/{referral_id}/report/file",
        answer=answers.record("转办（报告已记录）", ("id",), id=answers.STRING),
    )
    def upload_report_file(self, call: Call):
        """multipart/form-data: ``file`` (PDF), ``report_no``, ``issued_on``,
        ``conclusion``; the referral records the file's SHA-256."""
        content, _ = file_of(call.request)
        return call.run(
            content=content,
            report_no=form_text(call.request, "report_no", 64),
            issued_on=form_text(call.request, "issued_on", 10),
            conclusion=form_text(call.request, "conclusion", 2000),
        )

    @route(
        "GET",
        "/api/v1/referrals/{referral_id}/report/file",
        files.report_file,
        "下载转办当前报告的电子文件",
        media=("application/pdf",),
        answer=answers.FILE,
    )
    def referral_report_file(self, call: Call):
        return call.run()

    @route(
        "GET",
        "/api/v1/progress/{code}/reports/{sha256}",
        customer.report_file,
        "凭进度查询码下载已出具的电子报告（按报告文件的 SHA-256）",
        media=("application/pdf",),
        guard="progress",
        inner=("sha256",),
        answer=answers.FILE,
    )
    def customer_report_file(self, call: Call):
        return call.run()
