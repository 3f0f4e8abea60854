"""The regulator's audit of one case across every service (audit contract), the
platform's readiness, and ops' parked messages.

Each service answers for its own streams of the case (``case_audit``: its
events and their hash-chain check); the gateway asks them all at once,
merges the timelines, cuts them at an ``as_of`` moment, and records the read
itself in the case's history. A service that does not answer is named, never
silently left out; an event a service cannot read with its key is named as
unreadable, apart from the altered ones, and fails the verification without
calling it tampering.

Which services answer for cases and which run at all is the system's wiring
(``services/__init__.py``, read through ``shared.system``).
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from nameko.exceptions import UnknownService

from services.gateway.access import READERS_OF_CASES, sees_personal_data
from services.gateway.usecases.operation import use_case
from services.gateway.usecases.owners import DEMAND, PLATFORM, PUBLIC
from shared import case_history, config, system
from shared.audit import Actor, AuditContext, audit_scope
from shared.case_history import merge_timelines
from shared.errors import DependencyUnavailable
from shared.outbox import RelayStuck
from shared.privacy import masked_demand
from shared.rpc import gather
from shared.validation import aware

# services that keep streams of a case, each asked for its part of the audit
CASE_SERVICES = system.CASE_SERVICES
# the services behind the gateway: each answers ping and parked_messages
BEHIND_THE_GATEWAY = tuple(name for name in system.SERVICES if name != "gateway")
NOT_ANSWERING = (DependencyUnavailable, UnknownService)


def parse_as_of(value: str | None) -> datetime | None:
    """The ``as_of`` moment, with its zone; None: the case as it is now."""
    return aware(value, "as_of") if value else None


@use_case(roles=READERS_OF_CASES, owner=DEMAND)
def case(gw, actor: Actor, demand: dict, *, demand_id: str, as_of: str, what: str):
    """One timeline across services as of a moment, its hash-chain
    verification and the demand as it stood; the read is recorded in the
    case's own history (``what``: timeline, export-json, export-html)."""
    moment = parse_as_of(as_of)
    replies = gather(
        {
            name: partial(getattr(gw, name).case_audit.call_async, demand_id)
            for name in CASE_SERVICES
        }
    )
    answers: dict = {}
    for name, reply in replies.items():
        if isinstance(reply, BaseException) and not isinstance(reply, NOT_ANSWERING):
            raise reply
        answers[name] = None if isinstance(reply, BaseException) else reply
    with gw.auth.as_caller(actor, "internal"):
        answers["gateway"] = case_history.case_audit(gw.app, demand_id)
    if moment is not None:
        demand = gw.intake.demand_as_of(demand_id, moment.isoformat())
    if demand is not None and not sees_personal_data(actor):
        demand = masked_demand(demand)
    audit = assemble(demand_id, answers, moment, demand)
    context = AuditContext(actor=actor, channel="internal", correlation_id=demand_id)
    with audit_scope(context):
        gw.app.record_read(demand_id, what, audit["as_of"] or "")
    return audit


def assemble(
    case_id: str,
    answers: dict[str, dict | None],
    as_of: datetime | None,
    demand: dict | None,
) -> dict:
    """The audit of a case from each service's ``case_audit`` (its timeline
    and verification); ``answers[service]`` is None when the service did not
    answer in time."""
    missing = sorted(s for s, a in answers.items() if a is None)
    timelines = [a["events"] for a in answers.values() if a is not None]
    timeline = merge_timelines(*timelines)
    if as_of is not None:
        timeline = [e for e in timeline if datetime.fromisoformat(e["at"]) <= as_of]
    checks = [a["check"] for a in answers.values() if a is not None]
    breaks = [{**b, "service": c["service"]} for c in checks for b in c["breaks"]]
    unreadable = [
        {**u, "service": c["service"]} for c in checks for u in c.get("unreadable", ())
    ]
    return {
        "case_id": case_id,
        "as_of": as_of.isoformat() if as_of else None,
        "demand": demand,
        "timeline": [
            {
                "at": e["at"],
                "service": e["service"],
                "event": e["event"],
                "actor": e["actor"].get("id", ""),
                "role": e["actor"].get("role", ""),
                "institution": e["actor"].get("institution", ""),
                "channel": e["channel"],
                "aggregate_id": e["aggregate_id"],
                "version": e["version"],
            }
            for e in timeline
        ],
        "verification": {
            "passed": not breaks and not unreadable and not missing,
            "streams": sum(c["streams"] for c in checks),
            "breaks": breaks,
            "unreadable": unreadable,
            "services_not_answering": missing,
        },
    }


# -- the platform's health and parked messages ------------------------------


def _why_not_ready(exc: BaseException) -> str:
    """A ping's failure in words; a stuck relay says it itself."""
    if isinstance(exc, DependencyUnavailable):
        return str(exc)
    if isinstance(exc, UnknownService):
        return "not running (no RPC queue)"
    if isinstance(exc, RelayStuck):
        service, _, why = str(exc).partition(": ")
        return why or service
    return f"{type(exc).__name__}: {exc}"[:300]


@use_case(roles=None, owner=PUBLIC)
def readiness(gw, actor: Actor, _) -> dict[str, str]:
    """Each service behind the gateway that this installation runs
    (QI_SERVICES) and that is not ready, and why: its ping fails while its
    outbox relay cannot proceed."""
    names = {n.strip() for n in config.get("QI_SERVICES").split(",")}
    asked = {
        name: getattr(gw, name).ping.call_async
        for name in BEHIND_THE_GATEWAY
        if name in names
    }
    return {
        name: _why_not_ready(reply)
        for name, reply in gather(asked).items()
        if isinstance(reply, Exception)
    }


@use_case(roles=frozenset({"ops"}), owner=PLATFORM)
def parked(gw, actor: Actor, _) -> dict:
    """What each service parked (no payloads, no personal data); a service not
    answering is said, not hidden."""
    found = {}
    for name in BEHIND_THE_GATEWAY:
        try:
            found[name] = getattr(gw, name).parked_messages()
        except (DependencyUnavailable, UnknownService):
            found[name] = None
    return {"services": found}
