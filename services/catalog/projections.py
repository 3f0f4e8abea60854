"""Catalog read models: items, institutions and qualifications, as tables."""

from __future__ import annotations

import json

from sqlalchemy import Column, Integer, MetaData, Table, Text
from sqlalchemy.exc import NoResultFound

from services.catalog.domain import Institution, ServiceItem
from services.catalog.experts import Expert
from services.catalog.instruments import Instrument
from services.catalog.venues import Equipment, Venue
from shared.projection import Projection, Writes

metadata = MetaData()
items = Table(
    "catalog_items",
    metadata,
    Column("code", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("materials", Text, nullable=False),
    Column("cycle_days", Integer, nullable=False),
    Column("parent", Text),
    Column("version", Integer, nullable=False),
)
institutions = Table(
    "catalog_institutions",
    metadata,
    Column("id", Text, primary_key=True),
    Column("code", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False),
)
qualifications = Table(
    "catalog_qualifications",
    metadata,
    Column("institution_id", Text, primary_key=True),
    Column("cert_no", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("scope_codes", Text, nullable=False),
    Column("scope_text", Text, nullable=False),
    Column("valid_from", Text, nullable=False),
    Column("valid_to", Text, nullable=False),
    Column("history", Text, nullable=False),
)
# which venues, equipment and experts exist, and whose they are
directory = Table(
    "catalog_directory",
    metadata,
    Column("kind", Text, primary_key=True),
    Column("id", Text, primary_key=True),
    Column("owner", Text),
)
ITEM = items.c
INSTITUTION = institutions.c
QUALIFICATION = qualifications.c
LISTED = directory.c


def _qualification(e) -> dict:
    """The key of the qualification an institution's event is about."""
    return {"institution_id": str(e.originator_id), "cert_no": e.cert_no}


class CatalogView(Projection):
    name = "catalog_view"
    version = 1
    tables = (items, institutions, qualifications, directory)

    def apply(self, event, writes: Writes) -> None:
        handler = self.handlers.get(type(event))
        if handler is not None:
            handler(self, event, writes)

    def _item_defined(self, e, writes: Writes):
        writes.insert(
            items,
            {
                "code": e.code,
                "name": e.name,
                "description": e.description,
                "materials": json.dumps(e.materials, ensure_ascii=False),
                "cycle_days": e.cycle_days,
                "parent": e.parent,
                "version": e.originator_version,
            },
        )

    def _item_revised(self, e, writes: Writes):
        writes.update(
            items,
            {"code": e.code},
            {
                "name": e.name,
                "description": e.description,
                "materials": json.dumps(e.materials, ensure_ascii=False),
                "cycle_days": e.cycle_days,
                "version": e.originator_version,
            },
        )

    def _institution_registered(self, e, writes: Writes):
        writes.insert(
            institutions,
            {
                "id": str(e.originator_id),
                "code": e.code,
                "name": e.name,
                "kind": e.kind,
            },
        )

    def _granted(self, e, writes: Writes):
        writes.insert(
            qualifications,
            {
                "institution_id": str(e.originator_id),
                "cert_no": e.cert_no,
                "kind": e.kind,
                "scope_codes": json.dumps(e.scope_codes),
                "scope_text": e.scope_text,
                "valid_from": e.valid_from,
                "valid_to": e.valid_to,
                "history": "[]",
            },
        )

    def _status_changed(self, e, writes: Writes):
        found = writes.get(qualifications, _qualification(e))
        if found is None:  # as scalar_one() did: it was granted first
            raise NoResultFound(f"no qualification {e.cert_no} of {e.originator_id}")
        history = json.loads(found["history"])
        history.append([e.effective_on, e.status])
        writes.update(
            qualifications, _qualification(e), {"history": json.dumps(history)}
        )

    def _renewed(self, e, writes: Writes):
        writes.update(qualifications, _qualification(e), {"valid_to": e.valid_to})

    def _listed(kind: str, owner: str):
        def handler(self, e, writes: Writes):
            writes.insert(
                directory,
                {
                    "kind": kind,
                    "id": str(e.originator_id),
                    "owner": getattr(e, owner) or "",
                },
            )

        return handler

    handlers = {
        Venue.Opened: _listed("venue", "institution_id"),
        Equipment.Registered: _listed("equipment", "venue_id"),
        Expert.Registered: _listed("expert", "institution_id"),
        Instrument.Registered: _listed("instrument", "owner_id"),
        ServiceItem.Defined: _item_defined,
        ServiceItem.Revised: _item_revised,
        Institution.Registered: _institution_registered,
        Institution.QualificationGranted: _granted,
        Institution.QualificationStatusChanged: _status_changed,
        Institution.QualificationRenewed: _renewed,
    }
