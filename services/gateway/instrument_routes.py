"""Catalog's shared instruments over HTTP (6.7): open slots, bookings and
their outcome, no-shows and utilisation.

Instruments are shared across the network, so staff of every institution read
them and book for their own institution; the booking is that institution's.
The owner institution's staff (or the platform's admin) keep an instrument:
they open slots, decide on bookings, and record check-in, check-out and
no-shows, since they are the ones who see the user arrive and leave. The
booking's institution may cancel its own booking. When a decision, check-in
or check-out happens is the clock's to say, never the body's, so nobody
records one at a time of their choosing. Each instrument is checked before
the request's body is read; the catalog checks the caller again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import NAMESPACE_URL, uuid4, uuid5

from nameko.web.handlers import http

from services.gateway import access
from services.gateway.access import ADMINS, Forbidden, Hidden
from services.gateway.api import STRING
from services.gateway.catalog_routes import plain
from services.gateway.problems import json_response
from services.gateway.web import (
    call,
    errors_to_response,
    idempotency_key,
    json_body,
    list_field,
    paged,
    text_field,
)
from shared.audit import Actor
from shared.errors import ValidationFailed
from shared.rpc import audit_dict

KEEPERS = access.STAFF_ROLES | ADMINS
READERS = KEEPERS | {"regulator"}
FREED = ("rejected", "cancelled")  # bookings that no longer hold their interval
INSTRUMENT = "/api/v1/catalog/instruments/<string:instrument_id>"
BOOKING = INSTRUMENT + "/bookings/<string:booking_id>"


def keeps(actor: Actor, instrument: dict) -> bool:
    if actor.role in ADMINS:
        return True
    return (
        actor.role in access.STAFF_ROLES
        and bool(actor.institution)
        and actor.institution == instrument["owner_id"]
    )


def shown(actor: Actor, instrument: dict) -> dict:
    """The instrument as the caller may see it: keepers and the regulator see
    every booking; other institutions see their own and when it is taken."""
    bookings = instrument["bookings"]
    busy = [[b["start"], b["end"]] for b in bookings if b["state"] not in FREED]
    if not (keeps(actor, instrument) or actor.role == "regulator"):
        bookings = [b for b in bookings if b["requester"] == actor.institution]
    return {**instrument, "bookings": bookings, "busy": busy}


def _slots(body: dict) -> list:
    """``[[start, end], …]``, each time ISO 8601 text with an offset."""
    slots = list_field(body, "slots")
    for i, slot in enumerate(slots):
        pair = isinstance(slot, list) and len(slot) == 2
        if not pair or not all(isinstance(t, str) for t in slot):
            raise ValidationFailed.single(f"slots[{i}]", "时段应写作 [开始, 结束]")
    return slots


def _now() -> str:
    return datetime.now(UTC).isoformat()


class InstrumentRoutes:
    """Mixed into GatewayService (``self.catalog``, ``self.app``, ``_actor``)."""

    def _instrument(self, actor: Actor, instrument_id: str, roles) -> dict:
        access.require_role(actor, roles)
        return call(self.catalog.instrument, instrument_id)

    def _kept(self, actor: Actor, instrument_id: str) -> dict:
        instrument = self._instrument(actor, instrument_id, KEEPERS)
        if not keeps(actor, instrument):
            raise Forbidden("只有仪器所属机构可以办理此操作")
        return instrument

    # -- instruments and their slots -------------------------------------------

    @http("GET", "/api/v1/catalog/instruments")
    @errors_to_response
    def catalog_instruments(self, request):
        """Every shared instrument, its open slots and when it is taken:
        ``?owner=`` narrows to one institution's."""
        actor = self._actor(request)
        access.require_role(actor, READERS)
        owner = plain({"owner": request.args.get("owner", "")})["owner"] or None
        found = [shown(actor, i) for i in call(self.catalog.instruments, owner)]
        return json_response(paged(request, found))

    @http("GET", INSTRUMENT)
    @errors_to_response
    def catalog_instrument(self, request, instrument_id):
        actor = self._actor(request)
        return json_response(
            shown(actor, self._instrument(actor, instrument_id, READERS))
        )

    @http("POST", f"{INSTRUMENT}/slots")
    @errors_to_response
    def open_instrument_slots(self, request, instrument_id):
        """Open slots for booking: ``{slots: [[start, end], …]}``."""
        actor = self._actor(request)
        self._kept(actor, instrument_id)
        opened = call(
            self.catalog.open_instrument_slots,
            instrument_id,
            _slots(plain(json_body(request))),
            audit_data=audit_dict(actor, "web"),
        )
        return json_response(shown(actor, opened))

    # -- bookings ----------------------------------------------------------------

    @http("POST", f"{INSTRUMENT}/bookings")
    @errors_to_response
    def book_instrument(self, request, instrument_id):
        """A booking for the caller's institution: ``{start, end}``. With an
        ``Idempotency-Key`` a repeated request answers, as the first did, the
        booking it made (as it stands now) and books nothing more."""
        actor = self._actor(request)
        instrument = self._instrument(actor, instrument_id, access.STAFF_ROLES)
        key = idempotency_key(request)
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
                return json_response({**booking, "instrument_id": instrument_id}, 201)
        body = plain(json_body(request))
        booked = call(
            self.catalog.book_instrument,
            instrument_id,
            booking_id,
            actor.institution,
            text_field(body, "start"),
            text_field(body, "end"),
            audit_data=audit_dict(actor, "web"),
        )
        return json_response({**booked, "instrument_id": instrument_id}, 201)

    def _act_on_booking(self, request, instrument_id, booking_id, action, arguments):
        """A keeper runs any action; the booking's institution may cancel."""
        actor = self._actor(request)
        instrument = self._instrument(actor, instrument_id, KEEPERS)
        keeper = keeps(actor, instrument)
        booking = next(
            (b for b in instrument["bookings"] if b["id"] == booking_id), None
        )
        ours = bool(actor.institution) and (
            booking is not None and booking["requester"] == actor.institution
        )
        if booking is None or not (keeper or ours):
            raise Hidden()
        if not keeper and action != "cancel":
            raise Forbidden("预约机构只能取消预约，审批、签到和签退由仪器所属机构办理")
        acted = call(
            self.catalog.booking_action,
            instrument_id,
            action,
            booking_id,
            arguments(actor, plain(json_body(request))),
            audit_data=audit_dict(actor, "web"),
        )
        return json_response({**acted, "instrument_id": instrument_id})

    @http("POST", f"{BOOKING}/approval")
    @errors_to_response
    def approve_booking(self, request, instrument_id, booking_id):
        return self._act_on_booking(
            request, instrument_id, booking_id, "approve", _deciding
        )

    @http("POST", f"{BOOKING}/rejection")
    @errors_to_response
    def reject_booking(self, request, instrument_id, booking_id):
        """Refuse a requested booking: ``{reason}``."""
        return self._act_on_booking(
            request,
            instrument_id,
            booking_id,
            "reject",
            lambda actor, body: {**_deciding(actor, body), **_reason(body)},
        )

    @http("POST", f"{BOOKING}/cancellation")
    @errors_to_response
    def cancel_booking(self, request, instrument_id, booking_id):
        """Cancel before it starts: ``{reason}`` (the booking's institution too)."""
        return self._act_on_booking(
            request,
            instrument_id,
            booking_id,
            "cancel",
            lambda actor, body: {"by": actor.id, **_reason(body)},
        )

    @http("POST", f"{BOOKING}/check-in")
    @errors_to_response
    def check_in_booking(self, request, instrument_id, booking_id):
        """The user arrived (from half an hour before the start to its grace)."""
        return self._act_on_booking(
            request, instrument_id, booking_id, "check_in", lambda actor, body: {}
        )

    @http("POST", f"{BOOKING}/check-out")
    @errors_to_response
    def check_out_booking(self, request, instrument_id, booking_id):
        """The user is done; past the booked end and its grace it is an overrun."""
        return self._act_on_booking(
            request,
            instrument_id,
            booking_id,
            "check_out",
            lambda actor, body: {"actual_end": _now()},
        )

    # -- the owner's records -------------------------------------------------------

    @http("POST", f"{INSTRUMENT}/no-shows")
    @errors_to_response
    def record_instrument_no_shows(self, request, instrument_id):
        """Approved bookings nobody checked in to by start and grace become
        no-shows, which count towards blocking their institution."""
        actor = self._actor(request)
        self._kept(actor, instrument_id)
        recorded = call(
            self.catalog.record_no_shows,
            instrument_id,
            audit_data=audit_dict(actor, "web"),
        )
        return json_response({"instrument_id": instrument_id, "no_shows": recorded})

    @http("GET", f"{INSTRUMENT}/utilisation")
    @errors_to_response
    def instrument_utilisation(self, request, instrument_id):
        """Hours in use over open hours: ``?start=…&end=…`` (ISO, with an
        offset); the owner's, and the regulator reads it."""
        actor = self._actor(request)
        if actor.role != "regulator":
            self._kept(actor, instrument_id)
        else:
            self._instrument(actor, instrument_id, READERS)
        start, end = request.args.get("start", ""), request.args.get("end", "")
        used = call(self.catalog.instrument_utilisation, instrument_id, start, end)
        return json_response(
            {
                "instrument_id": instrument_id,
                "start": start,
                "end": end,
                "utilisation": used,
            }
        )


def _deciding(actor: Actor, body: dict) -> dict:
    return {"staff_id": actor.id}


def _reason(body: dict) -> dict:
    return {"reason": text_field(body, "reason")}


def document_paths() -> dict:
    from services.gateway import catalog_resources_routes
    from services.gateway.api import (
        PAGE,
        body_schema,
        operation,
        path_parameters,
    )

    def booking_action(summary: str, body: dict) -> dict:
        return {
            "post": operation(
                summary,
                codes=(400, 401, 403, 404, 409),
                parameters=path_parameters("instrument_id", "booking_id"),
                requestBody=body_schema(body),
            )
        }

    instruments = "/api/v1/catalog/instruments"
    instrument = instruments + "/{instrument_id}"
    booking = instrument + "/bookings/{booking_id}"
    reason = {"reason": STRING}
    # registration is documented beside its route; this adds the list to it
    registration = catalog_resources_routes.document_paths()[instruments]
    return {
        instruments: {
            **registration,
            "get": operation(
                "共享仪器及其开放时段（6.7）",
                codes=(400, 401, 403),
                parameters=[{"name": "owner", "in": "query", "schema": STRING}, *PAGE],
            ),
        },
        instrument: {
            "get": operation(
                "共享仪器、开放时段与预约", parameters=path_parameters("instrument_id")
            )
        },
        instrument + "/slots": {
            "post": operation(
                "开放仪器的预约时段（仪器所属机构）",
                codes=(400, 401, 403, 404, 409),
                parameters=path_parameters("instrument_id"),
                requestBody=body_schema(
                    {"slots": {"type": "array", "items": {"type": "array"}}}
                ),
            )
        },
        instrument + "/bookings": {
            "post": operation(
                "为本机构预约仪器",
                ok="201",
                codes=(400, 401, 403, 404, 409),
                parameters=[
                    *path_parameters("instrument_id"),
                    {"name": "Idempotency-Key", "in": "header", "schema": STRING},
                ],
                requestBody=body_schema({"start": STRING, "end": STRING}),
            )
        },
        booking + "/approval": booking_action("批准预约（仪器所属机构）", {}),
        booking + "/rejection": booking_action("驳回预约（写明理由）", reason),
        booking + "/cancellation": booking_action("在开始前取消预约", reason),
        booking + "/check-in": booking_action("记录签到", {}),
        booking + "/check-out": booking_action("记录签退（超时即记违约）", {}),
        instrument + "/no-shows": {
            "post": operation(
                "记录爽约（仪器所属机构）",
                codes=(400, 401, 403, 404, 409),
                parameters=path_parameters("instrument_id"),
                requestBody=body_schema({}),
            )
        },
        instrument + "/utilisation": {
            "get": operation(
                "仪器利用率（开放时段内的使用时长占比）",
                parameters=[
                    *path_parameters("instrument_id"),
                    {
                        "name": "start",
                        "in": "query",
                        "required": True,
                        "schema": STRING,
                    },
                    {"name": "end", "in": "query", "required": True, "schema": STRING},
                ],
            )
        },
    }
