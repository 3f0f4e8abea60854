"""Complaints application: commands (retried on conflict) and role-aware queries."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select

from services.complaints.cards import CommentCard
from services.complaints.contract import COMMANDS
from services.complaints.domain import Complaint, complaint_id_for
from services.complaints.figures import figures
from services.complaints.policies import PolicyCopyMixin
from services.complaints.projections import (
    CODED,
    LISTED,
    ComplaintsView,
    code_digest,
    complaints_list,
)
from services.complaints.rules import STATUS_LABELS
from services.complaints.views import (
    card_view,
    list_row,
    may_see_identity,
    status_for_complainant,
    summary,
)
from shared import audit, calendar, config
from shared.application import ServiceApplication
from shared.calendar import calendar_from_env
from shared.codes import new_progress_code
from shared.errors import ConflictError, NotFound, ValidationFailed
from shared.metrics import counter, gauge
from shared.projection import ProjectionRunner

# business figures for operations, from the deadline sweep (9.1.2)
OPEN = gauge("complaints", "open", "Complaints not closed, as of the last sweep.")
OVERDUE = gauge(
    "complaints",
    "overdue",
    "Open complaints with a stage past its working-day deadline (last sweep).",
)
ESCALATIONS = counter(
    "complaints",
    "escalations",
    "Stages escalated because their deadline passed (SLA breaches), by stage.",
    ("stage",),
)


def utcnow() -> datetime:
    """The platform's one clock (``shared.calendar.CLOCK``), in UTC."""
    return calendar.CLOCK().astimezone(UTC)


@contextmanager
def case_scope(demand_id: str):
    """Events of a demand-linked complaint carry the demand as correlation."""
    context = audit.current()
    if demand_id:
        context = context.with_correlation(demand_id)
    with audit.audit_scope(context):
        yield


# reminders go out this long before a stage's deadline (SLA clocks, 9.4)
REMINDER_LEAD = timedelta(hours=4)


class ComplaintsApplication(PolicyCopyMixin, ServiceApplication):
    name = "complaints"

    def __init__(self, url=None, env=None, new_code: Callable[[], str] = None):
        super().__init__(url, env)
        self.new_code = new_code or new_progress_code
        self.calendar = calendar_from_env()
        self.view = ProjectionRunner(self, ComplaintsView())

    @property
    def front_door(self) -> str:
        """The institution that handles what names no institution (cards,
        complaints filed online about nobody in particular)."""
        return config.get("QI_FRONT_DOOR_INSTITUTION")

    # -- loading -------------------------------------------------------------

    def _complaint(self, complaint_id) -> Complaint:
        return self.get_existing(complaint_id, Complaint, "complaint")

    # -- commands ------------------------------------------------------------

    def receive(self, form: dict, verified: bool = False) -> dict:
        """Register a complaint; returns its id, number and the status code
        the complainant keeps (shown once). ``verified``: its links were
        derived from the case whose progress code the complainant gave."""
        form = {**form, "received_at": form.get("received_at") or utcnow()}
        for _ in range(5):  # a code already taken (1 in 10^15): draw another
            code = self.new_code()
            if self._complaint_of_code(code) is None:
                break
        else:
            raise ConflictError("could not allocate a complaint code; try again")
        complaint = Complaint.receive(form, code, verified, self.policy_at_receipt)
        with case_scope(complaint.demand_id):
            self.save(complaint)
        return {
            "id": str(complaint.id),
            "number": complaint.number,
            "code": complaint.code,
        }

    def change(self, command: str, complaint_id, *args, **kwargs) -> dict:
        """Run one handling command on a complaint (see ``COMMANDS``)."""
        method = COMMANDS[command]

        def run():
            complaint = self._complaint(complaint_id)
            getattr(complaint, method)(*args, **kwargs)
            with case_scope(complaint.demand_id):
                self.save(complaint)
            return summary(complaint, True, self.calendar)

        return self.retry_on_conflict(run)

    def escalate_overdue(self, complaint_id, now: datetime | None = None) -> list:
        """Remind of stages about to fall due and escalate overdue ones, each
        once; two instances sweeping at once meet on the version and retry."""

        def run():
            complaint = self._complaint(complaint_id)
            at = now or utcnow()
            complaint.remind_due(at, REMINDER_LEAD, self.calendar)
            fresh = complaint.escalate_overdue(at, self.calendar)
            if complaint.pending_events:
                with case_scope(complaint.demand_id):
                    self.save(complaint)
            return fresh

        fresh = self.retry_on_conflict(run)
        for stage in fresh:  # counted once: a retry that lost finds none fresh
            ESCALATIONS.labels(stage=stage).inc()
        return fresh

    def escalate_all_overdue(self, now: datetime | None = None) -> dict:
        """Sweep every open complaint; returns {number: stages escalated}."""
        escalated = {}
        open_count = overdue_count = 0
        for oid in self.originator_ids():
            aggregate = self.repository.get(oid)
            if isinstance(aggregate, Complaint) and aggregate.status != "closed":
                open_count += 1
                fresh = self.escalate_overdue(oid, now)
                if fresh:
                    escalated[aggregate.number] = fresh
                if aggregate.overdue_stages(now or utcnow(), self.calendar):
                    overdue_count += 1
        OPEN.set(open_count)
        OVERDUE.set(overdue_count)
        return escalated

    def figures(
        self, since: datetime, until: datetime, institution: str | None = None
    ) -> dict:
        """Handling figures of the complaints received in ``[since, until)``,
        of one handling institution (None: every institution)."""
        if institution is None:
            return figures(self, self.calendar, since, until)
        front_door = self.front_door

        def handled_by(links: dict) -> bool:
            return (links.get("institution_id") or front_door) == institution

        return {
            **figures(self, self.calendar, since, until, handled_by),
            "institution_id": institution,
        }

    # -- comment cards (9.1.1) -----------------------------------------------

    def record_card(self, form: dict) -> dict:
        card = CommentCard.record(
            {**form, "received_at": form.get("received_at") or utcnow()}
        )
        self.save(card)
        return card.as_dict()

    def classify_card(self, card_id, kind: str) -> dict:
        """Classify a card; a complaint card opens a linked Complaint."""

        def run():
            card = self.get_existing(card_id, CommentCard, "comment card")
            if kind != "complaint":
                card.classify(kind)
                self.save(card)
                return card.as_dict()
            complaint = Complaint.receive(
                card.complaint_form(), self.new_code(), policy_at=self.policy_at_receipt
            )
            card.classify(kind, str(complaint.id))
            self.save(card, complaint)
            return {
                **card.as_dict(),
                "complaint_number": complaint.number,
                "complaint_code": complaint.code,
            }

        return self.retry_on_conflict(run)

    def card(self, card_id, role: str) -> dict:
        """A card, the contact masked unless the caller's role may see identity."""
        card = self.get_existing(card_id, CommentCard, "comment card")
        return card_view(card, may_see_identity(role), self.front_door)

    # -- the words evaluation reads, never published (issue 18) --------------

    def corrective_action(self, complaint_id, version: int) -> dict:
        """The corrective action agreed by the complaint's event at
        ``version`` (ISO 10002 8.8; 9.3): its text and owner, which the
        published CorrectiveActionAgreed (v2) no longer carries."""
        complaint = self._complaint(complaint_id)
        agreed = self.event_at(
            complaint.id, version, Complaint.CorrectiveActionAgreed, "corrective action"
        )
        return {
            "complaint_id": str(complaint.id),
            "number": complaint.number,
            "action": agreed.action,
            "owner": agreed.owner,
        }

    def suggestion_text(self, card_id) -> str:
        """What a comment card classified as a suggestion says (9.3.1), which
        the published SuggestionReceived (v2) no longer carries."""
        card = self.get_existing(card_id, CommentCard, "comment card")
        if card.kind != "suggestion":
            raise NotFound(f"suggestion {card_id}")
        return card.text

    # -- queries -------------------------------------------------------------

    def complaints(
        self, institution: str | None, status: str = "", offset=0, limit=50
    ) -> dict:
        """A page of the complaints an institution handles (None: all),
        newest first; ``status`` one of ``STATUS_LABELS`` or empty."""
        if status and status not in STATUS_LABELS:
            raise ValidationFailed.single(
                "status", "处理状态应为：" + "、".join(STATUS_LABELS)
            )
        self.view.catch_up()
        where = []
        if institution is not None:
            handles = LISTED.institution_id == institution
            if institution == self.front_door:  # and those naming no institution
                handles = or_(handles, LISTED.institution_id == "")
            where.append(handles)
        if status:
            where.append(LISTED.status == status)
        total = self.kernel.scalar(
            select(func.count()).select_from(complaints_list).where(*where)
        )
        rows = self.kernel.query(
            select(complaints_list)
            .where(*where)
            .order_by(LISTED.received_utc.desc(), LISTED.complaint_id)
            .limit(int(limit))
            .offset(int(offset))
        )
        front_door = self.front_door
        items = [list_row(row, front_door) for row in rows]
        return {"total": total, "offset": offset, "limit": limit, "items": items}

    def rebuild_view(self) -> int:
        """Ops: the complaints list rebuilt from the stored events."""
        return self.view.rebuild()

    def complaint(self, complaint_id, role: str) -> dict:
        """A complaint as the caller's role may see it."""
        return summary(
            self._complaint(complaint_id), may_see_identity(role), self.calendar
        )

    def _complaint_of_code(self, code: str) -> str | None:
        """The id of the complaint whose status code this is (None: none);
        complaints from before random ids had it derived from the code."""
        self.view.catch_up()
        found = self.kernel.scalar(
            select(CODED.complaint_id).where(CODED.code == code_digest(code))
        )
        if found is None and self._exists(complaint_id_for(code)):
            return str(complaint_id_for(code))
        return found

    def _exists(self, complaint_id) -> bool:
        try:
            self._complaint(complaint_id)
            return True
        except NotFound:
            return False

    def _by_code(self, code) -> Complaint:
        if not isinstance(code, str) or not code.strip():
            raise NotFound("complaint")
        complaint_id = self._complaint_of_code(code.strip())
        if complaint_id is None:
            raise NotFound("complaint")
        return self._complaint(complaint_id)

    def status_by_code(self, code: str) -> dict:
        """For the complainant: stage labels only, by the code they hold."""
        return status_for_complainant(self._by_code(code), self.calendar)

    def respond_by_code(self, code: str, accept: bool, reason: str = "") -> dict:
        """The complainant, by the code they hold, accepts the communicated
        decision (closed) or does not, with a reason (internal review): ISO
        10002 8.6, 9.4."""
        complaint_id = self._by_code(code).id
        if accept:
            self.change("accept", complaint_id)
        else:
            self.change("reject", complaint_id, reason)
        return self.status_by_code(code)

    def overdue(self, complaint_id, now: datetime | None = None) -> list[str]:
        complaint = self._complaint(complaint_id)
        return complaint.overdue_stages(now or utcnow(), self.calendar)
