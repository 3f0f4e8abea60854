"""Who may do what, checked on the server for every request (7.3.3).

Staff and managers act on their own institution's demands; a regulator reads
every institution and writes nothing; ops see the platform's health, not
personal data. Masking for readers without need of contact data is
shared.privacy's. A check that fails for an object of another institution
answers 404, so a URL reveals nothing about whether the object exists.
"""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from shared.audit import Actor

ANONYMOUS = Actor(id="anonymous", role="customer")

STAFF_ROLES = frozenset({"staff", "manager"})
MANAGERS = frozenset({"manager"})
ADMINS = frozenset({"admin"})
READERS_OF_CASES = STAFF_ROLES | {"regulator"}


class Unauthenticated(Exception):
    """No valid login: 401."""


class Forbidden(Exception):
    """Logged in, but this role may not do this at all: 403."""


class Hidden(Exception):
    """This object is not the caller's to see: answered as 404."""


class TooManyAttempts(Exception):
    """Too many guesses (a password, a code) from one name or address, or
    too many logins at once: 429, with why in ``detail`` when it is not the
    guesses."""

    def __init__(self, retry_after: int, detail: str = ""):
        super().__init__("too many attempts")
        self.retry_after = retry_after
        self.detail = detail


def require_role(actor: Actor, roles: frozenset[str] | set[str]) -> None:
    if actor.role == "customer" and actor.id == ANONYMOUS.id:
        raise Unauthenticated("请先登录")
    if actor.role not in roles:
        raise Forbidden("当前角色无权进行此操作")


def require_same_institution(actor: Actor, institution: str) -> None:
    """Staff and managers reach only their institution's objects."""
    if actor.role == "regulator":
        return
    if not actor.institution or actor.institution != institution:
        raise Hidden()


def sees_personal_data(actor: Actor) -> bool:
    """Only the demand's own institution needs the customer's contact data."""
    return actor.role in STAFF_ROLES


def trusted_networks(listed: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """QI_TRUSTED_PROXIES: addresses or networks, comma-separated."""
    try:
        return tuple(
            ip_network(item.strip(), strict=False)
            for item in listed.split(",")
            if item.strip()
        )
    except ValueError as exc:
        raise ValueError(f"QI_TRUSTED_PROXIES: {exc}") from None


def _trusted(address: str, trusted) -> bool:
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in trusted)


def client_address(remote: str | None, forwarded_for: str, trusted) -> str:
    """The address failed logins and code guesses are counted against.

    The connection's own address, unless it is a trusted proxy: then the
    nearest address in X-Forwarded-For that is not one (each proxy appends
    the address it was reached from, so what lies left of the first
    untrusted address was written by the client and may be forged). With no
    trusted proxies the header is ignored: anyone can send it.
    """
    client = remote or "unknown"
    if not trusted or not _trusted(client, trusted):
        return client
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            return hop if _is_address(hop) else client
        client = hop
    return client


def _is_address(text: str) -> bool:
    try:
        ip_address(text)
    except ValueError:
        return False
    return True
