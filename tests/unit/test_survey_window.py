"""9.2.1: the survey's five working days run from the invitation's delivery,
and an applicant never reached keeps the window from the service's end."""

from datetime import datetime, timedelta

import pytest

from services.evaluation.domain import Survey
from services.evaluation.invitations import deliveries, invitation_id
from services.evaluation.rules import SURVEY_WORKING_DAYS
from services.notify.contract import message_id
from shared.calendar import SHANGHAI, WorkingCalendar
from shared.envelope import Envelope
from shared.errors import ValidationFailed

CAL = WorkingCalendar()
# a Monday in November 2026 (no holiday that week)
ENDED = datetime(2026, 11, 2, 10, 0, tzinfo=SHANGHAI)
FORM = {
    "overall": "满意",
    "dimensions": dict.fromkeys(
        (
            "attitude",
            "efficiency",
            "professionalism",
            "timeliness",
            "fee_transparency",
            "environment",
        ),
        "满意",
    ),
    "comments": "",
}


def issued() -> Survey:
    facts = {"demand_id": "d-1", "ended_at": ENDED.isoformat()}
    return Survey.issue("demand", "d-1:7", facts, CAL)


def test_the_window_runs_from_the_delivery_when_the_invitation_reaches_later():
    survey = issued()
    from_end = survey.due
    assert from_end == CAL.deadline(ENDED, SURVEY_WORKING_DAYS)
    delivered = ENDED + timedelta(days=2)  # the mail server was away till Wednesday
    assert survey.invitation_delivered(delivered, CAL) is True
    assert survey.due == CAL.deadline(delivered, SURVEY_WORKING_DAYS) > from_end
    assert survey.invited_at == delivered.isoformat()
    # a rating after the old window closed is still in time
    survey.rate("d-1", FORM, from_end + timedelta(hours=1))
    assert survey.status == "rated"


def test_a_delivery_is_noted_once_and_never_shortens_the_window():
    survey = issued()
    assert survey.invitation_delivered(ENDED + timedelta(minutes=1), CAL) is True
    due = survey.due
    assert survey.invitation_delivered(ENDED + timedelta(days=3), CAL) is False
    assert survey.due == due >= CAL.deadline(ENDED, SURVEY_WORKING_DAYS)


def test_a_customer_never_reached_rates_within_the_window_from_the_end():
    survey = issued()
    survey.rate("d-1", FORM, survey.due - timedelta(minutes=1))
    assert survey.status == "rated" and survey.invited_at == ""
    late = issued()
    with pytest.raises(ValidationFailed):
        late.rate("d-1", FORM, late.due + timedelta(minutes=1))


def test_the_invitation_is_found_under_notifys_stable_id_of_survey_issued():
    survey_id = "7d4f6a52-0d0e-5d7b-9c0e-000000000001"
    cause = Envelope.event_id_for("evaluation", survey_id, 1)
    expected = str(message_id(cause, "survey_invitation", "customer"))
    assert invitation_id(survey_id) == expected
    asked = []

    def notify(ids):
        asked.append(ids)
        return {expected: "2026-11-04T01:00:00+00:00", "someone else's": "x"}

    assert deliveries([survey_id, "other"], notify) == {
        survey_id: "2026-11-04T01:00:00+00:00"
    }
    assert len(asked) == 1 and len(asked[0]) == 2  # one call a round
    assert deliveries([], notify) == {} and len(asked) == 1
