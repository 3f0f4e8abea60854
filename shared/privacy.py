"""Masking personal data for readers who have no need of it (7.3.3).

One implementation of each mask, for the gateway and any service that shows a
record to a reader without need of the customer's contact data (a regulator,
an institution's manager reading a complaint). Each function returns a new
value and leaves its argument untouched; the record as stored is never
changed.

- ``mask_phone("13912345678")`` → ``"139****5678"``; a short number → ``"****"``;
  no number → ``""``.
- ``mask_name("张三")`` → ``"张*"``; no name → ``""``.
- ``mask_address("南京市…")`` → ``"***"``; no address → ``""``.
- ``mask_applicant("张三", "individual")`` → ``"张*"``: a person applying for
  themselves is masked like a contact person; a company or a government
  department is named as it is.
- ``mask_text("…")`` → ``"***"``: free text someone wrote about a case (a
  need's description, a hand-over's reason, a partner's summary) can name a
  person or carry their details, so a reader without need sees that there
  is text, not what it says.
"""

from __future__ import annotations

HIDDEN = "***"

# Appendix B lines that identify a person or a company's contact
REGISTRATION_FIELDS = (
    "contact_phone",
    "contact_person",
    "address",
    "credit_code",
    "contact_email",
)


def mask_phone(phone: str | None) -> str:
    """The first three and last four digits of a phone number."""
    if not phone:
        return ""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


def mask_name(name: str | None) -> str:
    """A person's family name only: 张三 → 张*."""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def mask_address(address: str | None) -> str:
    """An address (or any free text that locates someone) as ``***``."""
    return HIDDEN if address else ""


def mask_applicant(applicant: str | None, customer_kind: str | None) -> str:
    """An applicant as a reader without need sees it: an individual's name
    masked like a contact person's (7.3.3), an organisation's as it is."""
    if customer_kind == "individual":
        return mask_name(applicant)
    return applicant or ""


def mask_text(text: str | None) -> str:
    """Free text that may carry personal data, as ``***`` (none: ``""``)."""
    return HIDDEN if text else ""


def masked_needs(needs: list[dict]) -> list[dict]:
    """Each need's item as it is, its description (the customer's words)
    hidden."""
    return [
        {**need, "description": mask_text(need.get("description"))} for need in needs
    ]


def masked_demand(demand: dict) -> dict:
    """A demand's summary for a reader without need of personal data (the
    regulator's audit): the applicant if a person, the phone, and every free
    text (needs' descriptions, a hand-over's reason, partners' summaries)
    masked; states, times, items and who acted as they are."""
    masked = dict(demand)
    if "applicant" in demand:
        masked["applicant"] = mask_applicant(
            demand["applicant"], demand.get("customer_kind")
        )
    if "contact_phone" in demand:
        masked["contact_phone"] = mask_phone(demand["contact_phone"])
    if demand.get("needs"):
        masked["needs"] = masked_needs(demand["needs"])
    if demand.get("handover"):
        masked["handover"] = {
            **demand["handover"],
            "reason": mask_text(demand["handover"].get("reason")),
        }
    if demand.get("referral_feedback"):
        masked["referral_feedback"] = [
            {**feedback, "summary": mask_text(feedback.get("summary"))}
            for feedback in demand["referral_feedback"]
        ]
    return masked


def masked_registration(registration: dict) -> dict:
    """A demand's Appendix B form without its contact lines (the e-mail
    hidden like an address, where the form has one), an individual
    applicant's name, or the needs' descriptions."""
    masked = {
        **registration,
        "applicant": mask_applicant(
            registration.get("applicant"), registration.get("customer_kind")
        ),
        "contact_phone": mask_phone(registration.get("contact_phone")),
        "contact_person": mask_name(registration.get("contact_person")),
        "address": mask_address(registration.get("address")),
        "credit_code": mask_address(registration.get("credit_code")),
    }
    if "needs" in registration:
        masked["needs"] = masked_needs(registration["needs"] or [])
    if "contact_email" in registration:
        masked["contact_email"] = mask_address(registration["contact_email"])
    return masked


def masked_contact(record: dict, name: str, phone: str) -> dict:
    """A record with its ``name`` and ``phone`` fields masked (a visit's
    contact, a comment card's sender): the other fields as they are."""
    masked = dict(record)
    if name in record:
        masked[name] = mask_name(record[name])
    if phone in record:
        masked[phone] = mask_phone(record[phone])
    return masked


def masked_custody(custody: dict) -> dict:
    """A demand's custody record (visits, samples, movements, deliveries)
    without the customer's address, contact, phone and e-mail."""
    visits = [
        {**masked_contact(visit, "contact", "phone"), "address": HIDDEN}
        for visit in custody["visits"]
    ]
    deliveries = [
        {**delivery, **{k: HIDDEN for k in ("address", "email") if delivery.get(k)}}
        for delivery in custody["deliveries"]
    ]
    return {**custody, "visits": visits, "deliveries": deliveries}


def masked_visit_plan(plan: dict) -> dict:
    """A visit plan without the names of the people met on its visits."""
    visits = []
    for visit in plan["visits"]:
        record = visit.get("record")
        if record and record.get("met"):
            met = {**record["met"], "name": mask_name(record["met"]["name"])}
            visit = {**visit, "record": {**record, "met": met}}
        visits.append(visit)
    return {**plan, "visits": visits}
