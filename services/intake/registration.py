"""The demand registration form (8.2.3, Appendix B) and its rules.

Appendix B's lines — applicant, address, contact person and position, phone,
service staff, feedback time, main business and the service needs — plus the
customer kind (5.2.2 b) and the channel, all checked before anything is
stored. One need may be given in short as ``service_item_code`` and
``description``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID, uuid5

from services.intake.contract import CHANNELS, CUSTOMER_KINDS
from shared.errors import ValidationFailed
from shared.validation import (
    Errors,
    optional_email,
    optional_text,
    require_choice,
    require_day,
    require_phone,
    require_text,
)

# Service items are the sub-clauses of clause 6 (6.1 … 6.10), optionally with
# a sub-item number, e.g. "6.3" or "6.3.2".
ITEM_CODE = re.compile(r"^6\.(10|[1-9])(\.\d{1,2})?$")
ITEM_CODE_MESSAGE = "服务事项编码应为第6章的条目，如 6.3 或 6.3.2"

IDEMPOTENCY_NAMESPACE = UUID("0b8e5f7a-2c7d-4d0e-9d0b-6a1f3c2e9b10")


def demand_id_for(idempotency_key: str) -> UUID:
    """A retried submission with the same key names the same demand."""
    return uuid5(IDEMPOTENCY_NAMESPACE, idempotency_key)


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


def _need(raw: object, at: str, errors: Errors) -> dict:
    if not isinstance(raw, dict) or set(raw) - {"item_code", "description"}:
        errors.add(at, "每项需求应含 item_code 与 description")
        return {}
    code_field = f"{at}.item_code"
    code = errors.check(
        require_text, raw.get("item_code"), code_field, "服务事项编码", 10
    )
    if code and not ITEM_CODE.match(code):
        errors.add(code_field, ITEM_CODE_MESSAGE)
    description = errors.check(
        require_text, raw.get("description"), f"{at}.description", "需求描述", 2000
    )
    return {"item_code": code, "description": description}


def _needs(form: dict, errors: Errors) -> list[dict]:
    """Service needs (Appendix B): a list, or one item given by shorthand."""
    if "needs" in form:
        if "service_item_code" in form or "description" in form:
            errors.add("needs", "needs 与 service_item_code 只能用一种")
            return []
        raw = form["needs"]
        if not isinstance(raw, list) or not 0 < len(raw) <= MAX_NEEDS:
            errors.add("needs", f"请列出1到{MAX_NEEDS}项服务需求")
            return []
        return [_need(n, f"needs[{i}]", errors) for i, n in enumerate(raw)]
    shorthand = {
        "item_code": form.get("service_item_code"),
        "description": form.get("description"),
    }
    need = _need(shorthand, "", errors)
    for error in errors.errors:  # the shorthand fields, named as the caller did
        error["field"] = {
            ".item_code": "service_item_code",
            ".description": "description",
        }.get(error["field"], error["field"])
    return [need]


class KnownItems:
    """The service item codes the catalog has confirmed (clause 6), kept for
    the life of intake's application so a registration does not ask the
    catalog (one RPC round trip, issue 22) about an item it has confirmed
    before.

    Only a "yes" is kept: a catalog item is defined once and then only
    revised, never withdrawn (``ServiceItem``'s events are Defined and
    Revised), so a code once confirmed stays an item of the catalog. An
    unknown code is asked every time, since it may be defined meanwhile, and
    a catalog that does not answer (``DependencyUnavailable``) is said as
    such and keeps nothing. What is kept is the code alone: the item's name,
    materials and cycle, which a revision changes, are read from the catalog
    where they are used."""

    def __init__(self) -> None:
        self._confirmed: set[str] = set()

    def check(self, code: str, ask: Callable[[str], bool]) -> bool:
        """Whether ``code`` is an item of the catalog; ``ask(code)`` asks it."""
        if code in self._confirmed:
            return True
        if not ask(code):
            return False
        self._confirmed.add(code)
        return True


def require_catalog_items(form: dict, needs, known_item) -> None:
    """Each item asked for is an item of the service catalog (clause 6), not
    only a well-formed code: a demand for an item no one offers could never
    be served or referred. ``known_item(code)`` asks the catalog; errors name
    the field as the caller wrote it."""
    errors = Errors()
    shorthand = "needs" not in form
    for i, need in enumerate(needs):
        code = need["item_code"]
        if not known_item(code):
            field = "service_item_code" if shorthand else f"needs[{i}].item_code"
            errors.add(field, f"服务目录中没有服务事项 {code}，请核对编码")
    errors.raise_if_any()


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
    contact_email: str = ""

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
        "contact_email",
        *OPTIONAL_TEXT,
    )

    @classmethod
    def parse(cls, form: object) -> RegistrationForm:
        if not isinstance(form, dict):
            raise ValidationFailed.single("body", "请求内容应为 JSON 对象")
        errors = Errors()
        unknown = sorted(set(form) - set(cls.FIELDS))
        for field in unknown:  # mass assignment: refuse what we do not know
            errors.add(field, "不认识的字段")
        applicant = errors.check(
            require_text, form.get("applicant"), "applicant", "申请人", 100
        )
        phone = errors.check(require_phone, form.get("contact_phone"), "contact_phone")
        needs = _needs(form, errors)
        channel = errors.check(
            require_text, form.get("channel"), "channel", "受理渠道", 20
        )
        if channel:
            errors.check(require_choice, channel, "channel", "受理渠道", CHANNELS)
        kind = form.get("customer_kind", "company")
        known_kind = errors.check(
            require_choice, kind, "customer_kind", "客户类型", CUSTOMER_KINDS
        )
        credit = form.get("credit_code") or ""
        if (
            credit
            and known_kind
            and (kind != "company" or not valid_credit_code(str(credit)))
        ):
            errors.add(
                "credit_code", "统一社会信用代码应为企业的18位有效代码（校验位不符）"
            )
        optional = {
            field: errors.check(optional_text, form.get(field), field, label, longest)
            for field, (label, longest) in OPTIONAL_TEXT.items()
        }
        feedback = form.get("feedback_time") or ""
        if feedback:
            errors.check(require_day, feedback, "feedback_time", "反馈时间")
        # the customer's e-mail, optional: notify sends notices there (7.4.3, 9.2.1)
        email = errors.check(optional_email, form.get("contact_email"), "contact_email")
        errors.raise_if_any()
        return cls(
            applicant,
            phone,
            channel,
            tuple(needs),
            kind,
            str(credit),
            feedback_time=str(feedback),
            contact_email=email,
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
            "contact_email": self.contact_email,
        }
