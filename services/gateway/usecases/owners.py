"""Whose object a use case touches, and how its institution is checked: the
named, reusable ownership rules every use case (and so every route) states.

A rule reads the object over RPC where its institution must be known, and
answers it; another institution's object is ``Hidden`` (answered 404, so a
URL reveals nothing), a role that may never act on it ``Forbidden`` (403).
A regulator reads every institution's objects (the roles of each use case
keep them from writing). The rules of one area's objects (an instrument and
its bookings, a partner's standing, a survey, a half-year summary, a staff
member, an assessment, an improvement item) stand beside that area's use
cases; the OpenAPI document names each operation's rule (``x-owner``).
"""

from __future__ import annotations

from services.gateway import access
from services.gateway.access import ADMINS, Hidden
from services.gateway.usecases.common import today, web
from services.gateway.usecases.operation import Owner
from shared import config
from shared.audit import Actor


def _none(gw, actor: Actor, ids: dict) -> None:
    return None


# -- objects of no institution -------------------------------------------------

PUBLIC = Owner("public", "公开：无需登录，不涉及任何机构的对象", _none)
CODE_HOLDER = Owner(
    "code holder",
    "持码人：凭进度查询码、投诉码或报告验证码查询，码即凭证（猜码受限）",
    _none,
    ("code",),
)
CATALOG_ITEM = Owner(
    "catalog item",
    "服务事项目录（第6章）：公开，由平台管理员维护",
    _none,
    ("code",),
)
OWN_ACCOUNT = Owner("own account", "调用者本人的账号", _none)
OWN_INSTITUTION = Owner(
    "own institution",
    "调用者本机构的（列表或新建的对象：机构以调用者为准，不以请求内容为准）；"
    "监管人员可读各机构",
    _none,
)
PLATFORM = Owner(
    "platform",
    "全平台的（账号、服务事项目录、合作机构名录）：由平台管理员维护",
    _none,
)
ACCOUNT = Owner("account", "账号：全平台的，由平台管理员维护", _none, ("username",))
CATALOG_INSTITUTION = Owner(
    "catalog institution",
    "名录中的合作机构及其资质：全平台的，由平台管理员按发证机关的决定维护（4.1）",
    _none,
    ("institution_id",),
)
EQUIPMENT = Owner(
    "equipment",
    "场所设备：目录不提供单台设备的查询，无法先核对其机构，故只由平台管理员记录",
    _none,
    ("equipment_id",),
)


# -- a demand and what hangs on it -------------------------------------------


def _demand(gw, actor: Actor, ids: dict) -> dict:
    demand = gw.intake.get_demand(ids["demand_id"])
    access.require_same_institution(actor, demand["institution"])
    return demand


DEMAND = Owner(
    "demand", "需求：受理需求的机构的（监管人员可读）", _demand, ("demand_id",)
)


def _demand_in_intake(gw, actor: Actor, ids: dict) -> None:
    """A staff command's demand is not read here: intake compares its
    institution with the caller's as it applies the command, and answers
    another institution's as not found (``IntakeApplication._change``), so
    a command costs one call to intake, not two (issue 22)."""
    if not actor.institution:
        raise Hidden()


DEMAND_IN_INTAKE = Owner(
    "demand in intake",
    "需求：受理需求的机构的（由需求受理服务在办理时核对机构）",
    _demand_in_intake,
    ("demand_id",),
)


def _quote(gw, actor: Actor, ids: dict) -> dict:
    quote = gw.catalog.quote(ids["quote_id"])
    demand = gw.intake.get_demand(quote["demand_id"])
    access.require_same_institution(actor, demand["institution"])
    return quote


QUOTE = Owner("quote", "收费报价：其需求所属机构的", _quote, ("quote_id",))


def _referral(gw, actor: Actor, ids: dict) -> dict:
    # the referral service answers "not found" for one not addressed to or
    # sent by the caller's institution (a regulator reads every one)
    return gw.referral.referral(ids["referral_id"], audit_data=web(actor))


REFERRAL = Owner(
    "referral",
    "转办：发往调用者机构或由其转出的（由转办服务核对；监管人员可读）",
    _referral,
    ("referral_id",),
)


def _plan(gw, actor: Actor, ids: dict) -> dict:
    plan = gw.intake.visit_plan(ids["plan_id"], today())
    access.require_same_institution(actor, plan["institution_id"])
    return plan


VISIT_PLAN = Owner("visit plan", "走访计划：编制它的机构的", _plan, ("plan_id",))


# -- catalog resources --------------------------------------------------------


def _venue(gw, actor: Actor, ids: dict) -> dict:
    for venue in gw.catalog.venues(None):
        if venue["id"] == ids["venue_id"]:
            if actor.role not in ADMINS:
                access.require_same_institution(actor, venue["institution_id"])
            return venue
    raise Hidden()


VENUE = Owner(
    "venue", "服务场所：所属机构的（平台管理员可管任一）", _venue, ("venue_id",)
)


# -- complaints ---------------------------------------------------------------


def handling_institution(complaint: dict) -> str:
    """A complaint about an institution is its own to handle; the rest the
    front door's (the platform that received it)."""
    return complaint["links"].get("institution_id") or config.get(
        "QI_FRONT_DOOR_INSTITUTION"
    )


def _card(gw, actor: Actor, ids: dict) -> dict:
    card = gw.complaints.card(ids["card_id"], audit_data=web(actor))
    access.require_same_institution(actor, card["institution_id"])
    return card


def _complaint(gw, actor: Actor, ids: dict) -> dict:
    complaint = gw.complaints.complaint(ids["complaint_id"], audit_data=web(actor))
    access.require_same_institution(actor, handling_institution(complaint))
    return complaint


COMMENT_CARD = Owner("comment card", "意见卡：登记它的机构的", _card, ("card_id",))
COMPLAINT = Owner(
    "complaint",
    "投诉：处理它的机构的（涉及某机构的归该机构，其余归受理平台）",
    _complaint,
    ("complaint_id",),
)
