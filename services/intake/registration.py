"""The demand registration form (8.2.3, Appendix B) and its rules.

Appendix B's lines — applicant, address, contact person and position, phone,
service staff, feedback time, main business and the service needs — plus the
customer kind (5.2.2 b) and the channel, all checked before anything is
stored. One need may be given in short as ``service_item_code`` and
``description``.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid5

from shared.errors import ValidationFailed

# 5.2.1, 7.4.4, 8.2.1, 8.2.2: the channels a demand may arrive on.
CHANNELS = {
    "window": "服务窗口",
    "phone": "电话",
    "website": "网站",
    "app": "移动应用",
    "mini_program": "小程序",
    "wechat": "微信",
    "wecom": "企业微信",
    "qq": "QQ",
    "email": "电子邮件",
    "visit": "上门走访",
}

MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")
# Service items are the sub-clauses of clause 6 (6.1 … 6.10), optionally with
# a sub-item number, e.g. "6.3" or "6.3.2".
ITEM_CODE = re.compile(r"^6\.(10|[1-9])(\.\d{1,2})?$")
ITEM_CODE_MESSAGE = "服务事项编码应为第6章的条目，如 6.3 或 6.3.2"
PROGRESS_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I

IDEMPOTENCY_NAMESPACE = UUID("0b8e5f7a-2c7d-4d0e-9d0b-6a1f3c2e9b10")


def new_progress_code() -> str:
    return "".join(secrets.choice(PROGRESS_ALPHABET) for _ in range(10))


def demand_id_for(idempotency_key: str) -> UUID:
    """A retried submission with the same key names the same demand."""
    return uuid5(IDEMPOTENCY_NAMESPACE, idempotency_key)


def _text(form: dict, field: str, label: str, max_len: int, errors: list, at=None):
    """A required text field; ``at`` prefixes the field's name (``needs[0]``)."""
    name = field if at is None else f"{at}.{field}"
    value = form.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        errors.append({"field": name, "message": f"请填写{label}"})
        return ""
    if not isinstance(value, str):
        errors.append({"field": name, "message": f"{label}应为文字"})
        return ""
    value = value.strip()
    if len(value) > max_len:
        errors.append({"field": name, "message": f"{label}不能超过{max_len}个字"})
    return value


CUSTOMER_KINDS = {"individual": "个人", "company": "企业", "government": "政府部门"}
# GB 32100-2015 unified social credit code: 18 characters, the last a checksum
CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
MAX_NEEDS = 10
APPENDIX_B_LINES = (
    "address",
    "contact_person",
    "position",
    "service_staff",
    "feedback_time",
    "main_business",
)
# Appendix B's optional lines: field -> (label, longest)
OPTIONAL_TEXT = {
    "address": ("详细地址", 200),
    "contact_person": ("联系人", 50),
    "position": ("职务", 50),
    "service_staff": ("服务人员", 50),
    "main_business": ("主营业务", 500),
}


def valid_credit_code(code: str) -> bool:
    if len(code) != 18 or any(c not in CREDIT_CODE_CHARS for c in code):
        return False
    total = sum(
        CREDIT_CODE_CHARS.index(c) * w
        for c, w in zip(code[:17], CREDIT_CODE_WEIGHTS, strict=True)
    )
    return CREDIT_CODE_CHARS[(31 - total % 31) % 31] == code[17]


def _need(raw: object, at: str, errors: list) -> dict:
    if not isinstance(raw, dict) or set(raw) - {"item_code", "description"}:
        errors.append({"field": at, "message": "每项需求应含 item_code 与 description"})
        return {}
    code = _text(raw, "item_code", "服务事项编码", 10, errors, at)
    if code and not ITEM_CODE.match(code):
        errors.append({"field": f"{at}.item_code", "message": ITEM_CODE_MESSAGE})
    description = _text(raw, "description", "需求描述", 2000, errors, at)
    return {"item_code": code, "description": description}


def _needs(form: dict, errors: list) -> list[dict]:
    """Service needs (Appendix B): a list, or one item given by shorthand."""
    if "needs" in form:
        if "service_item_code" in form or "description" in form:
            errors.append(
                {"field": "needs", "message": "needs 与 service_item_code 只能用一种"}
            )
            return []
        raw = form["needs"]
        if not isinstance(raw, list) or not 0 < len(raw) <= MAX_NEEDS:
            errors.append(
                {"field": "needs", "message": f"请列出1到{MAX_NEEDS}项服务需求"}
            )
            return []
        return [_need(n, f"needs[{i}]", errors) for i, n in enumerate(raw)]
    shorthand = {
        "item_code": form.get("service_item_code"),
        "description": form.get("description"),
    }
    need = _need(shorthand, "", errors)
    for error in errors:  # name the shorthand fields as the caller wrote them
        error["field"] = {
            ".item_code": "service_item_code",
            ".description": "description",
        }.get(error["field"], error["field"])
    return [need]


@dataclass(frozen=True)
class RegistrationForm:
    """A demand registration that passed every rule (8.2.3, Appendix B)."""

    applicant: str
    contact_phone: str
    channel: str
    needs: tuple[dict, ...]
    customer_kind: str = "company"
    credit_code: str = ""
    address: str = ""
    contact_person: str = ""
    position: str = ""
    service_staff: str = ""
    feedback_time: str = ""  # the date feedback is promised by, ISO
    main_business: str = ""

    FIELDS = (
        "applicant",
        "contact_phone",
        "channel",
        "needs",
        "service_item_code",
        "description",
        "customer_kind",
        "credit_code",
        "feedback_time",
        *OPTIONAL_TEXT,
    )

    @classmethod
    def parse(cls, form: object) -> RegistrationForm:
        if not isinstance(form, dict):
            raise ValidationFailed.single("body", "请求内容应为 JSON 对象")
        errors: list[dict] = []
        unknown = sorted(set(form) - set(cls.FIELDS))
        for field in unknown:  # mass assignment: refuse what we do not know
            errors.append({"field": field, "message": "不认识的字段"})
        applicant = _text(form, "applicant", "申请人", 100, errors)
        phone = _text(form, "contact_phone", "联系电话", 20, errors)
        if phone and not (MOBILE.match(phone) or LANDLINE.match(phone)):
            errors.append(
                {
                    "field": "contact_phone",
                    "message": "联系电话应为11位手机号或带区号的固定电话",
                }
            )
        needs = _needs(form, errors)
        channel = _text(form, "channel", "受理渠道", 20, errors)
        if channel and channel not in CHANNELS:
            errors.append(
                {"field": "channel", "message": "受理渠道应为：" + "、".join(CHANNELS)}
            )
        kind = form.get("customer_kind", "company")
        if kind not in CUSTOMER_KINDS:
            errors.append(
                {
                    "field": "customer_kind",
                    "message": "客户类型应为：" + "、".join(CUSTOMER_KINDS),
                }
            )
        credit = form.get("credit_code") or ""
        if (
            credit
            and kind in CUSTOMER_KINDS
            and (kind != "company" or not valid_credit_code(str(credit)))
        ):
            errors.append(
                {
                    "field": "credit_code",
                    "message": "统一社会信用代码应为企业的18位有效代码（校验位不符）",
                }
            )
        optional = {
            field: _optional_text(form, field, label, longest, errors)
            for field, (label, longest) in OPTIONAL_TEXT.items()
        }
        feedback = form.get("feedback_time") or ""
        if feedback and not _is_date(feedback):
            errors.append(
                {"field": "feedback_time", "message": "反馈时间应为日期，如 2026-12-05"}
            )
        if errors:
            raise ValidationFailed(errors)
        return cls(
            applicant,
            phone,
            channel,
            tuple(needs),
            kind,
            str(credit),
            feedback_time=str(feedback),
            **optional,
        )

    def as_event_fields(self) -> dict:
        return {
            "applicant": self.applicant,
            "contact_phone": self.contact_phone,
            "channel": self.channel,
            "needs": [dict(n) for n in self.needs],
            "customer_kind": self.customer_kind,
            "credit_code": self.credit_code,
            "address": self.address,
            "contact_person": self.contact_person,
            "position": self.position,
            "service_staff": self.service_staff,
            "feedback_time": self.feedback_time,
            "main_business": self.main_business,
        }


def _optional_text(form, field, label, longest, errors) -> str:
    if form.get(field) in (None, ""):
        return ""
    return _text(form, field, label, longest, errors)


def _is_date(value: object) -> bool:
    try:
        date.fromisoformat(str(value))
        return True
    except ValueError:
        return False
