"""The public service guide (5.1.5, 9.1.1): process, contacts, complaint phone.

One guide for the platform, edited by a platform admin; every edit is an event,
so what the public was shown on any day can be read back.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from services.catalog.rules import known_fields
from shared.application import AuditedAggregate
from shared.validation import Errors, optional_text

GUIDE_ID: UUID = uuid5(NAMESPACE_URL, "qi-onestop:service-guide")

# 8.2–8.3 and 9.2, in the words a customer reads at the window.
DEFAULT_PROCESS = (
    "提出需求：到服务窗口，或通过网站、移动应用、小程序、电话、微信、电子邮件提出",
    "需求登记：服务人员登记需求，首问负责，材料不全的一次性告知",
    "评估对接：能即时答复的当场答复；能自主服务的按流程办理；不能自主服务的登记分类并对接相应机构",
    "跟踪办理：凭进度查询码随时查询办理进度",
    "服务评价：服务结束后5个工作日内邀请评价",
)
# the contacts are an institution's own: empty until an admin sets them (the
# public page says 未设置), never a made-up number; 12315 is the national
# market-regulation hotline, not any institution's supervision phone
DEFAULTS = {
    "process": list(DEFAULT_PROCESS),
    "service_phone": "",
    "complaint_phone": "",
    "suggestion_email": "",
    "address": "",
}
# what the first seeded guide published as placeholders (Published v1)
PLACEHOLDERS = {
    "service_phone": "025-12345678",
    "complaint_phone": "12315",
    "suggestion_email": "suggest@qi-onestop.example.cn",
    "address": "请在各服务窗口信息中查看地址与办公时间",
}
FIELDS = tuple(DEFAULTS)
# the guide's lines of text other than the process, with their labels
TEXT_LABELS = {
    "service_phone": "服务电话",
    "complaint_phone": "投诉电话",
    "suggestion_email": "意见建议邮箱",
    "address": "地址",
}


class ServiceGuide(AuditedAggregate):
    @staticmethod
    def create_id() -> UUID:
        return GUIDE_ID  # one guide for the platform

    class Published(AuditedAggregate.Created):
        """v2: a guide seeded with v1's placeholder contacts reads them as
        not set (an admin's revision still says what it says)."""

        class_version = 2
        process: list
        service_phone: str
        complaint_phone: str
        suggestion_email: str
        address: str

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            for field, placeholder in PLACEHOLDERS.items():
                if state.get(field) == placeholder:
                    state[field] = ""

    @event("Published")
    def __init__(
        self, process, service_phone, complaint_phone, suggestion_email, address
    ):
        self._set(process, service_phone, complaint_phone, suggestion_email, address)

    def _set(self, process, service_phone, complaint_phone, suggestion_email, address):
        self.process = list(process)
        self.service_phone = service_phone
        self.complaint_phone = complaint_phone
        self.suggestion_email = suggestion_email
        self.address = address

    def as_dict(self) -> dict:
        return {f: getattr(self, f) for f in FIELDS} | {"version": self.version}

    def revise(self, changes: dict) -> None:
        known_fields(changes, FIELDS)
        merged = {f: getattr(self, f) for f in FIELDS} | changes
        errors = Errors()
        steps = merged["process"]
        if (
            not isinstance(steps, list)
            or not steps
            or not all(isinstance(s, str) and s.strip() for s in steps)
        ):
            errors.add("process", "请按顺序列出服务流程的步骤")
        for field, label in TEXT_LABELS.items():
            merged[field] = errors.check(
                optional_text, merged[field], field, label, 200
            )
        errors.raise_if_any()
        self._revised(**merged)

    @event("Revised")
    def _revised(
        self, process, service_phone, complaint_phone, suggestion_email, address
    ):
        self._set(process, service_phone, complaint_phone, suggestion_email, address)
