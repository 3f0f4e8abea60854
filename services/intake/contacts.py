"""The customer's contact data, for the notification service only (7.3.3).

Personal data never travels in integration events: notify reads the phone and
e-mail of a demand's customer here when it sends a message, so a message sent
later reaches the contact as it is then, and nothing personal is copied into
a broker or another service's store. nameko RPC carries no caller identity,
so this cannot tell notify from any other client of the broker: whoever may
reach intake's RPC queue may read a customer's contact by the demand id (an
unguessable uuid4, known to staff and to the services of its case). The
gateway never exposes it.
"""

from __future__ import annotations

from services.intake.domain import Demand


def notification_contact(app, demand_id: str) -> dict:
    """``{demand_id, applicant, contact_person, contact_phone, contact_email,
    progress_code, institution}``; ``NotFound`` for an unknown demand."""
    demand = app.get_existing(demand_id, Demand, "demand")
    return {
        "demand_id": str(demand.id),
        "applicant": demand.applicant,
        "contact_person": demand.contact_person,
        "contact_phone": demand.contact_phone,
        "contact_email": getattr(demand, "contact_email", ""),
        "progress_code": demand.progress_code,
        "institution": demand.institution,
    }


def materials_notice(app, demand_id: str, version) -> dict:
    """The one-time materials notice (7.4.3) the demand's event at ``version``
    issued: ``{demand_id, requested, nonconforming: {material: what is wrong
    with it}}``. What is wrong is staff's own words, which can name a person
    (issue 18): the published MaterialsNoticeIssued (v2) names the materials
    only, and notify reads the words here when it writes the notice.
    ``NotFound`` for anything else. Same caveat as above: no caller identity."""
    issued = app.event_at(
        demand_id, version, Demand.MaterialsNoticeIssued, "materials notice"
    )
    return {
        "demand_id": str(issued.originator_id),
        "requested": list(issued.requested),
        "nonconforming": dict(issued.nonconforming),
    }
