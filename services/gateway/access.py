"""Who may do what, checked on the server for every request (7.3.3).

Staff and managers act on their own institution's demands; a regulator reads
every institution and writes nothing; ops see the platform's health, not
personal data. A check that fails for an object of another institution
answers 404, so a URL reveals nothing about whether the object exists.
"""

from __future__ import annotations

from shared.audit import Actor

ANONYMOUS = Actor(id="anonymous", role="customer")

STAFF_ROLES = frozenset({"staff", "manager"})
MANAGERS = frozenset({"manager"})
ADMINS = frozenset({"admin"})
READERS_OF_CASES = STAFF_ROLES | {"regulator"}


class Unauthenticated(Exception):
    """No valid login: 401."""


class Forbidden(Exception):
    """Logged in, but this role may not do this at all: 403."""


class Hidden(Exception):
    """This object is not the caller's to see: answered as 404."""


def require_role(actor: Actor, roles: frozenset[str] | set[str]) -> None:
    if actor.role == "customer" and actor.id == ANONYMOUS.id:
        raise Unauthenticated("请先登录")
    if actor.role not in roles:
        raise Forbidden("当前角色无权进行此操作")


def require_same_institution(actor: Actor, institution: str) -> None:
    """Staff and managers reach only their institution's objects."""
    if actor.role == "regulator":
        return
    if not actor.institution or actor.institution != institution:
        raise Hidden()


def sees_personal_data(actor: Actor) -> bool:
    """Only the demand's own institution needs the customer's contact data."""
    return actor.role in STAFF_ROLES


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


def mask_name(name: str) -> str:
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


# Appendix B lines that identify a person or a company's contact
PERSONAL_FIELDS = ("contact_phone", "contact_person", "address", "credit_code")


def masked_registration(registration: dict) -> dict:
    """The form for readers without need of contact data (regulator)."""
    masked = dict(registration)
    masked["contact_phone"] = mask_phone(registration.get("contact_phone", ""))
    masked["contact_person"] = mask_name(registration.get("contact_person", ""))
    masked["address"] = "***" if registration.get("address") else ""
    masked["credit_code"] = "***" if registration.get("credit_code") else ""
    return masked
