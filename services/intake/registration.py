"""The demand registration form (8.2.3, Appendix B) and its rules.

This first cut holds the walking skeleton's minimal form — applicant, contact
phone, one service need and the channel — checked before anything is stored.
The full Appendix B form grows here (issue 5).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
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
PROGRESS_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I

IDEMPOTENCY_NAMESPACE = UUID("0b8e5f7a-2c7d-4d0e-9d0b-6a1f3c2e9b10")


def new_progress_code() -> str:
    return "".join(secrets.choice(PROGRESS_ALPHABET) for _ in range(10))


def demand_id_for(idempotency_key: str) -> UUID:
    """A retried submission with the same key names the same demand."""
    return uuid5(IDEMPOTENCY_NAMESPACE, idempotency_key)


def _text(form: dict, field: str, label: str, max_len: int, errors: list) -> str:
    value = form.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        errors.append({"field": field, "message": f"请填写{label}"})
        return ""
    if not isinstance(value, str):
        errors.append({"field": field, "message": f"{label}应为文字"})
        return ""
    value = value.strip()
    if len(value) > max_len:
        errors.append({"field": field, "message": f"{label}不能超过{max_len}个字"})
    return value


@dataclass(frozen=True)
class RegistrationForm:
    """A demand registration that passed every rule (8.2.3)."""

    applicant: str
    contact_phone: str
    service_item_code: str
    description: str
    channel: str

    FIELDS = (
        "applicant",
        "contact_phone",
        "service_item_code",
        "description",
        "channel",
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
        code = _text(form, "service_item_code", "服务事项编码", 10, errors)
        if code and not ITEM_CODE.match(code):
            errors.append(
                {
                    "field": "service_item_code",
                    "message": "服务事项编码应为第6章的条目，如 6.3 或 6.3.2",
                }
            )
        description = _text(form, "description", "需求描述", 2000, errors)
        channel = _text(form, "channel", "受理渠道", 20, errors)
        if channel and channel not in CHANNELS:
            errors.append(
                {
                    "field": "channel",
                    "message": "受理渠道应为：" + "、".join(CHANNELS),
                }
            )
        if errors:
            raise ValidationFailed(errors)
        return cls(applicant, phone, code, description, channel)
