"""Catalog application: service items, institutions and qualifications (4.1, 6)."""

from __future__ import annotations

import json
from datetime import date

from eventsourcing.application import AggregateNotFoundError
from sqlalchemy import select

from services.catalog.domain import (
    INSTITUTION_KINDS,
    QUALIFICATION_KINDS,
    Institution,
    ServiceItem,
    item_id,
)
from services.catalog.guide import DEFAULTS, GUIDE_ID, ServiceGuide
from services.catalog.projections import (
    INSTITUTION,
    ITEM,
    QUALIFICATION,
    CatalogView,
    institutions,
    items,
    qualifications,
)
from services.catalog.rules import code_key, known_fields
from services.catalog.seed_institutions import (
    SEED_INSTITUTIONS,
    InstitutionSeed,
    demo_institutions,
)
from services.catalog.seed_items import SEED_ITEMS, parent_code
from shared import audit, calendar, config
from shared.application import ServiceApplication
from shared.errors import ConflictError, NotFound, ValidationFailed
from shared.projection import ProjectionRunner
from shared.qualification import STATUS_LABELS, QualificationView
from shared.validation import require_day

STATUS_ACTIONS = {"suspend": "suspend", "reinstate": "reinstate", "revoke": "revoke"}


class CatalogApplication(ServiceApplication):
    name = "catalog"

    def __init__(self, url: str | None = None, env: dict | None = None):
        super().__init__(url, env)
        self.view = ProjectionRunner(self, CatalogView())

    # -- service items (clause 6) -----------------------------------------

    def start(self) -> None:
        """On service start: seed clause-6 items, the public guide, the
        front door's institution and, for the demo, the demo province."""
        self.seed_items()
        self.seed_guide()
        self.seed_institutions()
        self.seed_demo_province(config.get("QI_SEED_ACCOUNTS"))

    def seed_institutions(self) -> None:
        """Register the seeded institutions not yet registered (by code)."""
        for seed in SEED_INSTITUTIONS:
            try:
                self.repository.get(Institution.create_id(seed.code))
            except AggregateNotFoundError:
                institution = Institution.register(
                    seed.code, seed.name, seed.kind, seed.contact_phone, seed.address
                )
                # False: another instance registered it meanwhile
                self.save_if_new(institution)

    def seed_demo_province(self, path: str | None) -> int:
        """Register the institutions listed in the seed file at ``path`` (the
        demo accounts' institutions) and grant their qualifications, each
        only if not there yet (by code, by certificate number); returns how
        many institutions changed. Stored as done by the seed, checked as an
        admin's registration is."""
        seeder = audit.Actor(id="seed", role="system")
        changed = 0
        with audit.audit_scope(audit.AuditContext(actor=seeder, channel="internal")):
            for seed in demo_institutions(path):
                try:
                    changed += self._seed_institution(seed)
                except ValidationFailed as exc:
                    raise ValueError(
                        f"{path}: institution {seed.code}: {exc}"
                    ) from None
        return changed

    def _seed_institution(self, seed: InstitutionSeed, attempts: int = 5) -> int:
        for _ in range(attempts):
            try:
                institution = self.repository.get(Institution.create_id(seed.code))
                new = False
            except AggregateNotFoundError:
                institution = Institution.register(
                    seed.code, seed.name, seed.kind, seed.contact_phone, seed.address
                )
                new = True
            missing = [
                q
                for q in seed.qualifications
                if q.cert_no not in institution.qualifications
            ]
            for q in missing:
                institution.grant(
                    q.kind,
                    q.cert_no,
                    q.scope_codes,
                    q.scope_text,
                    q.valid_from,
                    q.valid_to,
                )
            if not new and not missing:
                return 0
            # False: another instance seeded it meanwhile; look again
            if self.save_if_new(institution):
                return 1
        raise ConflictError(f"seeding institution {seed.code} kept conflicting")

    def seed_guide(self) -> None:
        try:
            self.repository.get(GUIDE_ID)
        except AggregateNotFoundError:
            # False: another instance published it meanwhile
            self.save_if_new(ServiceGuide(**DEFAULTS))

    def guide(self) -> dict:
        return self.repository.get(GUIDE_ID).as_dict()

    def revise_guide(self, changes: dict) -> dict:
        def revise():
            guide = self.repository.get(GUIDE_ID)
            guide.revise(changes)
            self.save(guide)
            return guide.as_dict()

        return self.retry_on_conflict(revise)

    def seed_items(self) -> int:
        """Define every clause-6 item not yet defined; returns how many."""
        new = []
        for seed in SEED_ITEMS:
            try:
                self.repository.get(item_id(seed.code))
            except AggregateNotFoundError:
                new.append(
                    ServiceItem(
                        code=seed.code,
                        name=seed.name,
                        description=seed.description,
                        materials=list(seed.materials),
                        cycle_days=seed.cycle_days,
                        parent=parent_code(seed.code),
                    )
                )
        if new and not self.save_if_new(*new):
            return self.seed_items()  # another instance seeded some meanwhile
        return len(new)

    def _item(self, code: str) -> ServiceItem:
        try:
            return self.repository.get(item_id(str(code)))
        except AggregateNotFoundError:
            raise NotFound(f"service item {code}") from None

    def revise_item(self, code: str, form: dict) -> dict:
        """A platform admin edits an item; each edit is a new version."""
        fields = ("name", "description", "materials", "cycle_days")
        known_fields(form, fields)

        def revise():
            item = self._item(code)
            current = {f: getattr(item, f) for f in fields}
            item.revise(**{**current, **form})
            self.save(item)
            return item.version

        self.retry_on_conflict(revise)
        return self.item(code)

    def items(self) -> list[dict]:
        self.view.catch_up()
        rows = self.kernel.query(select(items))
        return sorted(
            (self._item_row(r) for r in rows), key=lambda r: code_key(r["code"])
        )

    def item(self, code: str) -> dict:
        self.view.catch_up()
        rows = self.kernel.query(select(items).where(ITEM.code == code))
        if not rows:
            raise NotFound(f"service item {code}")
        return self._item_row(rows[0])

    @staticmethod
    def _item_row(row: dict) -> dict:
        return {**row, "materials": json.loads(row["materials"])}

    # -- institutions and qualifications (4.1) ----------------------------

    def register_institution(self, form: dict) -> dict:
        form = known_fields(form, ("code", "name", "kind", "contact_phone", "address"))
        institution = Institution.register(
            form.get("code"),
            form.get("name"),
            form.get("kind"),
            form.get("contact_phone", ""),
            form.get("address", ""),
        )
        if not self.save_if_new(institution):
            raise ValidationFailed.single("code", "该机构代码已登记")
        return self.institution(str(institution.id))

    def _institution(self, institution: str) -> Institution:
        return self.get_existing(institution, Institution, "institution")

    def _change(self, institution: str, change) -> dict:
        def command():
            aggregate = self._institution(institution)
            change(aggregate)
            self.save(aggregate)

        self.retry_on_conflict(command)
        return self.institution(institution)

    def grant_qualification(self, institution: str, form: dict) -> dict:
        form = known_fields(
            form,
            ("kind", "cert_no", "scope_codes", "scope_text", "valid_from", "valid_to"),
        )
        return self._change(
            institution,
            lambda i: i.grant(
                form.get("kind"),
                form.get("cert_no"),
                form.get("scope_codes"),
                form.get("scope_text", ""),
                form.get("valid_from"),
                form.get("valid_to"),
            ),
        )

    def change_qualification_status(
        self, institution: str, cert_no: str, action: str, effective_on, reason: str
    ) -> dict:
        """Suspend, reinstate or revoke, effective on a date (4.1)."""
        if action not in STATUS_ACTIONS:
            raise ValidationFailed.single("action", "应为 suspend、reinstate 或 revoke")
        return self._change(
            institution,
            lambda i: getattr(i, STATUS_ACTIONS[action])(cert_no, effective_on, reason),
        )

    def renew_qualification(self, institution: str, cert_no: str, valid_to) -> dict:
        return self._change(institution, lambda i: i.renew(cert_no, valid_to))

    def qualification_change(self, institution: str, version) -> dict:
        """``{institution_id, cert_no, change, effective_on, reason}`` of the
        suspension, reinstatement or revocation (4.1) recorded by the
        institution's event at ``version``: the admin's reason, which the
        published QualificationChanged (v2) does not carry (issue 18), for a
        service that shows it to a person (referral's flag on a referral)."""
        found = self._institution(institution)
        changed = self.event_at(
            found.id,
            version,
            Institution.QualificationStatusChanged,
            "qualification change",
        )
        return {
            "institution_id": str(found.id),
            "cert_no": changed.cert_no,
            "change": changed.status,
            "effective_on": changed.effective_on,
            "reason": changed.reason,
        }

    def institution(self, institution: str, on_date=None) -> dict:
        found = self._institution(institution)
        day = require_day(on_date, "on_date") if on_date else calendar.today()
        return {
            "id": str(found.id),
            "code": found.code,
            "name": found.name,
            "kind": found.kind,
            "kind_label": INSTITUTION_KINDS[found.kind],
            "contact_phone": found.contact_phone,
            "address": found.address,
            "qualifications": [
                _qualification_row(QualificationView.from_state(q), day)
                for q in found.qualifications.values()
            ],
            "version": found.version,
        }

    def institutions(self, kind: str | None = None, on_date=None) -> list[dict]:
        """Institutions (of one kind, e.g. certification bodies: 6.4 c) with
        their qualifications and scopes as they stand on a day."""
        if kind is not None and kind not in INSTITUTION_KINDS:
            raise ValidationFailed.single(
                "kind", "应为：" + "、".join(INSTITUTION_KINDS)
            )
        self.view.catch_up()
        query = select(INSTITUTION.id).order_by(INSTITUTION.name)
        if kind is not None:
            query = query.where(INSTITUTION.kind == kind)
        rows = self.kernel.query(query)
        return [self.institution(row["id"], on_date) for row in rows]

    def qualified_institutions(self, item_code: str, on_date) -> list[dict]:
        """Institutions whose qualification covers ``item_code`` on ``on_date``.

        Clause 4.1: expired, suspended, revoked and not-yet-valid
        qualifications never count; both ends of a validity range do.
        """
        day = require_day(on_date, "on_date")
        self.view.catch_up()
        rows = self.kernel.query(
            select(
                qualifications,
                INSTITUTION.code.label("institution_code"),
                INSTITUTION.name.label("institution_name"),
                INSTITUTION.kind.label("institution_kind"),
            )
            .join(institutions, INSTITUTION.id == QUALIFICATION.institution_id)
            .where(
                QUALIFICATION.valid_from <= day.isoformat(),
                QUALIFICATION.valid_to >= day.isoformat(),
            )
            .order_by(INSTITUTION.name, QUALIFICATION.cert_no)
        )
        found = []
        for row in rows:
            view = QualificationView.from_state(
                {
                    **row,
                    "scope_codes": json.loads(row["scope_codes"]),
                    "history": json.loads(row["history"]),
                }
            )
            if view.qualifies(item_code, day):
                found.append(
                    {
                        "institution_id": row["institution_id"],
                        "institution_code": row["institution_code"],
                        "institution_name": row["institution_name"],
                        "institution_kind": row["institution_kind"],
                        **_qualification_row(view, day),
                    }
                )
        return found


def _qualification_row(view: QualificationView, day: date) -> dict:
    status = view.status_on(day)
    return {
        "cert_no": view.cert_no,
        "kind": view.kind,
        "kind_label": QUALIFICATION_KINDS.get(view.kind, view.kind),
        "scope_codes": list(view.scope_codes),
        "scope_text": view.scope_text,
        "valid_from": view.valid_from.isoformat(),
        "valid_to": view.valid_to.isoformat(),
        "status": status,
        "status_label": STATUS_LABELS[status],
    }
