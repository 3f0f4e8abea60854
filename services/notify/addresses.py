"""Whom a message reaches, read when it is sent (7.3.3: personal contact data
never travels in an integration event, nor is it kept by notify), and the
words staff typed that a message quotes, read from their owner when the
message is written (issue 18: the materials notice's non-conformities from
intake, a qualification flag's detail from referral).

- a customer: the phone and e-mail of the demand's form, from intake
  (``notification_contact``);
- a complainant: the phone the complaint was filed with, from complaints
  (``complainant_contact``); an anonymous complainant is reached by the
  complaint's code only (the inbox);
- a partner institution: the e-mail catalog keeps of it when it keeps one,
  else the address book's; its phone from the address book, else catalog's
  contact phone;
- an institution's staff or managers: the address book (QI_NOTIFY_ADDRESSES),
  since accounts carry no e-mail: ``{"<institution id or code>": {"staff" |
  "manager" | "partner": "<e-mail>" or {"email": ..., "phone": ...}}}``.

Only mainland mobile numbers receive an SMS; a landline gets none.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from shared import config
from shared.errors import NotFound

MOBILE = re.compile(r"^1[3-9]\d{9}$")


class Directory:
    """What notify reads of other services by RPC: the proxies of a worker."""

    def __init__(self, intake, complaints, catalog, referral=None):
        self.intake = intake
        self.complaints = complaints
        self.catalog = catalog
        self.referral = referral

    @property
    def front_door(self) -> str:
        return config.get("QI_FRONT_DOOR_INSTITUTION")

    def customer(self, demand_id: str) -> dict | None:
        try:
            return self.intake.notification_contact(demand_id) if demand_id else None
        except NotFound:
            return None

    def complainant(self, complaint_id: str) -> dict | None:
        if not complaint_id:
            return None
        try:
            return self.complaints.complainant_contact(complaint_id)
        except NotFound:
            return None

    def materials_notice(self, demand_id: str, version: int) -> dict | None:
        """The notice's words from intake (``materials_notice``): what is
        wrong with each material, which MaterialsNoticeIssued v2 does not
        carry (issue 18). None if intake knows no such notice."""
        if not demand_id:
            return None
        try:
            return self.intake.materials_notice(demand_id, version)
        except NotFound:
            return None

    def escalation_detail(self, referral_id: str, version: int) -> dict | None:
        """A qualification flag's detail from referral (``escalation_detail``),
        which ReferralEscalated v2 does not carry (issue 18). None if referral
        knows no such escalation."""
        if not referral_id or self.referral is None:
            return None
        try:
            return self.referral.escalation_detail(referral_id, version)
        except NotFound:
            return None

    def institution(self, institution_id: str) -> dict | None:
        if not institution_id:
            return None
        try:
            return self.catalog.institution(institution_id)
        except NotFound:
            return None

    def demand_for_code(self, code: str) -> str:
        return self.intake.demand_for_progress_code(code)["demand_id"]

    def complaint_number_for_code(self, code: str) -> str:
        return self.complaints.status_by_code(code)["number"]


def address_book() -> dict:
    """QI_NOTIFY_ADDRESSES, read afresh (an edit takes effect at once)."""
    path = config.get("QI_NOTIFY_ADDRESSES")
    if not path:
        return {}
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _book_entry(institution: str, role: str) -> dict:
    entry = address_book().get(institution, {}).get(role, {})
    return {"email": entry} if isinstance(entry, str) else dict(entry)


def mobile(phone: str) -> str:
    phone = (phone or "").replace(" ", "").replace("-", "")
    return phone if MOBILE.match(phone) else ""


def addresses(message, directory: Directory) -> dict[str, str]:
    """``{"email": ..., "sms": ...}`` of the message's recipient, now ("" for
    a channel with no address)."""
    if message.audience == "customer":
        found = directory.customer(message.demand_id) or {}
        return {
            "email": found.get("contact_email", ""),
            "sms": mobile(found.get("contact_phone", "")),
        }
    if message.audience == "complainant":
        found = directory.complainant(message.complaint_id) or {}
        return {"email": found.get("email", ""), "sms": mobile(found.get("phone", ""))}
    book = _book_entry(message.institution, message.audience)
    if message.audience == "partner":
        found = directory.institution(message.institution) or {}
        email = found.get("notification_email") or book.get("email", "")
        phone = book.get("phone") or found.get("contact_phone", "")
        return {"email": email, "sms": mobile(phone)}
    return {"email": book.get("email", ""), "sms": mobile(book.get("phone", ""))}


def masked(channel: str, address: str) -> str:
    """What the record keeps of whom it went to."""
    if channel == "email" and "@" in address:
        name, domain = address.split("@", 1)
        return f"{name[:1]}***@{domain}"
    if len(address) >= 8:
        return address[:3] + "****" + address[-4:]
    return "****"
