"""Use cases of large-instrument sharing (6.7) and fee quotes (5.3.1.5).

Commands arrive over RPC as JSON: times as ISO 8601 text with an offset,
money as text. Each command loads one aggregate, changes it and saves it,
retried on fresh state when another writer got there first.
"""

from __future__ import annotations

from datetime import datetime

from services.catalog import instruments
from services.catalog.instruments import Instrument
from services.catalog.policy import policy_of
from services.catalog.quotes import Quote, QuoteStateError
from services.catalog.resources import _listed
from shared import audit, calendar
from shared.application import ServiceApplication
from shared.errors import ConflictError, ValidationFailed
from shared.validation import aware

# -- instruments -----------------------------------------------------------


def register_instrument(app: ServiceApplication, form: dict) -> dict:
    allowed = (
        "owner_id",
        "name",
        "capabilities",
        "price_per_hour",
        "price_per_sample",
        "rules",
    )
    unknown = sorted(set(form) - set(allowed)) if isinstance(form, dict) else ["body"]
    if unknown:
        raise ValidationFailed(
            [{"field": f, "message": "不认识的字段"} for f in unknown]
        )
    instrument = Instrument.register(**form)
    app.save(instrument)
    return instrument_summary(instrument)


def instrument_summary(instrument: Instrument) -> dict:
    return {
        "id": str(instrument.id),
        "owner_id": instrument.owner_id,
        "name": instrument.name,
        "capabilities": list(instrument.capabilities),
        "price_per_hour": _text(instrument.price_per_hour),
        "price_per_sample": _text(instrument.price_per_sample),
        "slots": [[s.isoformat(), e.isoformat()] for s, e in instrument.slots],
        "bookings": [b.as_dict() for b in instrument.bookings.values()],
        "version": instrument.version,
    }


def _text(value) -> str | None:
    return None if value is None else str(value)


def get_instrument(app: ServiceApplication, instrument_id: str) -> dict:
    return instrument_summary(instruments.load(app, instrument_id))


def list_instruments(app: ServiceApplication, owner_id: str | None = None) -> list:
    """Every shared instrument (of one owner institution), with its slots."""
    return [
        instrument_summary(instruments.load(app, instrument_id))
        for instrument_id in _listed(app, "instrument", owner_id)
    ]


def open_slots(app: ServiceApplication, instrument_id: str, slots: list) -> dict:
    parsed = [
        (aware(s, f"slots[{i}].start"), aware(e, f"slots[{i}].end"))
        for i, (s, e) in enumerate(slots)
    ]
    actor = audit.current().actor

    def command(instrument: Instrument) -> None:
        instruments.require_keeper(instrument, actor)
        instrument.open_slots(parsed)

    instruments.change(app, instrument_id, command)
    return instrument_summary(instruments.load(app, instrument_id))


def book(app, instrument_id, booking_id, requester, start, end, now=None) -> dict:
    """Request a booking; an overlap answers as a conflict (409)."""
    instruments.require_own_request(audit.current().actor, requester)
    start, end = aware(start, "start"), aware(end, "end")
    now = aware(now, "now") if now else calendar.now()
    try:
        return instruments.request_booking(
            app, instrument_id, booking_id, requester, start, end, now
        )
    except instruments.BookingConflict as exc:
        raise ConflictError(str(exc)) from None


def _now(value: object) -> datetime:
    return aware(value, "now") if value else calendar.now()


def booking_action(app, instrument_id, action: str, booking_id: str, **args) -> dict:
    """approve(staff_id) / reject(staff_id, reason) / cancel(by, reason) /
    check_in() / check_out(actual_end); ``now`` may be given, else the clock."""
    commands = {
        "approve": lambda i: i.approve(
            booking_id, args["staff_id"], _now(args.get("now"))
        ),
        "reject": lambda i: i.reject(booking_id, args["staff_id"], args["reason"]),
        "cancel": lambda i: i.cancel(
            booking_id, args["by"], _now(args.get("now")), args.get("reason", "")
        ),
        "check_in": lambda i: i.check_in(booking_id, _now(args.get("now"))),
        "check_out": lambda i: i.check_out(
            booking_id, aware(args["actual_end"], "actual_end")
        ),
    }
    if action not in commands:
        raise ValidationFailed.single("action", "应为：" + "、".join(commands))
    actor = audit.current().actor

    def command(instrument: Instrument) -> dict:
        instruments.require_booking_side(instrument, actor, action, booking_id)
        return commands[action](instrument)

    try:
        return instruments.change(app, instrument_id, command)
    except KeyError as missing:
        raise ValidationFailed.single(str(missing.args[0]), "请填写") from None


def record_no_shows(app, instrument_id, now=None) -> list[str]:
    """Approved bookings nobody checked in to by start + grace (violations)."""
    actor = audit.current().actor

    def command(instrument: Instrument) -> list[str]:
        instruments.require_keeper(instrument, actor)
        return instrument.record_no_shows(_now(now))

    return instruments.change(app, instrument_id, command)


def utilisation(app, instrument_id, start, end) -> float:
    instrument = instruments.load(app, instrument_id)
    return instrument.utilisation(aware(start, "start"), aware(end, "end"))


# -- quotes ----------------------------------------------------------------


def _quote(app: ServiceApplication, quote_id: str) -> Quote:
    return app.get_existing(quote_id, Quote, "quote")


def quote_summary(quote: Quote) -> dict:
    return {
        "id": str(quote.id),
        "demand_id": quote.demand_id,
        "state": quote.state,
        "revision": quote.revision,
        "breakdown": quote.breakdown(),
        "version": quote.version,
    }


def draft_quote(app: ServiceApplication, demand_id: str, form: dict) -> dict:
    allowed = ("lines", "discount_percent", "customer_kind", "green_channel")
    unknown = sorted(set(form) - set(allowed)) if isinstance(form, dict) else ["body"]
    if unknown:
        raise ValidationFailed(
            [{"field": f, "message": "不认识的字段"} for f in unknown]
        )
    # the green channel's surcharge (7.4.5): the drafting institution's
    # service policy in force now; the quote keeps the rate it was drafted at
    institution = audit.current().actor.institution
    limits = policy_of(app, institution)["limits"] if institution else {}
    surcharge = limits.get("green_channel_surcharge_percent")
    if surcharge is not None:
        form = {**form, "surcharge_percent": surcharge}
    quote = Quote.draft(demand_id, **form)
    app.save(quote)
    return quote_summary(quote)


def change_quote(app: ServiceApplication, quote_id: str, action: str, *args) -> dict:
    """issue / accept(revision) / withdraw(reason) / revise(lines, …)."""
    if action not in ("issue", "accept", "withdraw", "revise"):
        raise ValidationFailed.single(
            "action", "应为 issue、accept、withdraw 或 revise"
        )

    def command():
        quote = _quote(app, quote_id)
        getattr(quote, action)(*args)
        app.save(quote)
        return quote

    try:
        return quote_summary(app.retry_on_conflict(command))
    except QuoteStateError as exc:
        raise ConflictError(str(exc)) from None


def get_quote(app: ServiceApplication, quote_id: str) -> dict:
    return quote_summary(_quote(app, quote_id))
