"""The console's command forms as the API bodies they stand for (7.4, 8.3):
a page only turns a form into the body the API route would have received;
the rules stay in the use cases."""

from __future__ import annotations

import hashlib

from services.gateway.pages.rendering import text
from shared.errors import ValidationFailed
from shared.validation import require_filled

# the contract review's checks (5.3.1.2), each a box on the form
REVIEW_CHECKS = {
    "capability": "具备服务能力",
    "method": "方法适用",
    "cycle": "周期可满足",
    "fee": "费用已告知",
}
# the text lines of a demand command's form as the API body names them, each
# required (labels as the intake domain names them), all named at once
TEXT_COMMAND_FIELDS = {
    "handover": {"to_staff": "接收人", "reason": "移交原因"},
    "handover-withdrawal": {"reason": "撤回原因"},
    "reassignment": {"to_staff": "新负责人", "reason": "改派原因"},
    "follow-ups": {"note": "跟进记录"},
    "green-channel": {"reason": "开通原因"},
    "resolution": {"summary": "办结说明"},
    "reopening": {"reason": "重新办理原因"},
}
# the lines of the form the console corrects (the API takes every line)
CORRECTED_LINES = {
    "applicant": "申请人",
    "contact_phone": "联系电话",
    "contact_person": "联系人",
    "address": "详细地址",
    "main_business": "主营业务",
}


def demand_body(command: str, form) -> dict:
    """The API body of a demand command's form."""
    if command == "materials-notice":
        return {"provided": form.getlist("provided")}
    if command == "supplements":
        items = form.getlist("items")
        if not items:
            raise ValidationFailed.single("items", "请勾选客户已补充的材料")
        return {"items": items}
    if command == "contract-review":
        checked = set(form.getlist("checks"))
        return {"checks": {k: k in checked for k in REVIEW_CHECKS}}
    if command == "decision":
        outcome = text(form, "outcome")
        if not outcome:
            raise ValidationFailed.single("outcome", "请选择分流结果")
        # what the chosen outcome needs (8.3.1 the answer, 8.3.2 the
        # department); the domain says which is missing
        details = {k: text(form, k) for k in ("answer", "department")}
        return {"outcome": outcome, "details": {k: v for k, v in details.items() if v}}
    if command == "correction":
        # only the lines typed are corrected; the rules are registration's
        changed = {k: text(form, k) for k in CORRECTED_LINES if text(form, k)}
        require_filled({"reason": (text(form, "reason"), "更正原因")})
        return {**changed, "reason": text(form, "reason")}
    if command == "handover-answer":
        answer = text(form, "answer")
        if answer not in ("accept", "refuse"):
            raise ValidationFailed.single("answer", "请选择接收或拒绝")
        return {"accept": answer == "accept", "reason": text(form, "reason")}
    fields = TEXT_COMMAND_FIELDS.get(command, {})
    body = {field: text(form, field) for field in fields}
    require_filled({field: (body[field], label) for field, label in fields.items()})
    return body


def referral_body(command: str, request) -> dict:
    """The API body of a referral command's form; the e-report is hashed here."""
    form = request.form
    if command == "return":
        require_filled({"reason": (text(form, "reason"), "退回原因")})
        return {"reason": text(form, "reason")}
    if command == "progress":
        require_filled({"stage": (text(form, "stage"), "请选择办理环节")})
        return {"stage": text(form, "stage"), "note": text(form, "note")}
    if command == "feedback":
        require_filled({"summary": (text(form, "summary"), "反馈内容")})
        return {"summary": text(form, "summary")}
    if command == "completion":
        upload = request.files.get("report_file")
        content = upload.read() if upload and upload.filename else b""
        require_filled(
            {
                "report_no": (text(form, "report_no"), "报告编号"),
                "issued_on": (text(form, "issued_on"), "签发日期"),
                "report_file": (content, "请选择要上传的电子报告文件"),
            }
        )
        return {
            "report": {
                "report_no": text(form, "report_no"),
                "issued_on": text(form, "issued_on"),
                "sha256": hashlib.sha256(content).hexdigest(),
                "conclusion": text(form, "conclusion"),
            }
        }
    return {}
