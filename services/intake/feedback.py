"""The result of a referral comes back to the demand (closed loop, 8.3.5).

Referral publishes ``ReferralFeedback`` when the partner's result is delivered;
intake records it on the demand for its owner (the first responder, or whoever
the demand was handed over to), exactly once per message (``process``) and
once per referral (the aggregate ignores a second feedback of one referral).
Government and recall tasks are not demands: their feedback is not intake's.

The partner's summary is free text that can name a person (issue 18): since
v2 the event does not carry it, and intake reads it from referral
(``feedback_summary``) as it records the feedback. Referral not answering is
``DependencyUnavailable``: the message goes back to the queue and is tried
again, never parked or lost. A v1 message is recorded with its own summary.
"""

from __future__ import annotations

from collections.abc import Callable

from services.intake.domain import Demand
from shared.envelope import Envelope

# the referral id -> the partner's summary (referral's ``feedback_summary``)
SummaryReader = Callable[[str], str]

FEEDBACK_FIELDS = (
    "referral_id",
    "item_code",
    "institution_id",
    "report_no",
    "verification_code",
    "on_time",
    "summary",
    "delivered_at",
)


def record_feedback(
    app, envelope: Envelope, read_summary: SummaryReader | None = None
) -> list[Demand]:
    """``process`` policy: the demand with the feedback recorded on it."""
    data = envelope.data
    if data.get("kind", "demand") != "demand":
        return []
    demand = app.get_existing(data["demand_id"], Demand, "demand")
    known = getattr(demand, "referral_feedback", [])
    if any(f["referral_id"] == data["referral_id"] for f in known):
        return []  # recorded already: referral is not asked again
    feedback = {k: data.get(k, "") for k in FEEDBACK_FIELDS}
    if "summary" not in data:  # v2: the partner's words stay in referral
        if read_summary is None:
            raise ValueError("ReferralFeedback v2 needs referral's feedback_summary")
        feedback["summary"] = read_summary(data["referral_id"])
    demand.record_referral_feedback(feedback)
    return [demand]
