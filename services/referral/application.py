"""Referral application: commands (retried on conflict), who may run them,
and queries. Routing decisions ask catalog (``Catalog`` below) at the moment
they are made; see ``services.referral.matching`` for why and how.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Protocol

from sqlalchemy import func, select

from services.referral import access, sweeps
from services.referral.contract import STATUS_LABELS, WITH_PARTNER
from services.referral.customer import CustomerViewMixin
from services.referral.domain import Referral
from services.referral.matching import (
    expert_assignee,
    rank_candidates,
    require_candidate,
)
from services.referral.opening import OpeningMixin
from services.referral.policies import PolicyCopyMixin
from services.referral.projections import REPORT, ROUTE, ReferralView, routes
from services.referral.qualified import (
    require_qualified_assignee,
    require_unqualified_assignee,
)
from services.referral.reports import new_verification_code, normalise_code
from services.referral.rules import REPORT_STATUS
from services.referral.schemas import ESCALATION_REASONS
from services.referral.scopes import case_scope
from services.referral.standing import StandingMixin
from services.referral.views import summary
from services.referral.watched import WatchedMixin
from shared import calendar
from shared.application import ServiceApplication
from shared.calendar import SHANGHAI, calendar_from_env
from shared.errors import NotFound, ValidationFailed
from shared.projection import ProjectionRunner


class Catalog(Protocol):
    """What referral asks catalog: nameko's RpcProxy or a CatalogApplication."""

    def item(self, code: str) -> dict: ...

    def qualified_institutions(self, item_code: str, on_date: str) -> list[dict]: ...

    def experts_for(self, item_code: str, on_date: str) -> list[dict]: ...


def utcnow() -> datetime:
    """The platform's one clock (``shared.calendar.CLOCK``), in UTC."""
    return calendar.CLOCK().astimezone(UTC)


class ReferralApplication(
    OpeningMixin,
    StandingMixin,
    CustomerViewMixin,
    WatchedMixin,
    PolicyCopyMixin,
    ServiceApplication,
):
    name = "referral"

    def __init__(
        self,
        url=None,
        env=None,
        clock: Callable[[], datetime] | None = None,
        new_code: Callable[[], str] | None = None,
    ):
        super().__init__(url, env)
        self.view = ProjectionRunner(self, ReferralView())
        self.calendar = calendar_from_env()
        self.clock = clock or utcnow
        self.new_code = new_code or new_verification_code

    def today(self) -> date:
        return self.clock().astimezone(SHANGHAI).date()

    # -- candidates (4.1) ----------------------------------------------------

    def candidates(self, item_code: str, catalog: Catalog, exclude=()) -> list[dict]:
        rows = catalog.qualified_institutions(item_code, self.today().isoformat())
        load, record = self._partner_figures()
        return rank_candidates(rows, item_code, load, record, exclude)

    def _partner_figures(self) -> tuple[dict, dict]:
        """Open load and (on time, completed) per institution, from the view."""
        self.view.catch_up()
        institution = ROUTE.assignee_institution
        load = {
            r["institution"]: int(r["n"])
            for r in self.kernel.query(
                select(institution.label("institution"), func.count().label("n"))
                .where(ROUTE.status.in_(WITH_PARTNER))
                .group_by(institution)
            )
        }
        record = {
            r["institution"]: (int(r["on_time"]), int(r["n"]))
            for r in self.kernel.query(
                select(
                    institution.label("institution"),
                    func.sum(ROUTE.on_time).label("on_time"),
                    func.count().label("n"),
                )
                .where(ROUTE.on_time.is_not(None))
                .group_by(institution)
            )
        }
        return load, record

    # -- commands ----------------------------------------------------------------

    def _referral(self, referral_id) -> Referral:
        return self.get_existing(referral_id, Referral, "referral")

    def _change(self, referral_id, side: str, command) -> dict:
        """Load, check the caller's side, apply, save; retried on conflict."""

        def run():
            referral = self._referral(referral_id)
            actor = access.require_side(referral, side)
            command(referral, actor)
            with case_scope(referral.demand_id):
                self.save(referral)
            return referral

        referral = self.retry_on_conflict(run)
        return summary(referral, access.sees_all(referral))

    def match(self, referral_id, catalog: Catalog) -> dict:
        """Match again (nothing was qualified at first, or after returns)."""

        def command(referral, actor):
            referral.match(self.candidates(referral.item_code, catalog, referral.tried))

        return self._change(referral_id, access.ORIGIN, command)

    def pick(self, referral_id, institution_id, reason, catalog: Catalog) -> dict:
        """A staff member chooses another qualified candidate, never another."""

        def command(referral, actor):
            candidates = self.candidates(referral.item_code, catalog)
            chosen = require_candidate(candidates, institution_id, "institution_id")
            referral.pick(chosen, candidates, reason)

        return self._change(referral_id, access.ORIGIN, command)

    def refer_to_expert(self, referral_id, expert_id, reason, catalog) -> dict:
        """Coordinate an available expert for the item instead (5.2.2 c)."""

        def command(referral, actor):
            on = self.today().isoformat()
            experts = catalog.experts_for(referral.item_code, on)
            chosen = next((e for e in experts if e["id"] == expert_id), None)
            if chosen is None:
                raise ValidationFailed.single(
                    "expert_id", "该专家不具备此服务事项的专长或当日不可安排"
                )
            referral.pick(expert_assignee(chosen), [], reason)

        return self._change(referral_id, access.ORIGIN, command)

    def _qualified(self, referral, catalog: Catalog, step: str) -> None:
        """4.1 at this step, on today's date (see ``services.referral.qualified``)."""
        require_qualified_assignee(referral, catalog, self.today().isoformat(), step)

    def send(self, referral_id, catalog: Catalog) -> dict:
        def command(referral, actor):
            if referral.status == "matched":
                self._qualified(referral, catalog, "send")
                self.under_policy(referral)
            referral.send(self.clock(), self.calendar)

        return self._change(referral_id, access.ORIGIN, command)

    def accept(self, referral_id, catalog: Catalog) -> dict:
        def command(referral, actor):
            if referral.status == "sent":
                self._qualified(referral, catalog, "accept")
            referral.accept(self.clock(), self.calendar)

        return self._change(referral_id, access.PARTNER, command)

    def reroute_unqualified(self, referral_id, reason, catalog: Catalog) -> dict:
        """The manager withdraws a referral from a partner that lost its
        qualification for the item (4.1): it goes on to the next qualified
        candidate, or, with none left, waits for the manager's ruling."""

        def command(referral, actor):
            require_unqualified_assignee(referral, catalog, self.today().isoformat())
            referral.withdraw_unqualified(reason)
            self.under_policy(referral)

        self._change(referral_id, access.MANAGER, command)
        self.reroute(referral_id, catalog)
        return self.referral(referral_id)

    def decline(self, referral_id, reason, catalog: Catalog) -> dict:
        """Returned with a reason; the platform re-routes to the next candidate."""
        result = self._change(
            referral_id, access.PARTNER, lambda r, a: r.decline(reason)
        )
        self.reroute(referral_id, catalog)
        return result

    def reroute(self, referral_id, catalog: Catalog) -> str:
        """A returned referral goes on to the next untried qualified candidate;
        with none left the manager is alerted to rule (once per return)."""
        return sweeps.reroute(self, referral_id, catalog)

    def rule_responsible(self, referral_id, institution_id, reason, catalog) -> dict:
        """The manager rules the responsible institution; it is sent at once."""

        def command(referral, actor):
            candidates = self.candidates(referral.item_code, catalog)
            chosen = require_candidate(candidates, institution_id, "institution_id")
            untried = any(c["id"] not in referral.tried for c in candidates)
            referral.rule(chosen, reason, untried_left=untried)
            self.under_policy(referral)
            referral.send(self.clock(), self.calendar)

        return self._change(referral_id, access.MANAGER, command)

    def report_progress(self, referral_id, stage, note, catalog: Catalog) -> dict:
        def command(referral, actor):
            if referral.status in ("accepted", "in_progress"):
                self._qualified(referral, catalog, "progress")
            referral.report_progress(stage, note)

        return self._change(referral_id, access.PARTNER, command)

    def complete(self, referral_id, report: dict, catalog: Catalog) -> dict:
        def command(referral, actor):
            if referral.status in ("accepted", "in_progress"):
                self._qualified(referral, catalog, "complete")
            referral.complete(report, self.clock(), self.new_code())

        return self._change(referral_id, access.PARTNER, command)

    def deliver_feedback(self, referral_id, summary_text: str) -> dict:
        return self._change(
            referral_id, access.PARTNER, lambda r, a: r.deliver_feedback(summary_text)
        )

    def replace_report(self, referral_id, report: dict) -> dict:
        return self._change(
            referral_id,
            access.PARTNER,
            lambda r, a: r.replace_report(report, self.clock(), self.new_code()),
        )

    def revoke_report(self, referral_id, reason) -> dict:
        return self._change(
            referral_id, access.PARTNER, lambda r, a: r.revoke_report(reason)
        )

    def hold(self, referral_id, reason) -> dict:
        return self._change(referral_id, access.ORIGIN, lambda r, a: r.hold(reason))

    def resume(self, referral_id) -> dict:
        return self._change(referral_id, access.ORIGIN, lambda r, a: r.resume())

    def cancel(self, referral_id, reason) -> dict:
        return self._change(referral_id, access.ORIGIN, lambda r, a: r.cancel(reason))

    def fail(self, referral_id, reason) -> dict:
        return self._change(referral_id, access.PARTNER, lambda r, a: r.fail(reason))

    def request_extension(self, referral_id, stage, days, reason) -> dict:
        return self._change(
            referral_id,
            access.PARTNER,
            lambda r, a: r.request_extension(stage, days, reason, self.clock()),
        )

    def decide_extension(self, referral_id, approve: bool, note="") -> dict:
        return self._change(
            referral_id,
            access.MANAGER,
            lambda r, a: r.decide_extension(approve, note, self.calendar),
        )

    # -- deadlines ------------------------------------------------------------

    def escalate_all_overdue(self, catalog: Catalog, now=None) -> dict:
        """Sweep every open referral; returns {referral id: stages escalated}."""
        return sweeps.sweep_all(self, catalog, now or self.clock())

    def escalate_overdue(self, referral_id, catalog: Catalog, now=None) -> list:
        return sweeps.sweep_one(self, referral_id, catalog, now or self.clock())

    # -- queries --------------------------------------------------------------

    def referral(self, referral_id) -> dict:
        return self._shown(self._referral(referral_id))

    def _shown(self, referral: Referral) -> dict:
        """The referral as the caller may see it (NotFound when not at all)."""
        access.require_visible(referral)
        return summary(referral, access.sees_all(referral))

    def feedback_summary(self, referral_id) -> str:
        """The partner's summary of its result (8.3.5), for intake to record on
        the demand: the published ReferralFeedback does not carry it."""
        feedback = self._referral(referral_id).feedback
        if not feedback:
            raise NotFound("referral feedback")
        return feedback["summary"]

    def escalation_detail(self, referral_id, version: int) -> dict:
        """``{referral_id, reason, cert_no, detail}`` of the referral's
        escalation at ``version`` (4.1, 9.4), for notify's message to the
        managers: a qualification flag's detail is the certificate and why
        catalog's admin changed it, which the published ReferralEscalated
        (v2) does not carry (issue 18); a deadline's escalation has none."""
        referral = self._referral(referral_id)
        event = self.event_at(
            referral.id,
            version,
            Referral.QualificationFlagged | Referral.Escalated,
            "escalation",
        )
        if isinstance(event, Referral.QualificationFlagged):
            return {
                "referral_id": str(referral.id),
                "reason": f"qualification_{event.change}",
                "cert_no": event.cert_no,
                "detail": f"{event.cert_no}: {event.reason}",
            }
        return {
            "referral_id": str(referral.id),
            "reason": ESCALATION_REASONS[event.stage],
            "cert_no": "",
            "detail": "",
        }

    def referrals_of(self, demand_id: str, item_codes: list[str]):
        """The referrals opened for a demand's items (an item has at most one,
        its id derived from both), in the items' order."""
        for code in item_codes:
            try:
                yield self._referral(Referral.create_id(demand_id, code))
            except NotFound:
                continue

    def referrals_for(self, demand_id: str, item_codes: list[str]) -> list[dict]:
        """The referrals of a demand's items (the gateway's progress page)."""
        return [
            {
                "id": str(referral.id),
                "demand_id": referral.demand_id,
                "item_code": referral.item_code,
                "state": referral.status,
                "state_label": STATUS_LABELS[referral.status],
                "opened_at": referral.created_on.isoformat(),
            }
            for referral in self.referrals_of(demand_id, item_codes)
        ]

    def inbox(self, institution_id: str) -> list[dict]:
        """The referrals addressed to the caller's institution (9, security)."""
        access.require_own_institution(institution_id)
        self.view.catch_up()
        rows = self.kernel.query(
            select(ROUTE.referral_id)
            .where(ROUTE.assignee_institution == str(institution_id))
            .order_by(ROUTE.referral_id)
        )
        found = [summary(self._referral(r["referral_id"]), False) for r in rows]
        return sorted(found, key=lambda r: (r["sent_at"], r["id"]))

    def verify_report(self, code) -> dict:
        """For anyone holding the code: is the report valid, replaced, revoked?"""
        normal = normalise_code(code)
        if normal is None:
            raise NotFound("report")
        self.view.catch_up()
        rows = self.kernel.query(
            select(
                REPORT.report_no,
                REPORT.issued_on,
                REPORT.sha256,
                REPORT.status,
                ROUTE.item_code,
            )
            .join(routes, ROUTE.referral_id == REPORT.referral_id)
            .where(REPORT.code == normal)
        )
        if not rows:
            raise NotFound("report")
        row = rows[0]
        return {**row, "status_label": REPORT_STATUS[row["status"]]}
