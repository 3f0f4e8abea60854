"""The referrals a referring institution's manager watches on the board
(8.3.4): those of its referred demands in a watched state
(``contract.WATCHED``), in one call instead of one per demand and referral."""

from __future__ import annotations

from sqlalchemy import select

from services.referral.contract import WATCHED
from services.referral.domain import Referral
from services.referral.projections import ROUTE
from shared.errors import NotFound, ValidationFailed


class WatchedMixin:
    def watched_referrals(self, demands) -> list[dict]:
        """The referrals of ``demands`` (each ``{demand_id, item_codes}``) in
        a watched state, each as ``referral`` answers it: the read model
        names the ones in those states, and only they are loaded; one the
        caller may not see is left out."""
        wanted = list(
            dict.fromkeys(
                str(Referral.create_id(demand["demand_id"], code))
                for demand in _checked(demands)
                for code in demand["item_codes"]
            )
        )
        if not wanted:
            return []
        self.view.catch_up()
        open_now = {
            row["referral_id"]
            for row in self.kernel.query(
                select(ROUTE.referral_id).where(
                    ROUTE.referral_id.in_(wanted), ROUTE.status.in_(WATCHED)
                )
            )
        }
        found = []
        for referral_id in wanted:
            if referral_id not in open_now:
                continue
            referral = self._referral(referral_id)
            if referral.status not in WATCHED:
                continue
            try:
                found.append(self._shown(referral))
            except NotFound:
                continue
        return found


def _checked(demands) -> list[dict]:
    """``demands`` as the board sends them, or ValidationFailed."""
    if not isinstance(demands, list) or not all(
        isinstance(demand, dict)
        and isinstance(demand.get("demand_id"), str)
        and isinstance(demand.get("item_codes"), list)
        and all(isinstance(code, str) for code in demand["item_codes"])
        for demand in demands
    ):
        raise ValidationFailed.single("demands", "请列出需求及其事项")
    return demands
