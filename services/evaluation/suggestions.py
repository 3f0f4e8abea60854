"""Suggestions become improvement items with a deadline (9.3.1): a comment
card its handler classified as a suggestion (complaints' SuggestionReceived),
and the comments an applicant added to a satisfied rating (an unsatisfied one
already opens its own item and call-back, 9.2.1). Ids are derived from the
cause, so nothing is opened twice; the deadline is the improvement period of
the institution's service policy in force when the suggestion was made
(``policies.improvement_terms``).

A card's text is the customer's own words (issue 18): since v2
SuggestionReceived does not carry it, and the item reads it from complaints
(``suggestion_text``) as it is opened; complaints not answering puts the
message back (``DependencyUnavailable``). A v1 message carries its text.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.evaluation.domain import ImprovementItem, Survey
from services.evaluation.policies import improvement_terms
from services.evaluation.policy import existing
from shared.calendar import WorkingCalendar
from shared.envelope import Envelope
from shared.validation import aware


def item_for_card(
    repository,
    envelope: Envelope,
    calendar: WorkingCalendar,
    read_text: Callable[[str], str] | None = None,
):
    """The improvement item of a suggestion card (None: opened already);
    ``read_text`` is complaints' ``suggestion_text``, for a v2 message."""
    data = envelope.data
    if existing(
        repository,
        ImprovementItem,
        ImprovementItem.create_id("suggestion", data["card_id"]),
    ):
        return None
    text = data.get("text")
    if text is None:  # v2: the card's words stay in complaints
        if read_text is None:
            raise ValueError("SuggestionReceived v2 needs suggestion_text")
        text = read_text(data["card_id"])
    at = aware(data.get("classified_at") or envelope.occurred_at, "classified_at")
    return ImprovementItem.open(
        {
            "source": "suggestion",
            "ref": data["card_id"],
            "institution_id": data.get("institution_id", ""),
            "finding": f"意见卡建议：{text}"[:2000],
            **improvement_terms(
                repository, calendar, data.get("institution_id", ""), at
            ),
            "opened_at": at,
        }
    )


def item_for_rating(
    survey: Survey, at: datetime, calendar: WorkingCalendar, repository
):
    """A satisfied rating's comments as an improvement item (None: none)."""
    comments = (survey.rating or {}).get("comments", "").strip()
    if survey.unsatisfied or not comments:
        return None
    return ImprovementItem.open(
        {
            "source": "rating_comment",
            "ref": str(survey.id),
            "institution_id": survey.institution_id,
            "demand_id": survey.demand_id,
            "staff_id": survey.staff_id,
            "finding": f"客户评价“{survey.rating['overall']}”并提出：{comments}"[:2000],
            **improvement_terms(repository, calendar, survey.institution_id, at),
            "opened_at": at,
        }
    )
