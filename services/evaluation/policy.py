"""What evaluation does with a fact another service published: note it in
the case's record (9.1.2); a resolved demand or a completed referral issues a
satisfaction survey (9.2.1); an agreed corrective action opens an improvement
item (9.3). Ids are derived from the cause, so nothing is opened twice.

The action's text and its owner are free text that can name a person (issue
18): since v2 CorrectiveActionAgreed does not carry the text, since v3 not the
owner either, and the item reads them from complaints (``corrective_action``)
as it is opened; complaints not answering is ``DependencyUnavailable``, and
the message goes back to the queue. A v1 or v2 message opens its item with
what it carries."""

from __future__ import annotations

from collections.abc import Callable

from eventsourcing.application import AggregateNotFoundError

from services.evaluation.domain import ImprovementItem, Survey
from services.evaluation.policies import improvement_terms, policy_at
from services.evaluation.records import CaseRecord
from shared.calendar import WorkingCalendar
from shared.envelope import Envelope
from shared.validation import aware

COMPLAINT_OUTCOMES = {"upheld": "成立", "partly_upheld": "部分成立"}
# (complaint id, the envelope's aggregate version) -> {action, owner, ...}:
# complaints' ``corrective_action``
ActionReader = Callable[[str, int], dict]


def existing(repository, kind: type, aggregate_id):
    """The ``kind`` aggregate with a derived id, or None."""
    if aggregate_id is None:
        return None
    try:
        found = repository.get(aggregate_id)
    except AggregateNotFoundError:
        return None
    return found if isinstance(found, kind) else None


def case_of(envelope: Envelope) -> str:
    """A case is the demand; a complaint naming no demand is its own case."""
    data = envelope.data
    return str(data.get("demand_id") or data.get("complaint_id") or "")


class FactPolicy:
    """The policy ``ServiceApplication.process`` applies to one envelope; it
    returns the aggregates it changed, stored with the tracking record."""

    # the fact that opens a case: nearly always the first one evaluation
    # hears of it, so its record is not looked for on the first attempt
    OPENING = "DemandRegistered"

    def __init__(
        self, app, calendar: WorkingCalendar, read_action: ActionReader | None = None
    ):
        self.repository = app.repository
        self.calendar = calendar
        self.read_action = read_action
        self.attempts = 0  # ServiceApplication.process calls again on a conflict

    def __call__(self, envelope: Envelope) -> list:
        case_id = case_of(envelope)
        if not case_id:
            raise ValueError(f"{envelope.type} names no demand or complaint")
        self.attempts += 1
        record = None
        if envelope.type != self.OPENING or self.attempts > 1:
            # a registration's record is made new without a read (issue 22: a
            # query for nothing, 9 % of evaluation's CPU a demand); when a
            # fact that came first made it already, the new record's version
            # conflicts, and the next attempt reads it
            record_id = CaseRecord.create_id(case_id)
            record = existing(self.repository, CaseRecord, record_id)
        record = record or CaseRecord(case_id=case_id)
        record.note(
            {
                "event_id": envelope.event_id,
                "source": envelope.source,
                "event_type": envelope.type,
                "schema_version": envelope.schema_version,
                "occurred_at": envelope.occurred_at,
                "actor": dict(envelope.actor),
                "data": dict(envelope.data),
            }
        )
        follow_on = {
            "DemandResolved": self.survey_for_resolution,
            "ReferralCompleted": self.survey_for_referral,
            "CorrectiveActionAgreed": self.item_for_corrective_action,
        }.get(envelope.type)
        created = follow_on(envelope, record) if follow_on else None
        return [record, created] if created is not None else [record]

    def survey_for_resolution(self, envelope: Envelope, record: CaseRecord):
        data = envelope.data
        key = f"{data['demand_id']}:{envelope.aggregate_version}"
        if existing(self.repository, Survey, Survey.create_id("demand", key)):
            return None
        facts = {
            "demand_id": data["demand_id"],
            "institution_id": envelope.actor.get("institution")
            or record.institution_id,
            "staff_id": data.get("resolved_by", ""),
            "ended_at": data["resolved_at"],
        }
        return Survey.issue("demand", key, facts, self.calendar, self._policy(facts))

    def survey_for_referral(self, envelope: Envelope, record: CaseRecord):
        data = envelope.data
        if existing(
            self.repository, Survey, Survey.create_id("referral", data["referral_id"])
        ):
            return None
        facts = {
            "demand_id": data["demand_id"],
            "referral_id": data["referral_id"],
            # an expert without an institution: the case's institution
            "institution_id": data.get("institution_id") or record.institution_id,
            "staff_id": record.owner,
            "ended_at": data["completed_at"],
        }
        return Survey.issue(
            "referral", data["referral_id"], facts, self.calendar, self._policy(facts)
        )

    def _policy(self, facts: dict) -> dict:
        """The institution's policy in force when the service ended (9.2.1)."""
        ended = aware(facts["ended_at"], "ended_at")
        return policy_at(self.repository, facts["institution_id"], ended)

    def item_for_corrective_action(self, envelope: Envelope, record: CaseRecord):
        data = envelope.data
        ref = f"{data['complaint_id']}:{envelope.aggregate_version}"
        if existing(
            self.repository,
            ImprovementItem,
            ImprovementItem.create_id("complaint", ref),
        ):
            return None
        at = aware(envelope.occurred_at, "occurred_at")
        institution = data.get("institution_id") or record.institution_id
        outcome = COMPLAINT_OUTCOMES.get(data.get("outcome", ""), "不成立")
        action, owner = data.get("action"), data.get("owner")
        if action is None or owner is None:  # v2, v3: the words stay in complaints
            if self.read_action is None:
                raise ValueError("CorrectiveActionAgreed v2 needs corrective_action")
            agreed = self.read_action(data["complaint_id"], envelope.aggregate_version)
            action = agreed["action"] if action is None else action
            owner = agreed["owner"] if owner is None else owner
        return ImprovementItem.open(
            {
                "source": "complaint",
                "ref": ref,
                "institution_id": institution,
                "demand_id": data.get("demand_id", ""),
                "finding": f"投诉 {data.get('number', '')}（{outcome}）的纠正措施",
                "owner": owner,
                "actions": [action],
                **improvement_terms(self.repository, self.calendar, institution, at),
                "opened_at": at,
            }
        )
