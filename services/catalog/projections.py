"""Catalog read models: items, institutions and qualifications, as tables."""

from __future__ import annotations

import json

from services.catalog.domain import Institution, ServiceItem
from services.catalog.experts import Expert
from services.catalog.instruments import Instrument
from services.catalog.venues import Equipment, Venue
from shared.projection import Projection


class CatalogView(Projection):
    name = "catalog_view"
    table_names = (
        "catalog_items",
        "catalog_institutions",
        "catalog_qualifications",
        "catalog_directory",
    )
    tables = (
        """CREATE TABLE IF NOT EXISTS catalog_items (
            code TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT NOT NULL,
            materials TEXT NOT NULL, cycle_days INTEGER NOT NULL, parent TEXT,
            version INTEGER NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS catalog_institutions (
            id TEXT PRIMARY KEY, code TEXT NOT NULL, name TEXT NOT NULL,
            kind TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS catalog_qualifications (
            institution_id TEXT NOT NULL, cert_no TEXT NOT NULL,
            kind TEXT NOT NULL, scope_codes TEXT NOT NULL, scope_text TEXT NOT NULL,
            valid_from TEXT NOT NULL, valid_to TEXT NOT NULL, history TEXT NOT NULL,
            PRIMARY KEY (institution_id, cert_no))""",
        # which venues, equipment and experts exist, and whose they are
        """CREATE TABLE IF NOT EXISTS catalog_directory (
            kind TEXT NOT NULL, id TEXT NOT NULL, owner TEXT,
            PRIMARY KEY (kind, id))""",
    )

    def apply(self, event, cursor) -> None:
        handler = self.handlers.get(type(event))
        if handler is not None:
            handler(self, event, cursor)

    def _item_defined(self, e, cursor):
        cursor.execute(
            "INSERT INTO catalog_items (code, name, description, materials, "
            "cycle_days, parent, version) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (
                e.code,
                e.name,
                e.description,
                json.dumps(e.materials, ensure_ascii=False),
                e.cycle_days,
                e.parent,
                e.originator_version,
            ),
        )

    def _item_revised(self, e, cursor):
        cursor.execute(
            "UPDATE catalog_items SET name=%s, description=%s, materials=%s, "
            "cycle_days=%s, version=%s WHERE code=%s",
            (
                e.name,
                e.description,
                json.dumps(e.materials, ensure_ascii=False),
                e.cycle_days,
                e.originator_version,
                e.code,
            ),
        )

    def _institution_registered(self, e, cursor):
        cursor.execute(
            "INSERT INTO catalog_institutions (id, code, name, kind) "
            "VALUES (%s, %s, %s, %s)",
            (str(e.originator_id), e.code, e.name, e.kind),
        )

    def _granted(self, e, cursor):
        cursor.execute(
            "INSERT INTO catalog_qualifications (institution_id, cert_no, kind, "
            "scope_codes, scope_text, valid_from, valid_to, history) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (
                str(e.originator_id),
                e.cert_no,
                e.kind,
                json.dumps(e.scope_codes),
                e.scope_text,
                e.valid_from,
                e.valid_to,
                "[]",
            ),
        )

    def _status_changed(self, e, cursor):
        key = (str(e.originator_id), e.cert_no)
        cursor.execute(
            "SELECT history FROM catalog_qualifications "
            "WHERE institution_id=%s AND cert_no=%s",
            key,
        )
        history = json.loads(cursor.fetchone()["history"])
        history.append([e.effective_on, e.status])
        cursor.execute(
            "UPDATE catalog_qualifications SET history=%s "
            "WHERE institution_id=%s AND cert_no=%s",
            (json.dumps(history), *key),
        )

    def _renewed(self, e, cursor):
        cursor.execute(
            "UPDATE catalog_qualifications SET valid_to=%s "
            "WHERE institution_id=%s AND cert_no=%s",
            (e.valid_to, str(e.originator_id), e.cert_no),
        )

    def _listed(kind: str, owner: str):
        def handler(self, e, cursor):
            cursor.execute(
                "INSERT INTO catalog_directory (kind, id, owner) VALUES (%s, %s, %s)",
                (kind, str(e.originator_id), getattr(e, owner) or ""),
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
