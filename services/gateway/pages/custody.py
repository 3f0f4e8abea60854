"""The custody page of a demand (7.4.4): door-to-door visits, its samples and
every hand-over of them (the chain of custody), returns or disposal, and
report delivery.

Mixed into PagesRoutes. Staff and managers of the demand's institution read
and write; the regulator reads, with the customer's contact data masked;
anyone else gets "not found" (``_visible_demand``, as the JSON routes).
"""

from __future__ import annotations

from datetime import datetime

from nameko.web.handlers import http

from services.gateway import access
from services.gateway.pages.handlers import html_errors, with_csrf
from services.gateway.pages.rendering import (
    BEIJING,
    conflict_message,
    field_errors,
    redirect,
    render,
    require_filled,
    text,
    typed,
)
from services.gateway.web import call
from services.intake.custody import CONDITIONS, CUSTOMER, REPORT_METHODS, VISITS
from shared.errors import ConflictError, NotFound, ValidationFailed
from shared.rpc import audit_dict

CUSTODY_DONE = {
    "visit": "上门服务申请已登记",
    "sample": "样品已登记",
    "handover": "样品交接已记录",
    "return": "样品已退还，保管结束",
    "disposal": "样品处置已记录，保管结束",
    "delivery": "报告送达已记录",
}
MOVEMENTS = {"handed_over": "交接", "returned": "退还", "disposed": "处置"}


def moment(value: str, field: str, label: str) -> str:
    """A time typed in the browser's date-time field (Beijing) as aware ISO."""
    typed = value.replace(" ", "T", 1)
    try:
        found = datetime.fromisoformat(typed)
    except ValueError:
        found = None
    if found is None:
        raise ValidationFailed.single(field, f"{label}应写作 2026-11-26 10:00")
    if found.tzinfo is None:
        found = found.replace(tzinfo=BEIJING)
    return found.isoformat()


def holder_label(holder: str | None) -> str:
    return "客户" if holder == CUSTOMER else holder or "—"


def masked_custody(found: dict) -> dict:
    """The custody record for readers without need of contact data."""
    visits = [
        {
            **visit,
            "address": "***",
            "contact": access.mask_name(visit.get("contact", "")),
            "phone": access.mask_phone(visit.get("phone", "")),
        }
        for visit in found["visits"]
    ]
    deliveries = [
        {
            **delivery,
            "address": "***" if delivery.get("address") else "",
            "email": "***" if delivery.get("email") else "",
        }
        for delivery in found["deliveries"]
    ]
    return {**found, "visits": visits, "deliveries": deliveries}


def custody_arguments(command: str, form) -> list:
    """The intake RPC's arguments after the demand id, from the page's form;
    the empty required fields are named together before anything is sent."""
    if command == "visit":
        fields = ("kind", "address", "preferred_date", "contact", "phone")
        labels = ("请选择上门服务类型", "上门地址", "期望日期", "联系人", "联系电话")
        values = [text(form, name) for name in fields]
        require_filled(
            {f: (v, label) for f, v, label in zip(fields, values, labels, strict=True)}
        )
        return values
    if command == "sample":
        quantity = text(form, "quantity")
        require_filled(
            {
                "sample_id": (text(form, "sample_id"), "样品编号"),
                "description": (text(form, "description"), "样品描述"),
                "quantity": (quantity, "样品数量"),
            }
        )
        return [
            text(form, "sample_id"),
            text(form, "description"),
            int(quantity) if quantity.isdigit() else quantity,
            text(form, "condition"),
            text(form, "note"),
            text(form, "courier") or None,
        ]
    if command in ("handover", "return"):
        samples = form.getlist("sample_ids")
        required = {
            "sample_ids": (samples, "请勾选交接的样品"),
            "from_party": (text(form, "from_party"), "交出人"),
            "at": (text(form, "at"), "交接时间"),
            "place": (text(form, "place"), "交接地点"),
        }
        if command == "handover":
            required["to_party"] = (text(form, "to_party"), "接收人")
        require_filled(required)
        at = moment(text(form, "at"), "at", "交接时间")
        head = [samples, text(form, "from_party")]
        tail = [text(form, "place"), text(form, "condition"), text(form, "note")]
        if command == "handover":
            return [*head, text(form, "to_party"), at, *tail]
        return [*head, at, *tail, text(form, "to_party") or CUSTOMER]
    if command == "disposal":
        samples = form.getlist("sample_ids")
        require_filled(
            {
                "sample_ids": (samples, "请勾选处置的样品"),
                "from_party": (text(form, "from_party"), "请选择处置前的持有人"),
                "at": (text(form, "at"), "处置时间"),
                "place": (text(form, "place"), "处置地点"),
                "method": (text(form, "method"), "处置方式"),
            }
        )
        return [
            samples,
            text(form, "from_party"),
            moment(text(form, "at"), "at", "处置时间"),
            text(form, "place"),
            text(form, "method"),
        ]
    if command == "delivery":
        require_filled(
            {
                "report_no": (text(form, "report_no"), "报告编号"),
                "method": (text(form, "method"), "请选择送达方式"),
                "by": (text(form, "by"), "经办人"),
                "at": (text(form, "at"), "送达时间"),
            }
        )
        optional = ("address", "email", "tracking_no", "reason")
        return [
            text(form, "report_no"),
            text(form, "method"),
            text(form, "by"),
            moment(text(form, "at"), "at", "送达时间"),
            *(text(form, name) or None for name in optional),
        ]
    raise NotFound(command)


CUSTODY_RPCS = {
    "visit": "request_visit",
    "sample": "register_sample",
    "handover": "hand_over_samples",
    "return": "return_samples",
    "disposal": "dispose_samples",
    "delivery": "deliver_report",
}


class CustodyPages:
    """Mixed into PagesRoutes (RPC proxies, the gateway's checks, page helpers)."""

    def _custody_page(self, request, actor, demand, status=200, **context):
        found = call(self.intake.custody, demand["id"])
        if not access.sees_personal_data(actor):
            found = masked_custody(found)
        registration = call(self.intake.registration, demand["id"])
        holders = dict.fromkeys(
            s["holder"] for s in found["samples"] if s["state"] == "held"
        )
        now = datetime.now(BEIJING).strftime("%Y-%m-%dT%H:%M")
        return render(
            request,
            "custody.html",
            status,
            actor=actor,
            demand=demand,
            applicant=registration.get("applicant", ""),
            custody=found,
            holder_label=holder_label,
            movements=MOVEMENTS,
            condition_choices=[(c, c) for c in CONDITIONS],
            holders=[(h, holder_label(h)) for h in holders],
            visit_kinds=VISITS,
            report_methods=REPORT_METHODS,
            now=now,
            form=context.pop("form", {}),
            done=CUSTODY_DONE.get(request.args.get("done", "")),
            **context,
        )

    @http("GET", "/console/demands/<string:demand_id>/custody")
    @html_errors
    def custody_page(self, request, demand_id):
        """Visits, samples with their holders, the chain, deliveries (7.4.4)."""
        actor = self._console_actor(request, access.READERS_OF_CASES)
        demand = self._visible_demand(actor, demand_id)
        return self._custody_page(request, actor, demand)

    @http("POST", "/console/demands/<string:demand_id>/custody/<string:command>")
    @html_errors
    @with_csrf
    def custody_command_submit(self, request, demand_id, command):
        """Intake's custody command, by staff of the demand's institution."""
        if command not in CUSTODY_RPCS:
            raise NotFound(command)
        actor = self._console_actor(request, access.STAFF_ROLES)
        demand = self._visible_demand(actor, demand_id)
        try:
            args = custody_arguments(command, request.form)
            call(
                getattr(self.intake, CUSTODY_RPCS[command]),
                demand_id,
                *args,
                audit_data=audit_dict(actor, "window", demand_id),
            )
        except ValidationFailed as exc:
            errors = field_errors(exc.errors, command)
            shown = typed(request.form, command)
            shown[f"{command}.sample_ids"] = request.form.getlist("sample_ids")
            return self._custody_page(
                request, actor, demand, 400, errors=errors, form=shown
            )
        except ConflictError as exc:
            errors = {f"{command}.form": conflict_message(exc)}
            return self._custody_page(request, actor, demand, 409, errors=errors)
        return redirect(f"/console/demands/{demand_id}/custody?done={command}")
