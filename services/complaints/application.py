"""Complaints application: commands (retried on conflict) and role-aware queries."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from services.complaints.cards import CommentCard
from services.complaints.domain import Complaint, complaint_id_for
from services.complaints.figures import figures
from services.complaints.projections import ComplaintsView
from services.complaints.rules import STATUS_LABELS
from services.complaints.views import (
    card_view,
    list_row,
    may_see_identity,
    status_for_complainant,
    summary,
)
from services.intake.registration import new_progress_code
from shared import audit, config
from shared.application import ServiceApplication
from shared.calendar import calendar_from_env
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

# command name -> Complaint method; each takes the complaint id first
COMMANDS = {
    "acknowledge": "acknowledge",
    "assess": "assess",
    "assign_investigator": "assign_investigator",
    "decide": "decide",
    "communicate": "communicate",
    "accept": "accept",
    "reject": "reject",
    "record_review": "record_review",
    "record_consent": "record_consent",
    "refer_to_dispute": "refer_to_dispute",
    "record_dispute_outcome": "record_dispute_outcome",
    "agree_corrective_action": "agree_corrective_action",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


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


class ComplaintsApplication(ServiceApplication):
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

    def receive(self, form: dict) -> dict:
        """Register a complaint; returns its id, number and the status code
        the complainant keeps (shown once)."""
        form = {**form, "received_at": form.get("received_at") or utcnow()}
        for _ in range(5):  # a code already taken: draw another
            complaint = Complaint.receive(form, self.new_code())
            with case_scope(complaint.demand_id):
                if self.save_if_new(complaint):
                    break
        else:
            raise ConflictError("could not allocate a complaint code; try again")
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
            return summary(complaint, True)

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
            complaint = Complaint.receive(card.complaint_form(), self.new_code())
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
        where, args = [], []
        if institution is not None:
            where.append("(institution_id=%s OR (institution_id='' AND %s=%s))")
            args += [institution, institution, self.front_door]
        if status:
            where.append("status=%s")
            args.append(status)
        clause = f"WHERE {' AND '.join(where)} " if where else ""
        total = self.kernel.query(
            f"SELECT COUNT(*) AS n FROM complaints_list {clause}", tuple(args)
        )[0]["n"]
        rows = self.kernel.query(
            f"SELECT * FROM complaints_list {clause}"
            "ORDER BY received_utc DESC, complaint_id LIMIT %s OFFSET %s",
            (*args, int(limit), int(offset)),
        )
        front_door = self.front_door
        items = [list_row(row, front_door) for row in rows]
        return {"total": total, "offset": offset, "limit": limit, "items": items}

    def rebuild_view(self) -> int:
        """Ops: the complaints list rebuilt from the stored events."""
        return self.view.rebuild()

    def complaint(self, complaint_id, role: str) -> dict:
        """A complaint as the caller's role may see it."""
        return summary(self._complaint(complaint_id), may_see_identity(role))

    def status_by_code(self, code: str) -> dict:
        """For the complainant: stage labels only, by the code they hold."""
        if not isinstance(code, str) or not code.strip():
            raise NotFound("complaint")
        return status_for_complainant(self._complaint(complaint_id_for(code.strip())))

    def overdue(self, complaint_id, now: datetime | None = None) -> list[str]:
        complaint = self._complaint(complaint_id)
        return complaint.overdue_stages(now or utcnow(), self.calendar)
