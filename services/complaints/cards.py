"""Comment cards: suggestion box and supervision hotline records (9.1.1).

A card is recorded as received, then classified once: a suggestion, praise, or
a complaint (which opens a ``Complaint`` the card is linked to). A card belongs
to the institution whose box or hotline it came in by; one without (recorded
before cards named theirs) is the front door's, as an unlinked complaint is.
"""

from __future__ import annotations

from datetime import datetime

from eventsourcing.domain import event

from shared.application import AuditedAggregate
from shared.errors import ValidationFailed
from shared.validation import aware, optional_text, require_choice, require_text

CARD_SOURCES = {"suggestion_box": "意见箱", "hotline": "监督热线"}
CARD_KINDS = {"suggestion": "建议", "complaint": "投诉", "praise": "表扬"}


class CommentCard(AuditedAggregate):
    class Recorded(AuditedAggregate.Created):
        """v2 added the institution the card came in by."""

        class_version = 2
        source: str
        text: str
        contact_name: str
        contact_phone: str
        received_at: str
        institution_id: str

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state.setdefault("institution_id", "")

    @event("Recorded")
    def __init__(
        self, source, text, contact_name, contact_phone, received_at, institution_id
    ):
        self.source = source
        self.text = text
        self.contact_name = contact_name
        self.contact_phone = contact_phone
        self.received_at = received_at
        self.institution_id = institution_id
        self.kind = ""
        self.complaint_id = ""

    @classmethod
    def record(cls, form: dict) -> CommentCard:
        moment: datetime = aware(form.get("received_at"), "received_at")
        return cls(
            source=require_choice(form.get("source"), "source", "来源", CARD_SOURCES),
            text=require_text(form.get("text"), "text", "内容", 2000),
            contact_name=optional_text(
                form.get("contact_name"), "contact_name", "姓名"
            ),
            contact_phone=optional_text(
                form.get("contact_phone"), "contact_phone", "联系电话", 30
            ),
            received_at=moment.isoformat(),
            institution_id=optional_text(
                form.get("institution_id"), "institution_id", "机构", 60
            ),
        )

    def classify(self, kind: str, complaint_id: str = "") -> None:
        if self.kind:
            raise ValidationFailed.single("status", "该意见卡已分类，不能再次分类")
        require_choice(kind, "kind", "分类", CARD_KINDS)
        if (kind == "complaint") != bool(complaint_id):
            raise ValidationFailed.single(
                "complaint_id", "只有归为投诉的意见卡才关联投诉编号"
            )
        self._classified(kind, str(complaint_id))
        if kind == "suggestion":  # published: an improvement item (9.3.1)
            self._suggestion_noted(self.institution_id, self.text, self.received_at)

    @event("Classified")
    def _classified(self, kind, complaint_id) -> None:
        self.kind = kind
        self.complaint_id = complaint_id

    @event("SuggestionNoted")
    def _suggestion_noted(self, institution_id, text, received_at) -> None:
        """What the suggestion says and whose it is: evaluation opens an
        improvement item of it (``contract.SUGGESTION_RECEIVED``)."""

    def complaint_form(self) -> dict:
        """The complaint a card classified as a complaint opens."""
        named = bool(self.contact_name and self.contact_phone)
        return {
            "channel": self.source,
            "anonymous": not named,
            "complainant_name": self.contact_name if named else "",
            "complainant_phone": self.contact_phone if named else "",
            "description": self.text,
            "remedy_requested": "意见卡未写明，待联系确认",
            "received_at": self.received_at,
            "institution_id": self.institution_id,
        }

    def as_dict(self) -> dict:
        return {
            "id": str(self.id),
            "source": self.source,
            "kind": self.kind,
            "kind_label": CARD_KINDS.get(self.kind, "待分类"),
            "complaint_id": self.complaint_id,
            "received_at": self.received_at,
            "institution_id": self.institution_id,
        }
