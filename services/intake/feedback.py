"""The result of a referral comes back to the demand (closed loop, 8.3.5).

Referral publishes ``ReferralFeedback`` when the partner's result is delivered;
intake records it on the demand for its owner (the first responder, or whoever
the demand was handed over to), exactly once per message (``process``) and
once per referral (the aggregate ignores a second feedback of one referral).
Government and recall tasks are not demands: their feedback is not intake's.
"""

from __future__ import annotations

from services.intake.domain import Demand
from shared.envelope import Envelope

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


def record_feedback(app, envelope: Envelope) -> list[Demand]:
    """``process`` policy: the demand with the feedback recorded on it."""
    data = envelope.data
    if data.get("kind", "demand") != "demand":
        return []
    demand = app.get_existing(data["demand_id"], Demand, "demand")
    demand.record_referral_feedback({k: data.get(k, "") for k in FEEDBACK_FIELDS})
    return [demand]
