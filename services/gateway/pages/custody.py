"""The custody page of a demand (7.4.4): door-to-door visits, its samples and
every hand-over of them (the chain of custody), returns or disposal, and
report delivery.

Mixed into PagesRoutes. Staff and managers of the demand's institution read
and write; the regulator reads, with the customer's contact data masked;
anyone else gets "not found": each page runs the use case of its JSON route
(``custody``).
"""

from __future__ import annotations

from nameko.web.handlers import http

from services.gateway.pages.handlers import (
    html_errors,
    signed_in,
    submitted,
    with_csrf,
)
from services.gateway.pages.rendering import (
    render,
    text,
    typed,
)
from services.gateway.usecases import custody
from services.intake.contract import CONDITIONS, CUSTOMER, REPORT_METHODS, VISITS
from shared import calendar
from shared.errors import NotFound
from shared.validation import require_filled, typed_moment

CUSTODY_DONE = {
    "visit": "上门服务申请已登记",
    "sample": "样品已登记",
    "handover": "样品交接已记录",
    "return": "样品已退还，保管结束",
    "disposal": "样品处置已记录，保管结束",
    "delivery": "报告送达已记录",
}
MOVEMENTS = {"handed_over": "交接", "returned": "退还", "disposed": "处置"}


def holder_label(holder: str | None) -> str:
    return "客户" if holder == CUSTOMER else holder or "—"


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
        at = typed_moment(text(form, "at"), "at", "交接时间").isoformat()
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
            typed_moment(text(form, "at"), "at", "处置时间").isoformat(),
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
            typed_moment(text(form, "at"), "at", "送达时间").isoformat(),
            *(text(form, name) or None for name in optional),
        ]
    raise NotFound(command)


class CustodyPages:
    """Mixed into PagesRoutes."""

    def _custody_page(self, request, actor, demand_id, status=200, **context):
        found = custody.sheet(self, actor, demand_id=demand_id)
        record = found["custody"]
        holders = dict.fromkeys(
            s["holder"] for s in record["samples"] if s["state"] == "held"
        )
        now = calendar.now().strftime("%Y-%m-%dT%H:%M")
        return render(
            request,
            "custody.html",
            status,
            actor=actor,
            **found,
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
        return self._custody_page(request, signed_in(self, request), demand_id)

    @http("POST", "/console/demands/<string:demand_id>/custody/<string:command>")
    @html_errors
    @with_csrf
    def custody_command_submit(self, request, demand_id, command):
        """Intake's custody command, by staff of the demand's institution."""
        if command not in custody.COMMANDS:
            raise NotFound(command)
        use = custody.COMMANDS[command]
        actor = signed_in(self, request)
        found = use.check(self, actor, {"demand_id": demand_id})
        shown = typed(request.form, command)
        shown[f"{command}.sample_ids"] = request.form.getlist("sample_ids")
        return submitted(
            lambda: use.run(
                self,
                actor,
                found,
                demand_id=demand_id,
                channel="window",
                args=custody_arguments(command, request.form),
            ),
            lambda status, **context: self._custody_page(
                request, actor, demand_id, status, **context
            ),
            lambda _: f"/console/demands/{demand_id}/custody?done={command}",
            command,
            shown,
        )
