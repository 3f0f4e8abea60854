"""Which referrals of a demand are still open, whatever its status (7.1.2,
8.3.5): a demand is resolved only when the partners' work on it is done.

Asked of referral on every resolution, not only while the demand is
``referred``: a demand can have a referral open in another status too — the
``DemandReferred`` of its decision not yet consumed or parked and replayed
later, after the demand was reopened and served in-house, or a referral of an
item the registration no longer lists after a correction. So the items asked
about are every item ever referred (``referred_items``, kept across reopening)
and every item the demand lists now; referral ids are derived from the demand
and the item, so these are all the referrals the demand can have.

An item referred whose referral referral does not know yet counts as open
("转办尚未开立"): its ``DemandReferred`` is on its way, or parked and shown on
the manager's board until ops replay it.
"""

from __future__ import annotations

from services.referral.contract import CLOSED_STATES

UNOPENED = "转办尚未开立"


def open_referrals(demand: dict, referral) -> list[dict]:
    """``demand`` as intake's summary; ``referral`` a proxy answering
    ``referrals_for(demand_id, item_codes)``. The open ones, in item order,
    each ``{id, item_code, state, state_label}`` (``id`` "" if unopened)."""
    referred = list(demand.get("referred_items") or [])
    listed = [n["item_code"] for n in demand.get("needs", [])]
    codes = list(dict.fromkeys([*referred, *listed]))
    known = {r["item_code"]: r for r in referral.referrals_for(demand["id"], codes)}
    found = []
    for code in codes:
        if code in known:
            if known[code]["state"] not in CLOSED_STATES:
                found.append(known[code])
        elif code in referred:
            found.append(
                {
                    "id": "",
                    "item_code": code,
                    "state": "unopened",
                    "state_label": UNOPENED,
                }
            )
    return found
