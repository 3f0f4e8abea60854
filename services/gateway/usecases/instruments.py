"""Catalog's shared instruments (6.7): open slots, bookings and their outcome,
no-shows and utilisation.

Instruments are shared across the network, so staff of every institution read
them and book for their own institution; the booking is that institution's.
The owner institution's staff (or the platform's admin) keep an instrument:
they open slots, decide on bookings, and record check-in, check-out and
no-shows, since they are the ones who see the user arrive and leave. The
booking's institution may cancel its own booking. When a decision, check-in
or check-out happens is the clock's to say, never the body's. The catalog
checks the caller again.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, uuid4, uuid5

from services.gateway.access import ADMINS, STAFF_ROLES, Forbidden, Hidden
from services.gateway.usecases.common import utc_now, web
from services.gateway.usecases.operation import Owner, UseCase, use_case
from services.gateway.usecases.owners import OWN_INSTITUTION
from shared.audit import Actor

KEEPERS = STAFF_ROLES | ADMINS
READERS = KEEPERS | {"regulator"}
FREED = ("rejected", "cancelled")  # bookings that no longer hold their interval


def keeps(actor: Actor, instrument: dict) -> bool:
    """The instrument's owner institution's staff, or the platform's admin."""
    if actor.role in ADMINS:
        return True
    return (
        actor.role in STAFF_ROLES
        and bool(actor.institution)
        and actor.institution == instrument["owner_id"]
    )


def _instrument(gw, actor: Actor, ids: dict) -> dict:
    return gw.catalog.instrument(ids["instrument_id"])


def _kept(gw, actor: Actor, ids: dict) -> dict:
    instrument = _instrument(gw, actor, ids)
    if not keeps(actor, instrument):
        raise Forbidden("只有仪器所属机构可以办理此操作")
    return instrument


def _kept_or_read(gw, actor: Actor, ids: dict) -> dict:
    if actor.role == "regulator":
        return _instrument(gw, actor, ids)
    return _kept(gw, actor, ids)


SHARED_INSTRUMENT = Owner(
    "shared instrument",
    "共享仪器（6.7）：各机构均可查阅与预约，只见本机构的预约",
    _instrument,
    ("instrument_id",),
)
KEPT_INSTRUMENT = Owner(
    "kept instrument",
    "共享仪器：由所属机构的服务人员（或平台管理员）管理",
    _kept,
    ("instrument_id",),
)
INSTRUMENT_FIGURES = Owner(
    "instrument figures",
    "共享仪器的利用率：所属机构的，监管人员可读",
    _kept_or_read,
    ("instrument_id",),
)


def _booking(cancelling: bool):
    def reach(gw, actor: Actor, ids: dict) -> tuple[dict, dict]:
        instrument = _instrument(gw, actor, ids)
        keeper = keeps(actor, instrument)
        booking = next(
            (b for b in instrument["bookings"] if b["id"] == ids["booking_id"]), None
        )
        ours = bool(actor.institution) and (
            booking is not None and booking["requester"] == actor.institution
        )
        if booking is None or not (keeper or ours):
            raise Hidden()
        if not keeper and not cancelling:
            raise Forbidden("预约机构只能取消预约，审批、签到和签退由仪器所属机构办理")
        return instrument, booking

    return reach


KEPT_BOOKING = Owner(
    "kept booking",
    "仪器预约：由仪器所属机构审批、签到和签退（预约机构见 403）",
    _booking(cancelling=False),
    ("instrument_id", "booking_id"),
)
OWN_OR_KEPT_BOOKING = Owner(
    "own or kept booking",
    "仪器预约：预约机构或仪器所属机构可取消",
    _booking(cancelling=True),
    ("instrument_id", "booking_id"),
)


def shown(actor: Actor, instrument: dict) -> dict:
    """The instrument as the caller may see it: keepers and the regulator see
    every booking; other institutions see their own and when it is taken."""
    bookings = instrument["bookings"]
    busy = [[b["start"], b["end"]] for b in bookings if b["state"] not in FREED]
    if not (keeps(actor, instrument) or actor.role == "regulator"):
        bookings = [b for b in bookings if b["requester"] == actor.institution]
    return {**instrument, "bookings": bookings, "busy": busy}


@use_case(roles=READERS, owner=OWN_INSTITUTION)
def listed(gw, actor: Actor, _, *, owner: str) -> list[dict]:
    """Every shared instrument, its open slots and when it is taken; one
    institution's if ``owner`` names it."""
    return [shown(actor, i) for i in gw.catalog.instruments(owner or None)]


@use_case(roles=READERS, owner=SHARED_INSTRUMENT)
def view(gw, actor: Actor, instrument: dict, *, instrument_id: str) -> dict:
    return shown(actor, instrument)


@use_case(roles=KEEPERS, owner=KEPT_INSTRUMENT)
def open_slots(gw, actor: Actor, _, *, instrument_id: str, slots: list) -> dict:
    """Open slots for booking: ``[[start, end], …]``."""
    opened = gw.catalog.open_instrument_slots(
        instrument_id, slots, audit_data=web(actor)
    )
    return shown(actor, opened)


@use_case(roles=STAFF_ROLES, owner=SHARED_INSTRUMENT)
def book(gw, actor, instrument, *, instrument_id, key: str, start, end) -> dict:
    """A booking for the caller's institution. With an idempotency ``key`` a
    repeated request answers, as the first did, the booking it made (as it
    stands now) and books nothing more."""
    booking_id = (
        uuid5(
            NAMESPACE_URL,
            f"qi-onestop:booking:{instrument_id}:{actor.institution}:{key}",
        ).hex
        if key
        else uuid4().hex
    )
    for booking in instrument["bookings"]:
        if booking["id"] == booking_id:
            return {**booking, "instrument_id": instrument_id}
    booked = gw.catalog.book_instrument(
        instrument_id,
        booking_id,
        actor.institution,
        start,
        end,
        audit_data=web(actor),
    )
    return {**booked, "instrument_id": instrument_id}


# each booking action: the catalog's name, and its arguments from the caller
# and the body (the decision's time is the catalog's clock)
ACTIONS = {
    "approval": ("approve", lambda actor, body: {"staff_id": actor.id}),
    "rejection": (
        "reject",
        lambda actor, body: {"staff_id": actor.id, "reason": body.get("reason", "")},
    ),
    "cancellation": (
        "cancel",
        lambda actor, body: {"by": actor.id, "reason": body.get("reason", "")},
    ),
    "check-in": ("check_in", lambda actor, body: {}),
    "check-out": ("check_out", lambda actor, body: {"actual_end": utc_now()}),
}


def _booking_action(name: str) -> UseCase:
    action, arguments = ACTIONS[name]
    rule = OWN_OR_KEPT_BOOKING if action == "cancel" else KEPT_BOOKING

    @use_case(roles=KEEPERS, owner=rule)
    def act(gw, actor: Actor, found, *, instrument_id, booking_id, body) -> dict:
        """A keeper runs any action; the booking's institution may cancel."""
        acted = gw.catalog.booking_action(
            instrument_id,
            action,
            booking_id,
            arguments(actor, body),
            audit_data=web(actor),
        )
        return {**acted, "instrument_id": instrument_id}

    return act


BOOKING_ACTIONS: dict[str, UseCase] = {name: _booking_action(name) for name in ACTIONS}


@use_case(roles=KEEPERS, owner=KEPT_INSTRUMENT)
def record_no_shows(gw, actor: Actor, _, *, instrument_id: str) -> dict:
    """Approved bookings nobody checked in to by start and grace become
    no-shows, which count towards blocking their institution."""
    recorded = gw.catalog.record_no_shows(instrument_id, audit_data=web(actor))
    return {"instrument_id": instrument_id, "no_shows": recorded}


@use_case(roles=READERS, owner=INSTRUMENT_FIGURES)
def utilisation(gw, actor: Actor, _, *, instrument_id: str, start: str, end: str):
    """Hours in use over open hours between two moments."""
    used = gw.catalog.instrument_utilisation(instrument_id, start, end)
    return {
        "instrument_id": instrument_id,
        "start": start,
        "end": end,
        "utilisation": used,
    }
