"""Referral application: commands (retried on conflict), who may run them,
and queries. Routing decisions ask catalog (``Catalog`` below) at the moment
they are made; see ``services.referral.matching`` for why and how.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Protocol

from services.referral import access, sweeps
from services.referral.domain import Referral
from services.referral.matching import (
    expert_assignee,
    rank_candidates,
    require_candidate,
)
from services.referral.opening import OpeningMixin
from services.referral.projections import ReferralView
from services.referral.reports import new_verification_code, normalise_code
from services.referral.rules import (
    REPORT_STATUS,
    STATUS_LABELS,
    WITH_PARTNER,
)
from services.referral.standing import StandingMixin
from services.referral.views import summary
from shared import audit
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
    return datetime.now(UTC)


@contextmanager
def case_scope(case_id: str):
    """Every referral event carries its case (the demand id) as correlation."""
    with audit.audit_scope(audit.current().with_correlation(case_id)):
        yield


@contextmanager
def platform_scope():
    """What the platform does by itself (re-routing, sweeps): its own actor."""
    context = audit.current()
    actor = audit.Actor(id="service:referral", role="system")
    with audit.audit_scope(audit.AuditContext(actor, context.channel)):
        yield


class ReferralApplication(OpeningMixin, StandingMixin, ServiceApplication):
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
        marks = ", ".join(["%s"] * len(WITH_PARTNER))
        load = {
            r["institution"]: int(r["n"])
            for r in self.kernel.query(
                "SELECT assignee_institution AS institution, COUNT(*) AS n "
                f"FROM referral_routes WHERE status IN ({marks}) "
                "GROUP BY assignee_institution",
                WITH_PARTNER,
            )
        }
        record = {
            r["institution"]: (int(r["on_time"]), int(r["n"]))
            for r in self.kernel.query(
                "SELECT r.assignee_institution AS institution, "
                "SUM(r.on_time) AS on_time, COUNT(*) AS n FROM referral_routes r "
                "WHERE r.on_time IS NOT NULL GROUP BY r.assignee_institution"
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

    def send(self, referral_id) -> dict:
        return self._change(
            referral_id,
            access.ORIGIN,
            lambda r, a: r.send(self.clock(), self.calendar),
        )

    def accept(self, referral_id) -> dict:
        return self._change(
            referral_id,
            access.PARTNER,
            lambda r, a: r.accept(self.clock(), self.calendar),
        )

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
            referral.send(self.clock(), self.calendar)

        return self._change(referral_id, access.MANAGER, command)

    def report_progress(self, referral_id, stage, note="") -> dict:
        return self._change(
            referral_id, access.PARTNER, lambda r, a: r.report_progress(stage, note)
        )

    def complete(self, referral_id, report: dict) -> dict:
        return self._change(
            referral_id,
            access.PARTNER,
            lambda r, a: r.complete(report, self.clock(), self.new_code()),
        )

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
        referral = self._referral(referral_id)
        access.require_visible(referral)
        return summary(referral, access.sees_all(referral))

    def referrals_for(self, demand_id: str, item_codes: list[str]) -> list[dict]:
        """The referrals of a demand's items (the gateway's progress page)."""
        found = []
        for code in item_codes:
            try:
                referral = self._referral(Referral.create_id(demand_id, code))
            except NotFound:
                continue
            found.append(
                {
                    "id": str(referral.id),
                    "demand_id": referral.demand_id,
                    "item_code": referral.item_code,
                    "state": referral.status,
                    "state_label": STATUS_LABELS[referral.status],
                    "opened_at": referral.created_on.isoformat(),
                }
            )
        return found

    def inbox(self, institution_id: str) -> list[dict]:
        """The referrals addressed to the caller's institution (9, security)."""
        access.require_own_institution(institution_id)
        self.view.catch_up()
        rows = self.kernel.query(
            "SELECT referral_id FROM referral_routes "
            "WHERE assignee_institution=%s ORDER BY referral_id",
            (str(institution_id),),
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
            "SELECT p.report_no, p.issued_on, p.sha256, p.status, r.item_code "
            "FROM referral_reports p JOIN referral_routes r "
            "ON r.referral_id = p.referral_id WHERE p.code=%s",
            (normal,),
        )
        if not rows:
            raise NotFound("report")
        row = rows[0]
        return {**row, "status_label": REPORT_STATUS[row["status"]]}
