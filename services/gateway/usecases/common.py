"""What several use cases share: audit data of a web call, the customer
without a login, and the clock in China Standard Time (business days, a
visit "today", are Beijing's)."""

from __future__ import annotations

from datetime import UTC

from shared import calendar
from shared.audit import Actor
from shared.rpc import audit_dict

# a customer acting by a code they hold (rating, complaint), never logged in
CUSTOMER = Actor(id="customer", role="customer")


def web(actor: Actor, case: str = "") -> dict:
    """The caller as audit data of a call made from the web (API or console)."""
    return audit_dict(actor, "web", case)


def now() -> str:
    """This moment, in Beijing time (aware ISO), by the platform's one clock."""
    return calendar.now().isoformat()


def today() -> str:
    """Today's date in Beijing (ISO), by the platform's one clock."""
    return calendar.today().isoformat()


def utc_now() -> str:
    return calendar.now().astimezone(UTC).isoformat()
