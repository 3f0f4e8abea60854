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
POLICY_ITEM = answers.record(
    "一项限值：名称、现值、默认值、范围与依据",
    ("key", "label", "value", "default", "lowest", "highest", "basis"),
    key=answers.STRING,
    label=answers.STRING,
    value=answers.INTEGER,
    default=answers.INTEGER,
    lowest=answers.INTEGER,
    highest=answers.INTEGER,
    basis=answers.STRING,
)
POLICY_ANSWER = answers.record(
    "服务政策限值",
    ("institution", "version", "limits"),
    institution=answers.STRING,
    version=answers.INTEGER,
    limits=answers.mapping(answers.INTEGER),  # 限值名 -> 值
    changed_at=answers.STRING,  # 从未修改（默认值）：""
    items=answers.listing(POLICY_ITEM),  # 读取时附上；修改的答复没有
)


class PolicyRoutes:
    service_policy = endpoint(
        "GET",
        POLICY,
        policy.policy,
        "机构的服务政策限值及其版本（各项的依据与默认值）",
        answer=POLICY_ANSWER,
    )
    change_policy = endpoint(
        "POST",
        POLICY + "/revision",
        policy.change,
        "修改机构的服务政策限值（平台管理员，写明理由；自修改时起生效）",
        form,
        body=CHANGE,
        answer=POLICY_ANSWER,
    )
