"""The requesting department's rating of a government task or recall support
(5.2.2 b, 6.9, 9.2.1), recorded by the referring institution's staff."""

from __future__ import annotations

from services.evaluation.contract import DIMENSIONS, LEVELS
from services.gateway.routing import answers
from services.gateway.routing.body import choice, fields, text
from services.gateway.routing.declare import Call, route
from services.gateway.usecases import department_rating

LEVEL = choice("总体评价", LEVELS)
DEPARTMENT_RATING = fields(
    {
        "respondent": text("评价部门及联系人", 100),
        "overall": LEVEL,
        "dimensions": fields(
            {key: choice(label, LEVELS) for key, label in DIMENSIONS.items()},
            title="分项评价",
        ),
        "comments": text("意见", 2000),
    },
    required=("respondent", "overall", "dimensions"),
)


RATED_TASK = answers.record(
    "委托部门的评价",
    ("id", "status", "rating"),
    id=answers.STRING,
    source=answers.STRING,
    demand_id=answers.maybe(answers.STRING),
    referral_id=answers.maybe(answers.STRING),
    institution_id=answers.STRING,
    staff_id=answers.maybe(answers.STRING),
    ended_at=answers.maybe(answers.STRING),
    due_at=answers.maybe(answers.STRING),
    invited_at=answers.maybe(answers.STRING),
    respondent=answers.maybe(answers.STRING),
    status=answers.STRING,
    status_label=answers.STRING,
    rating=answers.mapping(
        answers.one_of(answers.STRING, answers.mapping(answers.STRING))
    ),
    policy_version=answers.maybe(answers.INTEGER),
    # improvement items opened for an unsatisfactory rating (9.3)
    follow_up=answers.listing(answers.STRING),
)


class DepartmentRatingRoutes:
    @route(
        "POST",
        "/api/v1/referral-tasks/{referral_id}/rating",
        department_rating.rate_task,
        "录入委托部门对政府委托任务或召回技术支持的评价（转出机构的服务人员；"
        "办结后5个工作日内、仅一次）",
        body=DEPARTMENT_RATING,
        once="referral-tasks/{referral_id}/rating",
        answer=RATED_TASK,
    )
    def rate_referral_task(self, call: Call):
        return call.run(body=call.body)
