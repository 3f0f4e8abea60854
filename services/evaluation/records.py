"""Per-service records (9.1.2), staff efficiency assessments (9.2.2) and the
manager's half-year summaries (9.1.3).

A ``CaseRecord`` keeps, per case (the demand id, or a complaint's own id when
it names no demand), the facts other services published about it, as they
were received: evaluation computes from its own store and never reads
another service's database. Assessments and summaries store the figures as
they stood when computed, so an audit later sees what the manager saw.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import event

from services.evaluation.contract import derived_id, half_year_summary_id
from shared.application import AuditedAggregate
from shared.errors import ValidationFailed
from shared.validation import require_text

# the facts a case record keeps: (source service, integration event type)
FACTS = (
    ("intake", "DemandRegistered"),
    ("intake", "DemandTaken"),
    ("intake", "DemandHandedOver"),
    ("intake", "ContractReviewed"),
    ("intake", "NoticeViolation"),
    ("intake", "DemandReferred"),
    ("intake", "DemandResolved"),
    ("referral", "ReferralCompleted"),
    ("complaints", "ComplaintReceived"),
    ("complaints", "CorrectiveActionAgreed"),
)
OWNERSHIP = ("DemandTaken", "DemandHandedOver")


class CaseRecord(AuditedAggregate):
    """What happened in one case, as the other services told it."""

    @staticmethod
    def create_id(case_id: str) -> UUID:
        return derived_id("case", case_id)

    @event("Opened")
    def __init__(self, case_id: str):
        self.case_id = case_id
        self.institution_id = ""
        self.owner = ""
        self.facts_seen: list[str] = []

    def note(self, fact: dict) -> None:
        """``fact``: {event_id, source, event_type, schema_version, occurred_at,
        actor, data}; a fact already noted (same event id) is ignored."""
        if fact["event_id"] in self.facts_seen:
            return
        self._noted(**fact)

    @event("Noted")
    def _noted(
        self, event_id, source, event_type, schema_version, occurred_at, actor, data
    ):
        self.facts_seen.append(event_id)
        if event_type == "DemandRegistered" and actor.get("institution"):
            self.institution_id = actor["institution"]
        # a demand filed online names no institution: the one whose staff
        # took it is the case's institution
        if event_type == "DemandTaken" and not self.institution_id:
            self.institution_id = actor.get("institution", "")
        if event_type in OWNERSHIP:
            self.owner = data.get("staff_id", "")
        if not self.institution_id and data.get("institution_id"):
            self.institution_id = data["institution_id"]


def require_manager(role: str, doing: str) -> None:
    if role != "manager":
        raise ValidationFailed.single("role", f"只有服务管理人员可以{doing}")


class EfficiencyAssessment(AuditedAggregate):
    """A staff member's efficiency over a period (9.2.2): the figures as
    computed from the events, and the manager's comment."""

    @staticmethod
    def create_id(staff_id: str, since: str, until: str) -> UUID:
        return derived_id("efficiency", f"{staff_id}:{since}:{until}")

    @event("Assessed")
    def __init__(self, staff_id: str, since: str, until: str, figures: dict):
        self.staff_id = staff_id
        self.since = since
        self.until = until
        self.figures = dict(figures)
        self.comments: list[dict] = []

    def reassess(self, figures: dict) -> None:
        """Computed again (later facts arrived): a new event, the old kept."""
        self._reassessed(dict(figures))

    @event("Reassessed")
    def _reassessed(self, figures) -> None:
        self.figures = dict(figures)

    def comment(self, manager: str, role: str, text: str) -> None:
        require_manager(role, "填写效能评价意见")
        self._commented(manager, require_text(text, "comment", "评价意见", 2000))

    @event("Commented")
    def _commented(self, manager, text) -> None:
        self.comments.append({"manager": manager, "text": text})

    def as_dict(self) -> dict:
        return {
            "id": str(self.id),
            "staff_id": self.staff_id,
            "since": self.since,
            "until": self.until,
            "figures": dict(self.figures),
            "comments": list(self.comments),
            "version": self.version,
        }


class HalfYearSummary(AuditedAggregate):
    """An institution's written half-year summary (9.1.3); once the manager
    signs it off it is final."""

    @staticmethod
    def create_id(institution_id: str, year: int, half: int) -> UUID:
        return half_year_summary_id(institution_id, year, half)

    @event("Drafted")
    def __init__(self, institution_id: str, year: int, half: int, figures: dict):
        self.institution_id = institution_id
        self.year = year
        self.half = half
        self.figures = dict(figures)
        self.signed_off: dict = {}

    def redraft(self, figures: dict) -> None:
        if self.signed_off:
            raise ValidationFailed.single("status", "该半年总结已签发，不能重新生成")
        self._redrafted(dict(figures))

    @event("Redrafted")
    def _redrafted(self, figures) -> None:
        self.figures = dict(figures)

    def sign_off(self, manager: str, role: str, note: str) -> None:
        require_manager(role, "签发半年总结")
        if self.signed_off:
            raise ValidationFailed.single("status", "该半年总结已签发")
        self._signed_off(manager, require_text(note, "note", "签发意见", 2000))

    @event("SignedOff")
    def _signed_off(self, manager, note) -> None:
        self.signed_off = {"manager": manager, "note": note}

    def as_dict(self) -> dict:
        return {
            "id": str(self.id),
            "institution_id": self.institution_id,
            "year": self.year,
            "half": self.half,
            "figures": dict(self.figures),
            "signed_off": dict(self.signed_off),
            "version": self.version,
        }
