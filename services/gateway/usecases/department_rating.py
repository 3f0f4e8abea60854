"""A government task or recall support (5.2.2 b, 6.9) is rated by the
department that asked for it (9.2.1): it holds no progress code, so the
referring institution's staff record its rating as the department gave it
(by letter or telephone), naming who answered. The task's own survey, issued
when its referral completed, takes it once, within its window."""

from __future__ import annotations

from services.evaluation.contract import derived_id
from services.gateway import access
from services.gateway.access import STAFF_ROLES
from services.gateway.usecases.common import web
from services.gateway.usecases.operation import use_case
from services.gateway.usecases.owners import REFERRAL
from shared.audit import Actor
from shared.errors import ValidationFailed

TASK_KINDS = ("government", "recall")


def task_survey_id(referral_id: str) -> str:
    """The survey evaluation issued when the task's referral completed."""
    return str(derived_id("survey:referral", referral_id))


@use_case(roles=STAFF_ROLES, owner=REFERRAL)
def rate_task(
    gw, actor: Actor, referral: dict, *, referral_id: str, body: dict
) -> dict:
    """The referring institution's staff only (the partner that did the work
    never rates it), for a task, after its report was issued."""
    if referral["origin_institution"] != actor.institution:
        raise access.Hidden()
    if referral["kind"] not in TASK_KINDS:
        raise ValidationFailed.single(
            "referral", "客户需求由客户凭进度查询码评价，不由部门评价"
        )
    if referral["state"] not in ("completed", "feedback_delivered"):
        raise ValidationFailed.single("status", "任务办结后方可评价")
    rating = {k: body.get(k) for k in ("overall", "dimensions", "comments")}
    return gw.evaluation.rate_for_department(
        task_survey_id(referral_id),
        body.get("respondent", ""),
        rating,
        audit_data=web(actor, referral.get("demand_id", "")),
    )
