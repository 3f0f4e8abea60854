"""9.2.1 over the real broker: evaluation learns from notify when the survey
invitation reached the applicant, and the rating window runs from then; a
customer never reached still rates by the progress code within the window
counted from the service's end."""

from __future__ import annotations

from datetime import datetime

from services.evaluation.invitations import invitation_id
from services.evaluation.rules import SURVEY_WORKING_DAYS
from services.evaluation.service import EvaluationService
from services.notify.service import NotifyService
from shared.calendar import calendar_from_env
from tests import support
from tests.integration import test_notify as notify_tests

# notify's tests' fixtures: intake, catalog, the services started, an SMTP sink
platform = notify_tests.platform
sink = notify_tests.sink

RATING = {
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


def answered(proxies) -> dict:
    """A demand answered at once (8.3.1): the service ended, a survey issued."""
    demand = notify_tests.registered(proxies)
    answer = {"answer": "可按标准检测"}
    proxies.intake.decide(
        demand["id"], "staff-a", "answered", answer, audit_data=notify_tests.STAFF
    )
    return demand


def test_the_window_starts_when_the_invitation_is_delivered(platform, sink):
    start, proxies = platform
    start(EvaluationService, NotifyService)
    demand = answered(proxies)
    support.wait_for(lambda: sink.to("li.ming@example.cn"), timeout=30)
    (survey,) = proxies.evaluation.surveys_for_code(demand["progress_code"])
    invitation = invitation_id(survey["id"])
    delivered = proxies.notify.delivered_at([invitation])[invitation]

    proxies.evaluation.sweep()
    noted = proxies.evaluation.survey(survey["id"])
    assert noted["invited_at"] == datetime.fromisoformat(delivered).isoformat()
    calendar = calendar_from_env()
    window = calendar.deadline(datetime.fromisoformat(delivered), SURVEY_WORKING_DAYS)
    from_end = datetime.fromisoformat(survey["due_at"])
    assert datetime.fromisoformat(noted["due_at"]) == max(window, from_end)
    # a second round changes nothing
    assert proxies.evaluation.sweep()["invited"] == []


def test_a_customer_never_reached_still_rates_within_the_window(
    platform, sink, monkeypatch
):
    start, proxies = platform
    monkeypatch.setenv("QI_SMTP_URL", "")  # no e-mail: the inbox only
    start(EvaluationService, NotifyService)
    demand = answered(proxies)
    code = demand["progress_code"]
    (survey,) = support.wait_for(
        lambda: proxies.evaluation.surveys_for_code(code), timeout=30
    )
    support.wait_for(lambda: proxies.notify.messages_for_progress_code(code))
    assert proxies.evaluation.sweep()["invited"] == []
    assert proxies.evaluation.survey(survey["id"])["invited_at"] == ""
    rated = proxies.evaluation.rate(survey["id"], code, RATING)
    assert rated["status"] == "rated"
    assert sink.messages() == []
