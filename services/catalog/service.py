"""Catalog's nameko entrypoints: thin, each one call into the application."""

from __future__ import annotations

from datetime import date

from nameko.rpc import rpc

from services.catalog import policy, resources, sharing
from services.catalog.application import CatalogApplication
from services.catalog.schemas import to_envelope
from shared import calendar
from shared.errors import ConflictError, NotFound, ValidationFailed
from shared.mixins import CaseHistory, Pingable
from shared.providers import Application, OutboxRelayRunner
from shared.validation import aware, require_day

EXPECTED = (ValidationFailed, NotFound, ConflictError)


class CatalogService(Pingable, CaseHistory):
    name = "catalog"

    app: CatalogApplication = Application(
        CatalogApplication, on_start=CatalogApplication.start
    )
    relay = OutboxRelayRunner(to_envelope)

    @rpc(expected_exceptions=EXPECTED)
    def guide(self):
        return self.app.guide()

    @rpc(expected_exceptions=EXPECTED)
    def revise_guide(self, changes, audit_data=None):
        return self.app.revise_guide(changes)

    # -- service policy: the limits, per institution (one place) -------------

    @rpc(expected_exceptions=EXPECTED)
    def policy(self, institution, as_of=None):
        """The limits in force now, or at ``as_of`` (ISO, with offset)."""
        moment = aware(as_of, "as_of") if as_of else None
        return policy.policy_of(self.app, institution, moment)

    @rpc(expected_exceptions=EXPECTED)
    def described_policy(self, institution):
        """The policy with each limit's label, range, default and basis."""
        return policy.described(policy.policy_of(self.app, institution))

    @rpc(expected_exceptions=EXPECTED)
    def change_policy(self, institution, changes, reason, audit_data=None):
        return policy.change_policy(self.app, institution, changes, reason)

    @rpc(expected_exceptions=EXPECTED)
    def items(self):
        return self.app.items()

    @rpc(expected_exceptions=EXPECTED)
    def item(self, code):
        return self.app.item(code)

    @rpc(expected_exceptions=EXPECTED)
    def revise_item(self, code, form, audit_data=None):
        return self.app.revise_item(code, form)

    @rpc(expected_exceptions=EXPECTED)
    def register_institution(self, form, audit_data=None):
        return self.app.register_institution(form)

    @rpc(expected_exceptions=EXPECTED)
    def grant_qualification(self, institution_id, form, audit_data=None):
        return self.app.grant_qualification(institution_id, form)

    @rpc(expected_exceptions=EXPECTED)
    def change_qualification_status(
        self, institution_id, cert_no, action, effective_on, reason, audit_data=None
    ):
        return self.app.change_qualification_status(
            institution_id, cert_no, action, effective_on, reason
        )

    @rpc(expected_exceptions=EXPECTED)
    def renew_qualification(self, institution_id, cert_no, valid_to, audit_data=None):
        return self.app.renew_qualification(institution_id, cert_no, valid_to)

    @rpc(expected_exceptions=EXPECTED)
    def qualification_change(self, institution_id, version):
        """For referral, when a change flags a referral open with the
        institution (4.1): the admin's reason, which QualificationChanged v2
        does not carry (issue 18). nameko RPC carries no caller identity: any
        client of the broker that knows an institution's id could read it."""
        return self.app.qualification_change(institution_id, version)

    @rpc(expected_exceptions=EXPECTED)
    def institution(self, institution_id, on_date=None):
        return self.app.institution(institution_id, on_date)

    @rpc(expected_exceptions=EXPECTED)
    def institutions(self, kind=None, on_date=None):
        return self.app.institutions(kind, on_date)

    @rpc(expected_exceptions=EXPECTED)
    def qualified_institutions(self, item_code, on_date):
        return self.app.qualified_institutions(item_code, on_date)

    # -- large-instrument sharing (6.7) ----------------------------------

    @rpc(expected_exceptions=EXPECTED)
    def instrument(self, instrument_id):
        return sharing.get_instrument(self.app, instrument_id)

    @rpc(expected_exceptions=EXPECTED)
    def instruments(self, owner_id=None):
        return sharing.list_instruments(self.app, owner_id)

    @rpc(expected_exceptions=EXPECTED)
    def rebuild_view(self, audit_data=None):
        """Ops: rebuild the read model from the stored events; instruments
        registered before the catalog listed them are listed from then on."""
        return self.app.view.rebuild()

    @rpc(expected_exceptions=EXPECTED)
    def register_instrument(self, form, audit_data=None):
        return sharing.register_instrument(self.app, form)

    @rpc(expected_exceptions=EXPECTED)
    def open_instrument_slots(self, instrument_id, slots, audit_data=None):
        return sharing.open_slots(self.app, instrument_id, slots)

    @rpc(expected_exceptions=EXPECTED)
    def book_instrument(
        self, instrument_id, booking_id, requester, start, end, audit_data=None
    ):
        return sharing.book(self.app, instrument_id, booking_id, requester, start, end)

    @rpc(expected_exceptions=EXPECTED)
    def booking_action(self, instrument_id, action, booking_id, args, audit_data=None):
        return sharing.booking_action(
            self.app, instrument_id, action, booking_id, **(args or {})
        )

    @rpc(expected_exceptions=EXPECTED)
    def record_no_shows(self, instrument_id, now=None, audit_data=None):
        return sharing.record_no_shows(self.app, instrument_id, now)

    @rpc(expected_exceptions=EXPECTED)
    def instrument_utilisation(self, instrument_id, start, end):
        return sharing.utilisation(self.app, instrument_id, start, end)

    # -- fee quotes (5.3.1.5) ---------------------------------------------

    @rpc(expected_exceptions=EXPECTED)
    def draft_quote(self, demand_id, form, audit_data=None):
        return sharing.draft_quote(self.app, demand_id, form)

    @rpc(expected_exceptions=EXPECTED)
    def change_quote(self, quote_id, action, args=(), audit_data=None):
        return sharing.change_quote(self.app, quote_id, action, *args)

    @rpc(expected_exceptions=EXPECTED)
    def quote(self, quote_id):
        return sharing.get_quote(self.app, quote_id)

    # -- venues, equipment, experts (5.1, 5.1.6, 5.2.2 c) -----------------

    @rpc(expected_exceptions=EXPECTED)
    def open_venue(self, form, audit_data=None):
        return resources.open_venue(self.app, form)

    @rpc(expected_exceptions=EXPECTED)
    def venues(self, institution_id=None):
        return resources.venues(self.app, institution_id)

    @rpc(expected_exceptions=EXPECTED)
    def register_equipment(self, form, audit_data=None):
        return resources.register_equipment(self.app, form)

    @rpc(expected_exceptions=EXPECTED)
    def record_equipment_check(
        self, equipment_id, checked_on, result, by, note="", audit_data=None
    ):
        return resources.record_check(
            self.app, equipment_id, checked_on, result, by, note
        )

    @rpc(expected_exceptions=EXPECTED)
    def overdue_equipment(self, today=None):
        day = require_day(today, "today") if today else calendar.today()
        return resources.overdue_equipment(self.app, day)

    @rpc(expected_exceptions=EXPECTED)
    def register_expert(self, form, audit_data=None):
        return resources.register_expert(self.app, form)

    @rpc(expected_exceptions=EXPECTED)
    def experts_for(self, item_code, on_date):
        return resources.experts_for(self.app, item_code, date.fromisoformat(on_date))
