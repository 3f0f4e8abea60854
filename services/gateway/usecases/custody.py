"""Intake's convenience services (7.4.4): door-to-door visits, samples and
their chain of custody, returns and disposal, report delivery.

A demand's custody belongs to the demand's institution: its staff and
managers record and read it, the regulator reads it (the customer's contact
data masked) and writes nothing, and anyone else is refused before anything
is read of the request.
"""

from __future__ import annotations

from services.gateway.access import READERS_OF_CASES, STAFF_ROLES, sees_personal_data
from services.gateway.usecases.operation import UseCase, use_case
from services.gateway.usecases.owners import DEMAND
from shared.audit import Actor
from shared.privacy import masked_custody
from shared.rpc import audit_dict

# each custody command and the intake RPC it runs
RPCS = {
    "visit": "request_visit",
    "sample": "register_sample",
    "handover": "hand_over_samples",
    "return": "return_samples",
    "disposal": "dispose_samples",
    "delivery": "deliver_report",
}


@use_case(roles=READERS_OF_CASES, owner=DEMAND)
def view(gw, actor: Actor, demand: dict, *, demand_id: str) -> dict:
    """Visits, samples with their holders, movements and report deliveries."""
    found = gw.intake.custody(demand_id)
    if not sees_personal_data(actor):
        found = masked_custody(found)
    return found


@use_case(roles=READERS_OF_CASES, owner=DEMAND)
def sample_chain(gw, actor: Actor, demand: dict, *, demand_id: str, sample_id: str):
    """A sample as it stands and its chain of custody, oldest first."""
    return gw.intake.sample_chain(demand_id, sample_id)


@use_case(roles=READERS_OF_CASES, owner=DEMAND)
def sheet(gw, actor: Actor, demand: dict, *, demand_id: str) -> dict:
    """The custody page: the demand, its applicant and its custody record."""
    found = view.run(gw, actor, demand, demand_id=demand_id)
    registration = gw.intake.registration(demand_id)
    return {
        "demand": demand,
        "applicant": registration.get("applicant", ""),
        "custody": found,
    }


def _command(rpc: str) -> UseCase:
    @use_case(roles=STAFF_ROLES, owner=DEMAND)
    def command(gw, actor: Actor, demand: dict, *, demand_id, channel, args=(), **kw):
        """Intake's custody command on the demand, by staff of its institution:
        the RPC's arguments after the demand id, by position or by name."""
        audit = audit_dict(actor, channel, demand_id)
        return getattr(gw.intake, rpc)(demand_id, *args, **kw, audit_data=audit)

    return command


COMMANDS: dict[str, UseCase] = {name: _command(rpc) for name, rpc in RPCS.items()}
