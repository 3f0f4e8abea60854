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


class DepartmentRatingRoutes:
    @route(
        "POST",
        "/api/v1/referral-tasks/{referral_id}/rating",
        department_rating.rate_task,
        "录入委托部门对政府委托任务或召回技术支持的评价（转出机构的服务人员；"
        "办结后5个工作日内、仅一次）",
        body=DEPARTMENT_RATING,
        once="referral-tasks/{referral_id}/rating",
        answer=answers.record("委托部门的评价"),
    )
    def rate_referral_task(self, call: Call):
        return call.run(body=call.body)
