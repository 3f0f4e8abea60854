"""Fee quotes on a demand (5.3.1.5): the demand's quotes with a form to draft
one, and a quote's page to issue, record acceptance, withdraw or revise it.

Mixed into PagesRoutes; each page runs the use case of its JSON route
(``quotes``), so another institution's quote is "not found".
"""

from __future__ import annotations

from nameko.web.handlers import http

from services.catalog.contract import QUOTE_CUSTOMER_KINDS, QUOTE_STATES
from services.gateway.pages.handlers import html_errors, signed_in, with_csrf
from services.gateway.pages.rendering import redirect, render, text, typed
from services.gateway.pages.work import quote_errors, quote_lines, rows_of, shown_rows
from services.gateway.routing.refusals import conflict_message
from services.gateway.usecases import quotes
from shared.errors import ConflictError, NotFound, ValidationFailed

QUOTE_ACTIONS = {
    "issue": "报价已出具，请交客户确认",
    "acceptance": "已记录客户接受报价",
    "withdrawal": "报价已撤回",
    "revision": "报价已修订为新版本（草稿），请核对后出具",
}
QUOTE_DONE = {"drafted": "报价草稿已生成，请核对后出具", **QUOTE_ACTIONS}


def quote_arguments(action: str, form) -> tuple[list, list[int]]:
    """The catalog's arguments of a quote form, as the API's routes build
    them; the rows of a revision's lines."""
    if action == "acceptance":
        revision = text(form, "revision")
        if not revision.isdigit():
            raise ValidationFailed.single("revision", "请写明所接受的报价版本号")
        return [int(revision)], []
    if action == "withdrawal":
        return [text(form, "reason")], []
    if action == "revision":
        lines, rows = quote_lines(form)
        discount = text(form, "discount_percent") or "0"
        return [lines, discount, text(form, "green_channel") == "yes"], rows
    return [], []


class QuotePages:
    """Mixed into PagesRoutes."""

    def _quotes_page(self, request, actor, demand_id, status=200, **context):
        found = quotes.of_demand(self, actor, demand_id=demand_id)
        demand, registration = found["demand"], found["registration"]
        form = context.pop("form", None) or {
            "customer_kind": registration.get("customer_kind", "company"),
            "discount_percent": "",
            "green_channel": "yes" if demand.get("green_channel") else "",
        }
        codes = [need["item_code"] for need in demand["needs"]]
        return render(
            request,
            "quotes.html",
            status,
            actor=actor,
            demand=demand,
            applicant=registration.get("applicant", ""),
            quotes=found["quotes"],
            states=QUOTE_STATES,
            kinds=QUOTE_CUSTOMER_KINDS,
            form=form,
            rows=context.pop("rows", None)
            or rows_of([{"item_code": code} for code in codes]),
            done=QUOTE_DONE.get(request.args.get("done", "")),
            **context,
        )

    @http("GET", "/console/demands/<string:demand_id>/quotes")
    @html_errors
    def quotes_page(self, request, demand_id):
        """The demand's quotes and a form to draft one."""
        return self._quotes_page(request, signed_in(self, request), demand_id)

    @http("POST", "/console/demands/<string:demand_id>/quotes")
    @html_errors
    @with_csrf
    def quote_draft_submit(self, request, demand_id):
        """POST /api/v1/demands/{id}/quotes from the form: staff and managers of
        the demand's institution."""
        actor = signed_in(self, request)
        found = quotes.draft.check(self, actor, {"demand_id": demand_id})
        lines, rows = quote_lines(request.form)
        shown = {
            "customer_kind": text(request.form, "customer_kind"),
            "discount_percent": text(request.form, "discount_percent"),
            "green_channel": text(request.form, "green_channel"),
        }
        body = {
            "lines": lines,
            "discount_percent": shown["discount_percent"] or "0",
            "customer_kind": shown["customer_kind"],
            "green_channel": shown["green_channel"] == "yes",
        }
        try:
            drafted = quotes.draft.run(
                self, actor, found, demand_id=demand_id, form=body
            )
        except ValidationFailed as exc:
            return self._quotes_page(
                request,
                actor,
                demand_id,
                400,
                errors=quote_errors(exc.errors, lines, rows, "draft"),
                form=shown,
                rows=shown_rows(request.form),
            )
        return redirect(f"/console/quotes/{drafted['id']}?done=drafted")

    def _quote_page(self, request, actor, quote_id, status=200, **context):
        found = quotes.sheet(self, actor, quote_id=quote_id)
        quote = found["quote"]
        rows = context.pop("rows", None) or rows_of(quote["breakdown"]["lines"])
        return render(
            request,
            "quote.html",
            status,
            actor=actor,
            quote=quote,
            demand=found["demand"],
            states=QUOTE_STATES,
            kinds=QUOTE_CUSTOMER_KINDS,
            rows=rows,
            form=context.pop("form", {}),
            done=QUOTE_DONE.get(request.args.get("done", "")),
            **context,
        )

    @http("GET", "/console/quotes/<string:quote_id>")
    @html_errors
    def quote_page(self, request, quote_id):
        return self._quote_page(request, signed_in(self, request), quote_id)

    @http("POST", "/console/quotes/<string:quote_id>/<string:action>")
    @html_errors
    @with_csrf
    def quote_action_submit(self, request, quote_id, action):
        """Issue, record acceptance, withdraw or revise, as /api/v1/quotes/…"""
        if action not in QUOTE_ACTIONS:
            raise NotFound(action)
        use = quotes.CHANGES[action]
        actor = signed_in(self, request)
        found = use.check(self, actor, {"quote_id": quote_id})
        args: list = []
        rows: list[int] = []
        try:
            args, rows = quote_arguments(action, request.form)
            use.run(self, actor, found, quote_id=quote_id, args=args)
        except ValidationFailed as exc:
            lines = args[0] if action == "revision" and args else []
            return self._quote_page(
                request,
                actor,
                quote_id,
                400,
                errors=quote_errors(exc.errors, lines, rows, action),
                form=typed(request.form),
                rows=shown_rows(request.form) if action == "revision" else None,
            )
        except ConflictError as exc:
            errors = {f"{action}.form": conflict_message(exc)}
            return self._quote_page(request, actor, quote_id, 409, errors=errors)
        return redirect(f"/console/quotes/{quote_id}?done={action}")
