"""Service policies over HTTP: an institution's limits (deadlines, hours, the
green channel's surcharge), read and changed by the platform's admin."""

from __future__ import annotations

from services.catalog.contract import POLICY_LIMITS
from services.gateway.routing import answers
from services.gateway.routing.body import fields, text, whole
from services.gateway.routing.declare import endpoint, form
from services.gateway.usecases import policy

POLICY = "/api/v1/catalog/policies/{institution_id}"
CHANGE = fields(
    {
        "limits": fields(
            {key: whole(spec[0]) for key, spec in POLICY_LIMITS.items()},
            title="要修改的限值",
        ),
        "reason": text("修改理由", 500),
    },
    required=("limits", "reason"),
)
POLICY_ANSWER = answers.record(
    "服务政策限值",
    ("institution", "version", "limits"),
    institution=answers.STRING,
    version=answers.INTEGER,
    limits=answers.OBJECT,
    changed_at=answers.STRING,
    items=answers.LIST,
)


class PolicyRoutes:
    service_policy = endpoint(
        "GET",
        POLICY,
        policy.policy,
        "机构的服务政策限值及其版本（各项的依据与默认值）",
        answer=answers.record("服务政策限值及其版本"),
    )
    change_policy = endpoint(
        "POST",
        POLICY + "/revision",
        policy.change,
        "修改机构的服务政策限值（平台管理员，写明理由；自修改时起生效）",
        form,
        body=CHANGE,
        answer=answers.record("服务政策限值及其版本"),
    )
