"""Use cases of venues and their equipment (5.1, 5.1.6) and experts (5.2.2 c).

The directory read model lists which venues, equipment and experts exist; the
rules themselves (opening hours, overdue checks, availability) stay in the
aggregates, loaded by id.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from sqlalchemy import select

from services.catalog.experts import Expert, match_experts
from services.catalog.projections import LISTED
from services.catalog.rules import known_fields
from services.catalog.venues import Equipment, Venue, overdue
from shared import calendar
from shared.application import ServiceApplication
from shared.errors import ValidationFailed


def _load(app: ServiceApplication, kind: type, object_id: object):
    return app.get_existing(object_id, kind, kind.__name__.lower())


def _listed(app, kind: str, owner: str | None = None) -> list[UUID]:
    app.view.catch_up()
    query = select(LISTED.id).where(LISTED.kind == kind).order_by(LISTED.id)
    if owner is not None:
        query = query.where(LISTED.owner == owner)
    return [UUID(row["id"]) for row in app.kernel.query(query)]


def _save_new(app: ServiceApplication, aggregate, field: str, message: str):
    if not app.save_if_new(aggregate):
        raise ValidationFailed.single(field, message)
    return aggregate


# -- venues ----------------------------------------------------------------


def venue_summary(venue: Venue) -> dict:
    return {
        "id": str(venue.id),
        "institution_id": venue.institution_id,
        "kind": venue.kind,
        "name": venue.name,
        "address": venue.address,
        "hours": venue.hours,
        "accepts": list(venue.accepts),
        "contact_phone": venue.contact_phone,
        "closed_on": venue.closed_on.isoformat() if venue.closed_on else None,
    }


def open_venue(app: ServiceApplication, form: dict) -> dict:
    fields = (
        "institution_id",
        "kind",
        "name",
        "address",
        "hours",
        "accepts",
        "contact_phone",
    )
    form = known_fields(form, fields)
    venue = Venue.open(**{f: form.get(f) for f in fields})
    _save_new(app, venue, "name", "该机构已有同名场所")
    return venue_summary(venue)


def venues(app: ServiceApplication, institution_id: str | None = None) -> list[dict]:
    return [
        venue_summary(_load(app, Venue, i))
        for i in _listed(app, "venue", institution_id)
    ]


# -- equipment (5.1.6, 5.1.7) ----------------------------------------------


def equipment_summary(item: Equipment, today: date) -> dict:
    return {
        "id": str(item.id),
        "venue_id": item.venue_id,
        "name": item.name,
        "category": item.category,
        "asset_no": item.asset_no,
        "next_due": item.next_due().isoformat(),
        "overdue": item.is_overdue(today),
        "condition": item.condition,
    }


def register_equipment(app: ServiceApplication, form: dict) -> dict:
    fields = (
        "venue_id",
        "name",
        "category",
        "asset_no",
        "interval_days",
        "last_checked",
    )
    form = known_fields(form, fields)
    _load(app, Venue, form.get("venue_id"))
    item = Equipment.register(**{f: form.get(f) for f in fields})
    _save_new(app, item, "asset_no", "该场所已登记这个资产编号")
    return equipment_summary(item, calendar.today())


def record_check(app, equipment_id, checked_on, result, by, note="") -> dict:
    def command():
        item = _load(app, Equipment, equipment_id)
        item.check(checked_on, result, by, note)
        app.save(item)
        return item

    return equipment_summary(app.retry_on_conflict(command), calendar.today())


def overdue_equipment(app: ServiceApplication, today: date) -> list[dict]:
    """Equipment whose periodic check is past due, longest overdue first."""
    items = [_load(app, Equipment, i) for i in _listed(app, "equipment")]
    return [equipment_summary(i, today) for i in overdue(items, today)]


# -- experts (5.2.2 c) -----------------------------------------------------


def expert_summary(expert: Expert) -> dict:
    return {
        "id": str(expert.id),
        "name": expert.name,
        "institution_id": expert.institution_id,
        "title": expert.title,
        "fields": list(expert.fields),
        "specialities": list(expert.specialities),
    }


def register_expert(app: ServiceApplication, form: dict) -> dict:
    fields = (
        "name",
        "fields",
        "title",
        "phone",
        "email",
        "specialities",
        "institution_id",
    )
    form = known_fields(form, fields)
    expert = Expert.register(**{f: form[f] for f in fields if f in form})
    app.save(expert)
    return expert_summary(expert)


def experts_for(app: ServiceApplication, item_code: str, day: date) -> list[dict]:
    """Available experts for an item on a day, best fit first."""
    experts = [_load(app, Expert, i) for i in _listed(app, "expert")]
    return [expert_summary(e) for e in match_experts(experts, item_code, day)]
