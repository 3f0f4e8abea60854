"""Which integration event becomes which message, for whom (the closed loop
with the people outside the platform).

- the one-time materials notice goes to the customer (7.4.3);
- a referral sent, signed for, near its deadline or overdue goes to the
  partner it is addressed to (8.3.4, 8.3.5, 9.4); an expert without an
  institution has no inbox here, so the referring institution's staff get it;
- escalations (a referral overdue or unroutable, an improvement item overdue)
  and qualification flags go to the referring institution's managers (4.1,
  9.3, 9.4); an event that does not name it (older messages, improvement
  items) goes to the front door's;
- in-house service near its due date goes to its owner, the institution's
  staff inbox (the message names the owner), and past it unresolved to the
  institution's managers (8.3.2, 8.3.5); an older event that does not name
  the institution goes to the front door's;
- a report issued, a satisfaction survey and its reminder go to the customer
  of a demand (7.4.4, 9.2.1); a government or recall task has none;
- a complaint's acknowledgement and decision go to the complainant (9.4).

Each draft is ``{kind, audience, institution, demand_id, complaint_id,
context}``; ``prepare`` adds what it reads from other services now (the
progress code for a customer's links, a complaint's number and decision, an
institution's name, and the words staff typed that the events no longer
carry, issue 18: what is wrong with each material of a materials notice from
intake, a qualification flag's detail from referral) and renders it, never a
phone or an e-mail.
"""

from __future__ import annotations

import logging
from datetime import datetime

from services.notify.domain import Message
from services.notify.render import render
from shared import config
from shared.envelope import Envelope

log = logging.getLogger(__name__)

OVERDUE = ("acceptance_overdue", "completion_overdue")


def _draft(kind: str, audience: str, context: dict, **keys) -> dict:
    return {
        "kind": kind,
        "audience": audience,
        "institution": keys.get("institution", ""),
        "demand_id": keys.get("demand_id", ""),
        "complaint_id": keys.get("complaint_id", ""),
        "context": dict(context),
    }


def _to_partner(kind: str, data: dict) -> dict:
    """The partner's message, or its referring staff's for a lone expert."""
    if data.get("institution_id"):
        audience, institution = "partner", data["institution_id"]
    else:
        audience, institution = "staff", data.get("origin_institution", "")
    return _draft(
        kind,
        audience,
        data,
        institution=institution,
        demand_id=data.get("demand_id", ""),
    )


def _referral_escalated(data: dict, front_door: str) -> list[dict]:
    manager = data.get("origin_institution") or front_door
    demand_id = data.get("demand_id", "")
    reason = data.get("reason", "")
    if reason.startswith("qualification_"):
        kind = "qualification_flag"
    else:
        kind = "escalation"
    found = [_draft(kind, "manager", data, institution=manager, demand_id=demand_id)]
    if reason in OVERDUE and data.get("institution_id"):
        found.append(_to_partner("referral_overdue", data))
    return found


def _in_house(kind: str, audience: str, data: dict, front_door: str) -> list[dict]:
    institution = data.get("institution") or front_door
    demand_id = data.get("demand_id", "")
    return [_draft(kind, audience, data, institution=institution, demand_id=demand_id)]


def _for_customer(kind: str, envelope: Envelope, data: dict) -> list[dict]:
    demand_id = data.get("demand_id") or envelope.correlation_id
    return [_draft(kind, "customer", data, demand_id=demand_id)]


def drafts(envelope: Envelope, front_door: str) -> list[dict]:
    """The messages ``envelope`` causes (none for an event no person needs)."""
    data = dict(envelope.data)
    key = (envelope.source, envelope.type)
    if key == ("intake", "MaterialsNoticeIssued"):
        return _for_customer("materials_notice", envelope, data)
    if key == ("intake", "InHouseReminded"):
        return _in_house("in_house_due_soon", "staff", data, front_door)
    if key == ("intake", "InHouseEscalated"):
        return _in_house("in_house_overdue", "manager", data, front_door)
    if key == ("referral", "ReferralSent"):
        return [_to_partner("referral_sent", data)]
    if key == ("referral", "ReferralAccepted"):
        return [_to_partner("referral_accepted", data)]
    if key == ("referral", "ReferralDueSoon"):
        return [_to_partner("referral_due_soon", data)]
    if key == ("referral", "ReferralEscalated"):
        return _referral_escalated(data, front_door)
    if key == ("referral", "ReferralCompleted"):
        if data.get("kind", "demand") != "demand":
            return []
        return _for_customer("report_ready", envelope, data)
    if key == ("evaluation", "SurveyIssued"):
        return _for_customer("survey_invitation", envelope, data)
    if key == ("evaluation", "SurveyReminded"):
        return _for_customer("survey_reminder", envelope, data)
    if key == ("evaluation", "ImprovementItemEscalated"):
        case = envelope.correlation_id
        demand_id = case if case != data.get("item_id") else ""
        return [
            _draft(
                "improvement_overdue",
                "manager",
                data,
                institution=front_door,
                demand_id=demand_id,
            )
        ]
    if key == ("complaints", "ComplaintAcknowledged"):
        return [
            _draft(
                "complaint_acknowledged",
                "complainant",
                data,
                complaint_id=data["complaint_id"],
            )
        ]
    if key == ("complaints", "ComplaintDecided"):
        return [
            _draft(
                "complaint_decided",
                "complainant",
                data,
                complaint_id=data["complaint_id"],
            )
        ]
    return []


SURVEYS = ("survey_invitation", "survey_reminder")
# messages about one demand for its institution's staff: they open its page
DEMAND_PAGES = ("in_house_due_soon", "in_house_overdue")


def _flag_detail(envelope: Envelope, context: dict, directory) -> str:
    """A qualification flag's detail (the certificate and why it changed),
    read from referral for a ReferralEscalated v2, which carries the
    certificate's number only (issue 18); that number if referral does not
    know the escalation."""
    found = directory.escalation_detail(
        context.get("referral_id", ""), envelope.aggregate_version
    )
    if found is None:
        log.warning("no escalation detail for %s", envelope.event_id)
        return context.get("cert_no", "")
    return found["detail"]


def public_base() -> str:
    return config.get("QI_PUBLIC_BASE_URL").rstrip("/")


def prepare(envelope: Envelope, draft: dict, directory, now: datetime):
    """The ``Message`` of a draft, rendered with what other services say now;
    None when the person it is for is not known there (a case that is not a
    demand registered through intake, a complaint that is gone)."""
    context = dict(draft["context"])
    base = public_base()
    link = f"{base}/console/"
    audience = draft["audience"]
    if audience == "customer":
        found = directory.customer(draft["demand_id"])
        if found is None:
            log.warning("no customer for %s of %s", draft["kind"], envelope.type)
            return None
        code = found["progress_code"]
        page = "rate" if draft["kind"] in SURVEYS else "progress"
        link = f"{base}/{page}?code={code}"
        context["progress_code"] = code
        if draft["kind"] == "materials_notice" and envelope.schema_version >= 2:
            # what is wrong with each material: staff's words, from intake
            notice = directory.materials_notice(
                draft["demand_id"], envelope.aggregate_version
            )
            if notice is None:
                log.warning("no materials notice for %s", envelope.event_id)
                return None
            context["nonconforming"] = dict(notice["nonconforming"])
    elif audience == "complainant":
        found = directory.complainant(draft["complaint_id"])
        if found is None:
            log.warning("no complaint for %s", envelope.type)
            return None
        draft = {**draft, "complaint_number": found["number"]}
        draft["demand_id"] = found.get("demand_id", "")
        decision = found.get("decision") or {}
        context.update(
            number=found["number"],
            received_at=found["received_at"],
            response=decision.get("response", ""),
            remedy=decision.get("remedy", ""),
        )
        link = f"{base}/complaint/status"
    else:
        named = directory.institution(context.get("institution_id", "")) or {}
        context["partner_name"] = named.get("name", "")
        context["institution_name"] = (
            named.get("name", "") if audience == "partner" else ""
        )
        if draft["kind"] == "qualification_flag" and "detail" not in context:
            context["detail"] = _flag_detail(envelope, context, directory)
        if draft["kind"] in DEMAND_PAGES and draft["demand_id"]:
            link = f"{base}/console/demands/{draft['demand_id']}"
    context["link"] = link
    rendered = render(draft["kind"], context)
    return Message.queue(envelope.event_id, {**draft, "link": link}, rendered, now)
