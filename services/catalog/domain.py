"""Catalog domain: service items (clause 6) and who is qualified to serve them (4.1).

Only an institution whose qualification covers an item and is valid on a date
may take that item on that date (4.1, 4.2). Validity is a date range; a
suspension, reinstatement or revocation takes effect on its own date, so the
question "who was qualified on 3 March?" has one answer, forever.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import event

from services.catalog.contract import institution_id, item_id
from services.catalog.rules import ITEM_CODE
from shared.application import AuditedAggregate
from shared.errors import ValidationFailed
from shared.qualification import STATUS_LABELS, QualificationView
from shared.validation import (
    Errors,
    optional_text,
    require_choice,
    require_day,
    require_text,
)

INSTITUTION_KINDS = {
    "lab": "检验检测机构",
    "metrology": "计量技术机构",
    "certification": "认证机构",
    "standardisation": "标准化技术机构",
    # the platform's front door (seed_institutions): receives, refers, holds
    # no qualification of its own
    "service_centre": "一站式服务机构",
}
QUALIFICATION_KINDS = {
    "CMA": "检验检测机构资质认定（CMA）",
    "CNAS": "实验室认可（CNAS）",
    "CERT_BODY": "认证机构批准",
    "METROLOGY": "计量授权",
    "FOOD": "食品检验机构资质",
}


class Institution(AuditedAggregate):
    """A partner institution and its qualifications (4.1)."""

    @staticmethod
    def create_id(code: str) -> UUID:
        return institution_id(code)

    @event("Registered")
    def __init__(self, code: str, name: str, kind: str, contact_phone: str, address):
        self.code = code
        self.name = name
        self.kind = kind
        self.contact_phone = contact_phone
        self.address = address
        self.qualifications: dict[str, dict] = {}

    @classmethod
    def register(cls, code, name, kind, contact_phone="", address="") -> Institution:
        errors = Errors()
        code = errors.check(require_text, code, "code", "机构代码", 40)
        name = errors.check(require_text, name, "name", "机构名称", 100)
        errors.check(require_choice, kind, "kind", "机构类别", INSTITUTION_KINDS)
        contact_phone = errors.check(
            optional_text, contact_phone, "contact_phone", "联系电话", 30
        )
        address = errors.check(optional_text, address, "address", "地址", 200)
        errors.raise_if_any()
        return cls(code, name, kind, contact_phone, address)

    # -- qualifications ----------------------------------------------------

    def qualification(self, cert_no: str) -> QualificationView:
        try:
            return QualificationView.from_state(self.qualifications[cert_no])
        except KeyError:
            raise ValidationFailed.single("cert_no", "该机构没有这个证书编号") from None

    def grant(self, kind, cert_no, scope_codes, scope_text, valid_from, valid_to):
        errors = Errors()
        errors.check(require_choice, kind, "kind", "资质类别", QUALIFICATION_KINDS)
        cert_no = errors.check(require_text, cert_no, "cert_no", "证书编号", 60)
        if cert_no in self.qualifications:
            errors.add("cert_no", "该证书编号已登记")
        codes = list(scope_codes or [])
        bad = [c for c in codes if not isinstance(c, str) or not ITEM_CODE.match(c)]
        if not codes or bad:
            errors.add("scope_codes", "资质范围应列出第6章服务事项编码，如 6.3、6.4.3")
        scope_text = errors.check(
            optional_text, scope_text, "scope_text", "范围说明", 2000
        )
        start = errors.check(require_day, valid_from, "valid_from", "有效期起")
        end = errors.check(require_day, valid_to, "valid_to", "有效期止")
        if start and end and end < start:
            errors.add("valid_to", "有效期止不能早于有效期起")
        errors.raise_if_any()
        self._granted(
            kind,
            cert_no,
            sorted(set(codes)),
            scope_text,
            start.isoformat(),
            end.isoformat(),
        )

    @event("QualificationGranted")
    def _granted(self, kind, cert_no, scope_codes, scope_text, valid_from, valid_to):
        self.qualifications[cert_no] = {
            "kind": kind,
            "cert_no": cert_no,
            "scope_codes": list(scope_codes),
            "scope_text": scope_text,
            "valid_from": valid_from,
            "valid_to": valid_to,
            "history": [],
        }

    def suspend(self, cert_no: str, effective_on, reason: str) -> None:
        self._change_status(cert_no, effective_on, reason, "suspended")

    def reinstate(self, cert_no: str, effective_on, reason: str) -> None:
        self._change_status(cert_no, effective_on, reason, "valid")

    def revoke(self, cert_no: str, effective_on, reason: str) -> None:
        self._change_status(cert_no, effective_on, reason, "revoked")

    def _change_status(self, cert_no, effective_on, reason, status) -> None:
        current = self.qualification(cert_no)
        errors = Errors()
        day = errors.check(require_day, effective_on, "effective_on", "生效日期")
        errors.check(require_text, reason, "reason", "原因", 500)
        errors.raise_if_any()
        latest = current.history[-1][1] if current.history else "valid"
        if latest == "revoked":
            raise ValidationFailed.single("cert_no", "资质已撤销，不能再变更")
        if latest == status:
            label = STATUS_LABELS[status]
            raise ValidationFailed.single("status", f"资质已是“{label}”状态")
        if current.history and day < current.history[-1][0]:
            raise ValidationFailed.single("effective_on", "生效日期不能早于上一次变更")
        self._status_changed(cert_no, day.isoformat(), reason, status)

    @event("QualificationStatusChanged")
    def _status_changed(self, cert_no, effective_on, reason, status):
        self.qualifications[cert_no]["history"].append([effective_on, status])

    def renew(self, cert_no: str, valid_to) -> None:
        current = self.qualification(cert_no)
        end = require_day(valid_to, "valid_to", "有效期止")
        if end <= current.valid_to:
            raise ValidationFailed.single(
                "valid_to", "续期后的有效期止应晚于原有效期止"
            )
        self._renewed(cert_no, end.isoformat())

    @event("QualificationRenewed")
    def _renewed(self, cert_no, valid_to):
        self.qualifications[cert_no]["valid_to"] = valid_to


class ServiceItem(AuditedAggregate):
    """A service item or sub-item of clause 6, edited by a platform admin."""

    @staticmethod
    def create_id(code: str) -> UUID:
        return item_id(code)

    @event("Defined")
    def __init__(self, code, name, description, materials, cycle_days, parent):
        self.code = code
        self.name = name
        self.description = description
        self.materials = list(materials)
        self.cycle_days = cycle_days
        self.parent = parent

    def revise(self, name, description, materials, cycle_days) -> None:
        errors = Errors()
        errors.check(require_text, name, "name", "事项名称", 60)
        errors.check(require_text, description, "description", "事项说明", 500)
        items = list(materials or [])
        if not items or not all(isinstance(m, str) and m.strip() for m in items):
            errors.add("materials", "请列出所需材料")
        elif len(set(items)) != len(items):
            errors.add("materials", "材料清单有重复")
        if not isinstance(cycle_days, int) or not 0 < cycle_days <= 365:
            errors.add("cycle_days", "办理周期应为1到365个工作日")
        errors.raise_if_any()
        self._revised(self.code, name, description, items, cycle_days)

    @event("Revised")
    def _revised(self, code, name, description, materials, cycle_days):
        self.name = name
        self.description = description
        self.materials = list(materials)
        self.cycle_days = cycle_days
