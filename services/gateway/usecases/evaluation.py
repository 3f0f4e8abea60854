"""Evaluation: the customer's rating by progress code (9.2.1), a survey and its
call-back for the institution that served or took the demand, and the
manager's call-backs, improvement items and half-year summaries (9.1.3,
9.3)."""

from __future__ import annotations

import base64

from services.evaluation.contract import half_year_summary_id
from services.gateway import access
from services.gateway.access import MANAGERS, STAFF_ROLES
from services.gateway.usecases.common import CUSTOMER, web
from services.gateway.usecases.operation import Owner, use_case
from services.gateway.usecases.owners import OWN_INSTITUTION, PUBLIC
from shared.audit import Actor
from shared.errors import NotFound
from shared.rpc import audit_dict
from shared.validation import require_text


def _of_the_case(gw, actor: Actor, record: dict) -> dict:
    """A survey or call-back is the institution's that was rated, and the
    first responder's, whose demand it was (7.4.2); a regulator reads."""
    if actor.role == "regulator" or (
        actor.institution and actor.institution == record["institution_id"]
    ):
        return record
    demand = gw.intake.get_demand(record["demand_id"])
    access.require_same_institution(actor, demand["institution"])
    return record


def _summary(gw, actor: Actor, ids: dict) -> dict:
    summary = gw.evaluation.half_year_summary(ids["summary_id"])
    access.require_same_institution(actor, summary.get("institution_id", ""))
    return summary


SURVEY = Owner(
    "survey",
    "满意度评价：被评价的机构与首问机构的（监管人员可读）",
    lambda gw, actor, ids: _of_the_case(
        gw, actor, gw.evaluation.survey(ids["survey_id"])
    ),
    ("survey_id",),
)
CALL_BACK = Owner(
    "call-back",
    "回访：被评价的机构与首问机构的",
    lambda gw, actor, ids: _of_the_case(
        gw, actor, gw.evaluation.call_back(ids["call_back_id"])
    ),
    ("call_back_id",),
)
SUMMARY = Owner(
    "half-year summary",
    "半年度总结：本机构的（监管人员可读）",
    _summary,
    ("summary_id",),
)
RATING = Owner(
    "survey by code",
    "客户的满意度评价：凭进度查询码（即凭证，猜码受限）",
    lambda gw, actor, ids: None,
    ("survey_id",),
)


def code_of(value: object) -> str:
    """The progress code a customer typed (7.4.6), trimmed."""
    return require_text(value, "code", "进度查询码", 64)


@use_case(roles=None, owner=PUBLIC)
def surveys_for_code(gw, actor: Actor, _, *, code: object) -> list[dict]:
    """The customer's surveys, by the progress code they hold."""
    return gw.evaluation.surveys_for_code(code_of(code))


@use_case(roles=None, owner=RATING)
def rate(gw, actor: Actor, _, *, survey_id: str, code: object, rating: dict):
    """Once, within 5 working days, by the holder of the demand's code."""
    return gw.evaluation.rate(
        survey_id, code_of(code), rating, audit_data=audit_dict(CUSTOMER, "website")
    )


@use_case(roles=STAFF_ROLES | {"regulator"}, owner=SURVEY)
def survey(gw, actor: Actor, found: dict, *, survey_id: str) -> dict:
    """One survey: when it is due, and the rating once given."""
    return found


@use_case(roles=STAFF_ROLES, owner=CALL_BACK)
def record_call_back(gw, actor: Actor, _, *, call_back_id: str, note: str) -> dict:
    """How the call to an unsatisfied customer went: the caller is whoever
    records it, once."""
    return gw.evaluation.record_call_back(
        call_back_id, actor.id, note, audit_data=web(actor)
    )


@use_case(roles=MANAGERS, owner=OWN_INSTITUTION)
def call_backs(gw, actor: Actor, _) -> list[dict]:
    """Open call-backs after unsatisfied ratings, of the manager's institution."""
    return gw.evaluation.call_backs(actor.institution, "open")


@use_case(roles=MANAGERS, owner=OWN_INSTITUTION)
def improvements(gw, actor: Actor, _, *, status: str) -> list[dict]:
    """Improvement items of the manager's institution (9.3)."""
    return gw.evaluation.improvements(actor.institution, status)


@use_case(roles=MANAGERS, owner=OWN_INSTITUTION)
def quality(gw, actor: Actor, _, *, halves: list[tuple[int, int]]) -> dict:
    """The manager's quality page: open call-backs, improvement items and the
    summaries of the given half-years that exist."""
    summaries = []
    for year, half in halves:
        summary_id = str(half_year_summary_id(actor.institution, year, half))
        try:
            summaries.append(gw.evaluation.half_year_summary(summary_id))
        except NotFound:
            continue
    return {
        "call_backs": gw.evaluation.call_backs(actor.institution, "open"),
        "improvements": gw.evaluation.improvements(actor.institution, ""),
        "summaries": summaries,
    }


@use_case(roles=MANAGERS, owner=OWN_INSTITUTION)
def draft_half_year(gw, actor: Actor, _, *, year, half) -> dict:
    """Draft (or redraft) the institution's summary of a half-year."""
    return gw.evaluation.draft_half_year(
        actor.institution, year, half, audit_data=web(actor)
    )


@use_case(roles=MANAGERS | {"regulator"}, owner=SUMMARY)
def summary(gw, actor: Actor, found: dict, *, summary_id: str, form: str = "json"):
    """The summary as data (``json``), or as the evaluation service writes it:
    a page (``html``) or the PDF to print (``pdf``, bytes)."""
    if form == "html":
        return gw.evaluation.half_year_html(summary_id)
    if form == "pdf":
        return base64.b64decode(gw.evaluation.half_year_pdf(summary_id))
    return found


@use_case(roles=MANAGERS, owner=SUMMARY)
def sign_off(gw, actor: Actor, _, *, summary_id: str, note: str) -> dict:
    return gw.evaluation.sign_off_half_year(summary_id, note, audit_data=web(actor))
