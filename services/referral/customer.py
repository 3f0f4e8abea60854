"""What the customer sees of the partner's work, by the progress code they hold
(7.4.6, 7.4.4): the stages reached (签收, 收样, 检测中, 报告编制中, 已出报告)
with when, the expected completion date by the working-day calendar, and the
report once issued (number, date, verification code, status, the digest of
the e-report file to download). Nothing of the partner's notes, its internal
deadlines' history or whom else the platform considered.
"""

from __future__ import annotations

from datetime import datetime

from services.referral.contract import (
    CUSTOMER_STAGE_OF,
    CUSTOMER_STAGES,
    STATUS_LABELS,
)
from services.referral.domain import Referral
from services.referral.rules import (
    REPORT_STATUS,
    acceptance_days,
    completion_days,
)
from shared.calendar import SHANGHAI

# no date to expect: the referral will not be finished by this partner
ENDED = ("cancelled", "failed")
NOT_YET_SENT = ("requested", "matched", "returned")


def stages_reached(events) -> list[dict]:
    """The customer's stages in the order first reached, each with its moment;
    a stage reported again (a re-test) keeps its first moment."""
    reached: dict[str, str] = {}
    for event in events:
        name = type(event).__name__
        at = event.timestamp.isoformat()
        if name == "Accepted":
            stage = "accepted"
        elif name == "ProgressReported":
            stage = CUSTOMER_STAGE_OF.get(event.stage, "")
        elif name == "Completed":
            stage = "completed"
        else:
            continue
        if stage and stage not in reached:
            reached[stage] = at
    return [
        {"stage": stage, "label": CUSTOMER_STAGES[stage], "at": at}
        for stage, at in reached.items()
    ]


def expected_on(referral: Referral, calendar, now: datetime) -> str:
    """The day the report is expected (ISO date, Beijing), "" when none is."""
    if referral.status in ENDED:
        return ""
    if referral.completed_at:
        moment = datetime.fromisoformat(referral.completed_at)
    elif referral.completion_due:
        moment = datetime.fromisoformat(referral.completion_due)
    else:
        cycle = completion_days(referral.cycle_days, referral.green_channel)
        if referral.acceptance_due:
            start = datetime.fromisoformat(referral.acceptance_due)
        else:
            start = calendar.deadline(now, acceptance_days(referral.green_channel))
        moment = calendar.deadline(start, cycle)
    return moment.astimezone(SHANGHAI).date().isoformat()


def report_of(referral: Referral) -> dict | None:
    if not referral.report:
        return None
    report = referral.report
    return {
        "report_no": report["report_no"],
        "issued_on": report["issued_on"],
        "verification_code": report["verification_code"],
        "status": report["status"],
        "status_label": REPORT_STATUS[report["status"]],
        "sha256": report["sha256"],
    }


class CustomerViewMixin:
    """Part of ``ReferralApplication``: the customer's view of a demand's
    referrals (the gateway has checked the progress code)."""

    def customer_progress(self, demand_id: str, item_codes: list[str]) -> list[dict]:
        found = []
        for referral in self.referrals_of(demand_id, item_codes):
            events = [
                self.mapper.to_domain_event(stored)
                for stored in self.recorder.select_events(referral.id)
            ]
            found.append(
                {
                    "item_code": referral.item_code,
                    "state": referral.status,
                    "state_label": STATUS_LABELS[referral.status],
                    "sent": referral.status not in NOT_YET_SENT,
                    "stages": stages_reached(events),
                    "expected_on": expected_on(referral, self.calendar, self.clock()),
                    "report": report_of(referral),
                }
            )
        return found
