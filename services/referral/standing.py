"""Partners' qualifications as catalog reports them (4.1), and what a
suspension or revocation means for the referrals open with that partner.

Why a qualification changed is an admin's own words, which can name a person
(issue 18): since v2 QualificationChanged does not carry them, and a referral
flagged by the change reads them from catalog (``qualification_change``) as
the flag is recorded, for the referral's page and the managers' message;
catalog not answering is ``DependencyUnavailable``, and the message goes back
to the queue. A v1 message flags with the reason it carries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from eventsourcing.application import AggregateNotFoundError
from sqlalchemy import select

from services.referral.domain import PartnerStanding, Referral
from services.referral.projections import ROUTE
from shared import audit
from shared.envelope import Envelope

FLAGGING_CHANGES = ("suspended", "revoked")
# (institution id, the envelope's aggregate version) -> {reason, ...}:
# catalog's ``qualification_change``
ReasonReader = Callable[[str, int], dict]


class StandingMixin:
    """Part of ``ReferralApplication``: the PartnerStanding mirror."""

    def on_qualification_changed(
        self, envelope: Envelope, read_reason: ReasonReader | None = None
    ) -> bool:
        """Catalog's ``QualificationChanged``, once; the reason of a v2
        change from ``read_reason`` if it flags a referral."""
        return self.process(
            envelope, lambda e: self._note_qualification(e, read_reason)
        )

    def _note_qualification(self, envelope: Envelope, read_reason=None) -> list:
        data = envelope.data
        institution = data["institution_id"]
        try:
            standing = self.repository.get(PartnerStanding.create_id(institution))
        except AggregateNotFoundError:
            standing = PartnerStanding(institution_id=institution)
        if not standing.is_newer(data["cert_no"], envelope.position):
            return [standing]  # an older change arriving late: nothing to do
        details = {k: v for k, v in data.items() if k not in ("cert_no", "change")}
        standing.note(data["cert_no"], data["change"], details, envelope.position)
        if data["change"] not in FLAGGING_CHANGES:
            return [standing]
        return [
            standing,
            *self._flag_open_referrals(standing, envelope, read_reason),
        ]

    def _flag_open_referrals(
        self, standing: PartnerStanding, envelope: Envelope, read_reason
    ) -> list:
        """Referrals open with the partner it no longer qualifies for (4.1)."""
        data = envelope.data
        reasons: list[str] = []  # read once, when a referral is flagged

        def reason() -> str:
            if "reason" in data:  # v1 carried it
                return data["reason"]
            if not reasons:
                if read_reason is None:
                    raise ValueError("QualificationChanged v2 needs its reason")
                found = read_reason(data["institution_id"], envelope.aggregate_version)
                reasons.append(found["reason"])
            return reasons[0]

        day = date.fromisoformat(data["effective_on"])
        self.view.catch_up()
        rows = self.kernel.query(
            select(ROUTE.referral_id).where(
                ROUTE.assignee_institution == standing.institution_id
            )
        )
        flagged = []
        for row in rows:
            referral = self.get_existing(row["referral_id"], Referral, "referral")
            if not referral.is_open_with(standing.institution_id):
                continue
            if standing.qualifies(referral.item_code, day):
                continue  # another valid certificate still covers the item
            referral.flag_qualification(
                standing.institution_id,
                data["cert_no"],
                data["change"],
                data["effective_on"],
                reason(),
            )
            # the alert belongs to the referral's case, not to the institution
            context = audit.current().with_correlation(referral.demand_id)
            referral.pending_events[-1].__dict__["audit"] = context.as_dict()
            flagged.append(referral)
        return flagged

    def partner_standing(self, institution_id: str, on_date: str) -> list[dict]:
        """The partner's certificates and their status on a date."""
        day = date.fromisoformat(on_date)
        try:
            standing = self.repository.get(PartnerStanding.create_id(institution_id))
        except AggregateNotFoundError:
            return []
        return [
            {
                "cert_no": q.cert_no,
                "scope_codes": list(q.scope_codes),
                "valid_to": q.valid_to.isoformat(),
                "status": q.status_on(day),
            }
            for q in standing.qualifications()
        ]
