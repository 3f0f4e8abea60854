"""When the survey invitation reached the applicant (9.2.1): the five working
days of the rating window run from then, not from when the survey was stored.

notify makes the invitation from evaluation's SurveyIssued, under the stable
id its contract derives from the event's id (``message_id``), and answers
over RPC when a message was first sent by e-mail or SMS. The sweep asks it
for the open surveys' invitations, one call a round, and stores each
delivery on its survey once (``Survey.invitation_delivered``). An invitation
not yet sent (no address, a mail server away) leaves the window counted from
the service's end: a customer who was never reached can still rate by the
progress code within it. With notify not answering the round goes on
without it.
"""

from __future__ import annotations

from collections.abc import Callable

from services.evaluation.contract import SOURCE
from services.notify.contract import message_id
from shared.envelope import Envelope

# what notify answers: {message id: when it was first sent (ISO)}
DeliveredAt = Callable[[list[str]], dict[str, str]]


def invitation_id(survey_id: str) -> str:
    """The id of the survey's invitation: its SurveyIssued (the survey's
    first event) for the customer."""
    cause = Envelope.event_id_for(SOURCE, str(survey_id), 1)
    return str(message_id(cause, "survey_invitation", "customer"))


def deliveries(survey_ids: list[str], delivered_at: DeliveredAt) -> dict[str, str]:
    """{survey id: when its invitation was delivered}, for those delivered."""
    by_message = {invitation_id(s): s for s in survey_ids}
    if not by_message:
        return {}
    answered = delivered_at(list(by_message)) or {}
    return {by_message[m]: at for m, at in answered.items() if m in by_message and at}
