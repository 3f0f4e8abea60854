"""Complaints and suggestions (9.1.1, 9.4, GB/T 19012): filed by the public
without a login and followed by the status code the complainant keeps;
worked by the handling institution's complaint handlers, with the comment
cards of its suggestion box and hotline and the period's figures. The
complaints service masks the complainant for managers."""

from __future__ import annotations

from services.complaints.contract import COMMANDS as HANDLING_COMMANDS
from services.gateway.access import MANAGERS
from services.gateway.usecases.common import CUSTOMER, web
from services.gateway.usecases.operation import UseCase, use_case
from services.gateway.usecases.owners import (
    CODE_HOLDER,
    COMMENT_CARD,
    COMPLAINT,
    OWN_INSTITUTION,
    PUBLIC,
)
from shared.audit import Actor
from shared.rpc import audit_dict

HANDLERS = frozenset({"complaint_handler"})
# who follows an institution's complaints: its handlers, its managers (the
# complainant's identity masked for them) and the regulator (every institution)
FOLLOWERS = HANDLERS | MANAGERS | {"regulator"}
# the card's own fields; its institution is the recorder's, its time the platform's
CARD_FIELDS = ("source", "text", "contact_name", "contact_phone")


def _institution_of(actor: Actor) -> str | None:
    """The institution whose complaints the caller follows (None: all)."""
    return None if actor.role == "regulator" else actor.institution


@use_case(roles=None, owner=PUBLIC)
def file(gw, actor: Actor, _, *, form: dict) -> dict:
    """A complaint; the answer holds the code to follow it (shown once). It is
    received on the platform's clock, not the sender's."""
    form = {k: v for k, v in form.items() if k != "received_at"}
    return gw.complaints.receive(form, audit_data=audit_dict(CUSTOMER, "website"))


@use_case(roles=None, owner=CODE_HOLDER)
def status(gw, actor: Actor, _, *, code: str) -> dict:
    """Where the complaint stands, by its code: stage labels only."""
    return gw.complaints.status_by_code(code)


@use_case(roles=None, owner=CODE_HOLDER)
def accept_decision(gw, actor: Actor, _, *, code: str) -> dict:
    """The complainant accepts the communicated decision, by their code."""
    return gw.complaints.respond_by_code(
        code, True, "", audit_data=audit_dict(CUSTOMER, "website")
    )


@use_case(roles=None, owner=CODE_HOLDER)
def reject_decision(gw, actor: Actor, _, *, code: str, form: dict) -> dict:
    """The complainant does not accept it, with a reason: internal review."""
    return gw.complaints.respond_by_code(
        code, False, form.get("reason", ""), audit_data=audit_dict(CUSTOMER, "website")
    )


@use_case(roles=FOLLOWERS, owner=OWN_INSTITUTION)
def listed(gw, actor: Actor, _, *, status: str, offset: int, limit: int) -> dict:
    """The complaints the caller's institution handles (regulator: all),
    newest first, the complainant's identity masked."""
    return gw.complaints.complaints(_institution_of(actor), status, offset, limit)


@use_case(roles=FOLLOWERS, owner=OWN_INSTITUTION)
def figures(gw, actor: Actor, _, *, since: str, until: str, institution: str):
    """Handling figures of the complaints received in a period (9.4): the
    caller's institution's; the regulator's of one or of all."""
    own = _institution_of(actor)
    return gw.complaints.figures(
        since, until, own if own is not None else institution or None
    )


@use_case(roles=HANDLERS, owner=OWN_INSTITUTION)
def record_card(gw, actor: Actor, _, *, form: dict) -> dict:
    """A handler records a card of their institution's box or hotline."""
    card = {key: form.get(key, "") for key in CARD_FIELDS}
    card["institution_id"] = actor.institution
    return gw.complaints.record_card(card, audit_data=web(actor))


@use_case(roles=FOLLOWERS, owner=COMMENT_CARD)
def card(gw, actor: Actor, found: dict, *, card_id: str) -> dict:
    """A card for its institution's handlers and managers, and regulators."""
    return found


@use_case(roles=HANDLERS, owner=COMMENT_CARD)
def classify_card(gw, actor: Actor, _, *, card_id: str, kind: str) -> dict:
    """Suggestion, praise or complaint, once; a complaint card opens a
    complaint of the same institution (its code in the answer)."""
    return gw.complaints.classify_card(card_id, kind, audit_data=web(actor))


@use_case(roles=FOLLOWERS, owner=COMPLAINT)
def complaint(gw, actor: Actor, found: dict, *, complaint_id: str) -> dict:
    """The complaint for its handlers and regulators (identity shown) and
    its institution's managers (identity masked by the service)."""
    return found


def _step(command: str) -> UseCase:
    @use_case(roles=HANDLERS, owner=COMPLAINT)
    def step(gw, actor: Actor, _, *, complaint_id: str, fields: dict) -> dict:
        """One GB/T 19012 handling step by a handler of the complaint's
        institution; the handler is whoever acknowledges it."""
        if command == "acknowledge":
            fields = {**fields, "handler": actor.id}
        return gw.complaints.change(
            command, complaint_id, fields, audit_data=web(actor)
        )

    return step


COMMANDS: dict[str, UseCase] = {name: _step(name) for name in HANDLING_COMMANDS}
