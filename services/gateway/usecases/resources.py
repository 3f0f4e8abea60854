"""Catalog resources: service venues and their equipment (5.1, 5.1.6) and the
expert pool (5.2.2 c).

The catalog service records who acted but checks no ownership itself, so the
gateway does: a venue and its equipment belong to an institution, whose staff
and managers change them (the platform's admin changes any). Where the
service is open to the public (5.1.2) the venues are public; experts are the
platform's pool, kept by the admin.
"""

from __future__ import annotations

from services.gateway.access import ADMINS, STAFF_ROLES
from services.gateway.usecases.common import web
from services.gateway.usecases.operation import use_case
from services.gateway.usecases.owners import (
    EQUIPMENT,
    OWN_INSTITUTION,
    PLATFORM,
    PUBLIC,
    VENUE,
)
from shared.audit import Actor

KEEPERS = STAFF_ROLES | ADMINS  # who keep an institution's resources
PLATFORM_READERS = KEEPERS | {"regulator"}


def owner_of(actor: Actor, named: str) -> str:
    """The institution a new resource belongs to: the caller's own; only the
    admin names another."""
    return named if actor.role in ADMINS else actor.institution


@use_case(roles=None, owner=PUBLIC)
def venues(gw, actor: Actor, _, *, institution: str | None) -> list[dict]:
    """Service windows and sites, public; one institution's if named."""
    return gw.catalog.venues(institution or None)


@use_case(roles=KEEPERS, owner=OWN_INSTITUTION)
def open_venue(gw, actor: Actor, _, *, form: dict) -> dict:
    """A window or site of the caller's institution (the admin names one)."""
    owned = {**form, "institution_id": owner_of(actor, form.get("institution_id", ""))}
    return gw.catalog.open_venue(owned, audit_data=web(actor))


@use_case(roles=KEEPERS, owner=VENUE)
def register_equipment(gw, actor: Actor, venue: dict, *, venue_id: str, form: dict):
    """Equipment of a venue and its check interval (5.1.6)."""
    return gw.catalog.register_equipment(
        {"venue_id": venue_id, **form}, audit_data=web(actor)
    )


@use_case(roles=PLATFORM_READERS, owner=OWN_INSTITUTION)
def overdue_equipment(gw, actor: Actor, _, *, today: str) -> list[dict]:
    """Equipment past its periodic check: an institution's own; the admin and
    the regulator see all."""
    found = gw.catalog.overdue_equipment(today)
    if actor.role in STAFF_ROLES:
        own = {v["id"] for v in gw.catalog.venues(actor.institution)}
        found = [item for item in found if item["venue_id"] in own]
    return found


@use_case(roles=ADMINS, owner=EQUIPMENT)
def record_check(gw, actor, _, *, equipment_id, checked_on, result, note) -> dict:
    """A periodic check, recorded by the admin."""
    return gw.catalog.record_equipment_check(
        equipment_id, checked_on, result, actor.id, note, audit_data=web(actor)
    )


@use_case(roles=ADMINS, owner=PLATFORM)
def register_expert(gw, actor: Actor, _, *, form: dict) -> dict:
    return gw.catalog.register_expert(form, audit_data=web(actor))


@use_case(roles=PLATFORM_READERS, owner=PLATFORM)
def experts(gw, actor: Actor, _, *, item: str, on: str) -> list[dict]:
    """Experts available for an item on a day, best fit first (no contact
    data)."""
    return gw.catalog.experts_for(item, on)


@use_case(roles=KEEPERS, owner=OWN_INSTITUTION)
def register_instrument(gw, actor: Actor, _, *, form: dict) -> dict:
    """A shared instrument of the caller's institution (the admin names one)."""
    owned = {**form, "owner_id": owner_of(actor, form.get("owner_id", ""))}
    return gw.catalog.register_instrument(owned, audit_data=web(actor))
