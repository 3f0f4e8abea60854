"""Fee quotes on a demand (5.3.1.5): drafted, issued, accepted by the customer
(recorded by staff), withdrawn or revised, by the demand's institution."""

from __future__ import annotations

from services.gateway.access import READERS_OF_CASES, STAFF_ROLES
from services.gateway.usecases.common import web
from services.gateway.usecases.operation import UseCase, use_case
from services.gateway.usecases.owners import DEMAND, QUOTE
from shared.audit import Actor

# the page's and the API's action names → the catalog's
ACTIONS = {
    "issue": "issue",
    "acceptance": "accept",
    "withdrawal": "withdraw",
    "revision": "revise",
}


@use_case(roles=STAFF_ROLES, owner=DEMAND)
def draft(gw, actor: Actor, demand: dict, *, demand_id: str, form: dict) -> dict:
    """A quote on the demand: lines, discount, customer kind, green channel."""
    return gw.catalog.draft_quote(demand_id, form, audit_data=web(actor, demand_id))


@use_case(roles=READERS_OF_CASES, owner=QUOTE)
def view(gw, actor: Actor, quote: dict, *, quote_id: str) -> dict:
    return quote


def _quotes_of(gw, demand_id: str) -> list[dict]:
    """The demand's quotes, oldest first: the catalog files each quote's
    events under the demand's case, so its case history names them."""
    ids = []
    for row in gw.catalog.case_events(demand_id):
        if str(row["event"]).startswith("Quote.") and row["aggregate_id"] not in ids:
            ids.append(row["aggregate_id"])
    return [gw.catalog.quote(quote_id) for quote_id in ids]


@use_case(roles=READERS_OF_CASES, owner=DEMAND)
def of_demand(gw, actor: Actor, demand: dict, *, demand_id: str) -> dict:
    """The demand's quotes page: the demand, its registration and quotes."""
    return {
        "demand": demand,
        "registration": gw.intake.registration(demand_id),
        "quotes": _quotes_of(gw, demand_id),
    }


@use_case(roles=READERS_OF_CASES, owner=QUOTE)
def sheet(gw, actor: Actor, quote: dict, *, quote_id: str) -> dict:
    """A quote's page: the quote and its demand."""
    return {"quote": quote, "demand": gw.intake.get_demand(quote["demand_id"])}


def _change(action: str) -> UseCase:
    @use_case(roles=STAFF_ROLES, owner=QUOTE)
    def change(gw, actor: Actor, quote: dict, *, quote_id: str, args: list) -> dict:
        """A change of the quote by staff of its demand's institution."""
        return gw.catalog.change_quote(
            quote_id, action, args, audit_data=web(actor, quote["demand_id"])
        )

    return change


CHANGES: dict[str, UseCase] = {name: _change(a) for name, a in ACTIONS.items()}
