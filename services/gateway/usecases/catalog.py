"""The catalog: public service information (5.1.5, 6.4 c), and its upkeep by
the platform's administrator — partner institutions and their qualifications
(4.1), the service items of clause 6 and the public service guide.

A qualification's standing is the issuing authority's decision, which the
admin records; an institution's own people never change their
qualifications, and the regulator reads them and writes nothing.
"""

from __future__ import annotations

from uuid import UUID

from services.catalog.contract import institution_id
from services.gateway.access import ADMINS
from services.gateway.usecases.common import web
from services.gateway.usecases.operation import use_case
from services.gateway.usecases.owners import (
    CATALOG_INSTITUTION,
    CATALOG_ITEM,
    PLATFORM,
    PUBLIC,
)
from shared.audit import Actor
from shared.errors import NotFound, ValidationFailed

# -- public service information --------------------------------------------


@use_case(roles=None, owner=PUBLIC)
def guide(gw, actor: Actor, _) -> dict:
    """Service process, contacts and the complaint phone (5.1.5, 9.1.1)."""
    return gw.catalog.guide()


@use_case(roles=None, owner=PUBLIC)
def items(gw, actor: Actor, _) -> list[dict]:
    """The service items of clause 6."""
    return gw.catalog.items()


@use_case(roles=None, owner=CATALOG_ITEM)
def item(gw, actor: Actor, _, *, code: str) -> dict:
    """A service item and the materials it needs."""
    return gw.catalog.item(code)


@use_case(roles=None, owner=PUBLIC)
def front_page(gw, actor: Actor, _) -> dict:
    """The public guide page: the guide and the service items."""
    return {"guide": gw.catalog.guide(), "items": gw.catalog.items()}


@use_case(roles=None, owner=PUBLIC)
def certification_bodies(gw, actor: Actor, _, *, on: str, scope: str = ""):
    """Certification bodies and their scopes on a day (6.4 c); ``scope``
    narrows to those whose scope names it (text or item code)."""
    found = gw.catalog.institutions("certification", on)
    if scope:
        found = [
            body
            for body in found
            if any(
                scope in q["scope_text"] or scope in q["scope_codes"]
                for q in body["qualifications"]
            )
        ]
    return found


@use_case(roles=None, owner=PUBLIC)
def qualified(gw, actor: Actor, _, *, item: str, on: str) -> list[dict]:
    """Who may serve an item on a day (4.1)."""
    return gw.catalog.qualified_institutions(item, on)


# -- upkeep by the platform's administrator --------------------------------


@use_case(roles=ADMINS, owner=PLATFORM)
def register_institution(gw, actor: Actor, _, *, form: dict) -> dict:
    """A partner institution: code, name, kind, contact phone, address."""
    return gw.catalog.register_institution(form, audit_data=web(actor))


@use_case(roles=ADMINS, owner=CATALOG_INSTITUTION)
def grant_qualification(gw, actor: Actor, _, *, institution_id: str, form: dict):
    """A certificate and its scope."""
    return gw.catalog.grant_qualification(institution_id, form, audit_data=web(actor))


@use_case(roles=ADMINS, owner=CATALOG_INSTITUTION)
def change_qualification_status(
    gw, actor: Actor, _, *, institution_id, cert_no, action, effective_on, reason
) -> dict:
    """Suspend, reinstate or revoke a certificate from a date."""
    return gw.catalog.change_qualification_status(
        institution_id, cert_no, action, effective_on, reason, audit_data=web(actor)
    )


@use_case(roles=ADMINS, owner=CATALOG_INSTITUTION)
def renew_qualification(gw, actor: Actor, _, *, institution_id, cert_no, valid_to):
    """A later end of validity."""
    return gw.catalog.renew_qualification(
        institution_id, cert_no, valid_to, audit_data=web(actor)
    )


@use_case(roles=ADMINS, owner=CATALOG_ITEM)
def revise_item(gw, actor: Actor, _, *, code: str, form: dict) -> dict:
    """A new version of a service item."""
    return gw.catalog.revise_item(code, form, audit_data=web(actor))


@use_case(roles=ADMINS, owner=PLATFORM)
def revise_guide(gw, actor: Actor, _, *, form: dict) -> dict:
    """A new version of the public service guide."""
    return gw.catalog.revise_guide(form, audit_data=web(actor))


def catalog_key(institution: str) -> str:
    """The catalog's id of an institution as accounts and demands name it: a
    partner by its catalog id, the front door by its code (seed_institutions)."""
    try:
        return str(UUID(institution))
    except ValueError:
        return str(institution_id(institution))


@use_case(roles=None, owner=PUBLIC)
def institution_names(gw, actor: Actor, _, *, ids: set[str]) -> dict[str, str]:
    """Institutions' names from the catalog (6.4 c); one the catalog does not
    hold is left out, and a page shows its code."""
    named = {}
    for institution in sorted(ids - {""}):
        try:
            found = gw.catalog.institution(catalog_key(institution))
        except (NotFound, ValidationFailed):
            continue
        named[institution] = found["name"]
    return named
