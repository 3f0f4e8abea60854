"""Staff work pages: fee quotes on a demand (5.3.1.5), the chain of custody of
its samples (7.4.4), and the manager's staff efficiency page (9.2.2).

Mixed into PagesRoutes. Every page reaches its objects through the checks the
JSON routes use (``_visible_demand``, ``_quote_in_reach``, ``_staff_in_reach``,
``_assessment_in_reach``), so a page of another institution is "not found".
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from nameko.web.handlers import http

from services.catalog.quotes import CUSTOMER_KINDS as QUOTE_CUSTOMER_KINDS
from services.catalog.quotes import STATES as QUOTE_STATES
from services.evaluation.domain import ImprovementItem
from services.evaluation.rules import IMPROVEMENT_STATUS
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
from shared.errors import ConflictError, NotFound, ValidationFailed
from shared.rpc import audit_dict

MANAGERS = frozenset({"manager"})
# blank line rows the draft form offers; rows left blank are not sent
QUOTE_ROWS = 4
LINE_INPUTS = ("item_code", "parameter", "unit_price", "samples")
QUOTE_ACTIONS = {
    "issue": "报价已出具，请交客户确认",
    "acceptance": "已记录客户接受报价",
    "withdrawal": "报价已撤回",
    "revision": "报价已修订为新版本（草稿），请核对后出具",
}
QUOTE_DONE = {"drafted": "报价草稿已生成，请核对后出具", **QUOTE_ACTIONS}
BLANK_NUMBERS = {"unit_price": "单价", "samples": "样品数量"}
ASSESSMENT_DONE = {
    "assessed": "效能评价已留存",
    "commented": "评价意见已记录",
    "improvement": "整改事项已登记，可在“回访与改进”中跟踪",
}
LINE_ERROR = re.compile(r"^lines\[(\d+)\]\.(\w+)$")


# -- quotes: the form's rows as the API's ``lines`` ----------------------------


def quote_lines(form) -> tuple[list[dict], list[int]]:
    """The filled rows of the lines table as API lines, and the row of each.

    Samples typed as digits are sent as a whole number, anything else as
    typed, so the catalog's rule names the row and field that is wrong."""
    columns = {name: form.getlist(name) for name in LINE_INPUTS}
    count = max((len(values) for values in columns.values()), default=0)
    lines, rows = [], []
    for row in range(count):
        cells = {
            name: (values[row] if row < len(values) else "").strip()
            for name, values in columns.items()
        }
        if not any(cells.values()):
            continue
        samples = cells["samples"]
        lines.append(
            {**cells, "samples": int(samples) if samples.isdigit() else samples}
        )
        rows.append(row)
    return lines, rows


def quote_errors(
    errors: list[dict], lines: list[dict], rows: list[int], prefix: str
) -> dict[str, str]:
    """The catalog's errors by the page's field names: ``lines[1].samples``
    of the second filled row becomes ``<prefix>.lines.<row>.samples``; a
    number left blank is asked for, not called "not a number"."""
    renamed = []
    for error in errors:
        field = str(error.get("field") or "form")
        found = LINE_ERROR.match(field)
        if found and int(found.group(1)) < len(rows):
            index, name = int(found.group(1)), found.group(2)
            field = f"lines.{rows[index]}.{name}"
            if name in BLANK_NUMBERS and lines[index].get(name) == "":
                error = {**error, "message": f"请填写{BLANK_NUMBERS[name]}"}
        renamed.append({**error, "field": f"{prefix}.{field}"})
    return field_errors(renamed)


def shown_rows(form, count: int = QUOTE_ROWS) -> list[dict]:
    """The rows as typed, to show again after a refusal (at least ``count``)."""
    columns = {name: form.getlist(name) for name in LINE_INPUTS}
    total = max([count, *(len(values) for values in columns.values())])
    return [
        {
            name: (values[row] if row < len(values) else "")
            for name, values in columns.items()
        }
        for row in range(total)
    ]


def rows_of(lines: list[dict], count: int = QUOTE_ROWS) -> list[dict]:
    """A quote's lines as rows of the form, with blank rows to add more."""
    rows = [{name: str(line.get(name, "")) for name in LINE_INPUTS} for line in lines]
    blank = dict.fromkeys(LINE_INPUTS, "")
    return rows + [dict(blank) for _ in range(max(count - len(rows), 1))]


# -- efficiency: a period typed as two days, Beijing time ---------------------


def efficiency_period(since: str, until: str, today: date) -> tuple[str, str]:
    """``[since, until]`` days (both included) as the aware ``[since, until)``
    moments the evaluation service counts; by default this half-year so far."""
    first = date(today.year, 1 if today.month <= 6 else 7, 1)
    errors, days = [], {}
    for field, value, default in (("since", since, first), ("until", until, today)):
        try:
            days[field] = date.fromisoformat(value) if value else default
        except ValueError:
            errors.append({"field": field, "message": "日期应写作 2026-05-31"})
    if not errors and days["until"] < days["since"]:
        errors.append({"field": "until", "message": "截止日期不能早于起始日期"})
    if errors:
        raise ValidationFailed(errors)
    start = datetime.combine(days["since"], time(0), BEIJING)
    end = datetime.combine(days["until"] + timedelta(days=1), time(0), BEIJING)
    return start.isoformat(), end.isoformat()


def period_days(since: str, until: str) -> tuple[str, str]:
    """The aware ``[since, until)`` moments as the days a person typed."""
    start = datetime.fromisoformat(since).astimezone(BEIJING).date()
    end = datetime.fromisoformat(until).astimezone(BEIJING).date() - timedelta(days=1)
    return start.isoformat(), end.isoformat()


class WorkPages:
    """Mixed into PagesRoutes (RPC proxies, the gateway's checks, page helpers)."""

    # -- fee quotes (5.3.1.5) -------------------------------------------------

    def _quotes_of(self, demand_id: str) -> list[dict]:
        """The demand's quotes, oldest first: the catalog files each quote's
        events under the demand's case, so its case history names them."""
        ids = []
        for row in call(self.catalog.case_events, demand_id):
            if (
                str(row["event"]).startswith("Quote.")
                and row["aggregate_id"] not in ids
            ):
                ids.append(row["aggregate_id"])
        return [call(self.catalog.quote, quote_id) for quote_id in ids]

    def _quotes_page(self, request, actor, demand, status=200, **context):
        registration = call(self.intake.registration, demand["id"])
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
            quotes=self._quotes_of(demand["id"]),
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
        """The demand's quotes and a form to draft one (as GET /api/v1/quotes)."""
        actor = self._console_actor(request, access.READERS_OF_CASES)
        demand = self._visible_demand(actor, demand_id)
        return self._quotes_page(request, actor, demand)

    @http("POST", "/console/demands/<string:demand_id>/quotes")
    @html_errors
    @with_csrf
    def quote_draft_submit(self, request, demand_id):
        """POST /api/v1/demands/{id}/quotes from the form: staff and managers of
        the demand's institution."""
        actor = self._console_actor(request, access.STAFF_ROLES)
        demand = self._visible_demand(actor, demand_id)
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
            drafted = call(
                self.catalog.draft_quote,
                demand_id,
                body,
                audit_data=audit_dict(actor, "web", demand_id),
            )
        except ValidationFailed as exc:
            return self._quotes_page(
                request,
                actor,
                demand,
                400,
                errors=quote_errors(exc.errors, lines, rows, "draft"),
                form=shown,
                rows=shown_rows(request.form),
            )
        return redirect(f"/console/quotes/{drafted['id']}?done=drafted")

    def _quote_page(self, request, actor, quote, status=200, **context):
        demand = self._visible_demand(actor, quote["demand_id"])
        rows = context.pop("rows", None) or rows_of(quote["breakdown"]["lines"])
        return render(
            request,
            "quote.html",
            status,
            actor=actor,
            quote=quote,
            demand=demand,
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
        actor = self._console_actor(request, access.READERS_OF_CASES)
        quote = self._quote_in_reach(actor, quote_id, access.READERS_OF_CASES)
        return self._quote_page(request, actor, quote)

    @staticmethod
    def _quote_arguments(action: str, form) -> tuple[str, list, list[int]]:
        """The catalog's action and arguments of a quote form, as the API's
        routes build them; the rows of a revision's lines."""
        if action == "acceptance":
            revision = text(form, "revision")
            if not revision.isdigit():
                raise ValidationFailed.single("revision", "请写明所接受的报价版本号")
            return "accept", [int(revision)], []
        if action == "withdrawal":
            return "withdraw", [text(form, "reason")], []
        if action == "revision":
            lines, rows = quote_lines(form)
            discount = text(form, "discount_percent") or "0"
            return (
                "revise",
                [lines, discount, text(form, "green_channel") == "yes"],
                rows,
            )
        return "issue", [], []

    @http("POST", "/console/quotes/<string:quote_id>/<string:action>")
    @html_errors
    @with_csrf
    def quote_action_submit(self, request, quote_id, action):
        """Issue, record acceptance, withdraw or revise, as /api/v1/quotes/…"""
        if action not in QUOTE_ACTIONS:
            raise NotFound(action)
        actor = self._console_actor(request, access.STAFF_ROLES)
        quote = self._quote_in_reach(actor, quote_id, access.STAFF_ROLES)
        lines: list[dict] = []
        rows: list[int] = []
        try:
            command, args, rows = self._quote_arguments(action, request.form)
            lines = args[0] if command == "revise" else []
            call(
                self.catalog.change_quote,
                quote_id,
                command,
                args,
                audit_data=audit_dict(actor, "web", quote["demand_id"]),
            )
        except ValidationFailed as exc:
            shown = typed(request.form)
            return self._quote_page(
                request,
                actor,
                quote,
                400,
                errors=quote_errors(exc.errors, lines, rows, action),
                form=shown,
                rows=shown_rows(request.form) if action == "revision" else None,
            )
        except ConflictError as exc:
            errors = {f"{action}.form": conflict_message(exc)}
            return self._quote_page(request, actor, quote, 409, errors=errors)
        return redirect(f"/console/quotes/{quote_id}?done={action}")

    # -- staff efficiency (9.2.2) ---------------------------------------------

    def _own_staff(self, actor) -> list[dict]:
        """The active staff and managers of the manager's institution."""
        return [
            account
            for account in self.app.accounts()
            if account["role"] in access.STAFF_ROLES
            and account["institution"] == actor.institution
            and account["active"]
        ]

    def _staff_figures(self, actor, since: str, until: str) -> list[dict]:
        return [
            {
                **account,
                "figures": call(
                    self.evaluation.efficiency_figures,
                    account["username"],
                    since,
                    until,
                ),
            }
            for account in self._own_staff(actor)
        ]

    def _efficiency_page(self, request, actor, status=200, **context):
        shown = context.pop("form", None) or {
            "since": text(request.args, "since"),
            "until": text(request.args, "until"),
        }
        errors = context.pop("errors", {})
        today = datetime.now(UTC).astimezone(BEIJING).date()
        try:
            since, until = efficiency_period(shown["since"], shown["until"], today)
        except ValidationFailed as exc:
            errors.update(field_errors(exc.errors))
            status = 400
            since, until = efficiency_period("", "", today)
        days = period_days(since, until)
        return render(
            request,
            "efficiency.html",
            status,
            actor=actor,
            form={
                "since": shown["since"] or days[0],
                "until": shown["until"] or days[1],
            },
            errors=errors,
            period=days,
            staff=self._staff_figures(actor, since, until),
            **context,
        )

    @http("GET", "/console/efficiency")
    @html_errors
    def efficiency_page(self, request):
        """The manager's own staff: professionalism, timeliness, integrity and
        satisfaction over a period (as GET …/staff/{id}/efficiency)."""
        actor = self._console_actor(request, MANAGERS)
        return self._efficiency_page(request, actor)

    @http("POST", "/console/efficiency/<string:staff_id>/assessments")
    @html_errors
    @with_csrf
    def efficiency_assess_submit(self, request, staff_id):
        """Store the period's figures as the staff member's assessment."""
        actor = self._console_actor(request, MANAGERS)
        self._staff_in_reach(actor, staff_id, MANAGERS)
        shown = {
            "since": text(request.form, "since"),
            "until": text(request.form, "until"),
        }
        today = datetime.now(UTC).astimezone(BEIJING).date()
        try:
            require_filled(
                {
                    "since": (shown["since"], "起始日期"),
                    "until": (shown["until"], "截止日期"),
                }
            )
            since, until = efficiency_period(shown["since"], shown["until"], today)
            assessed = call(
                self.evaluation.assess_efficiency,
                staff_id,
                since,
                until,
                audit_data=audit_dict(actor, "web"),
            )
        except ValidationFailed as exc:
            return self._efficiency_page(
                request, actor, 400, errors=field_errors(exc.errors), form=shown
            )
        return redirect(
            f"/console/efficiency/assessments/{assessed['id']}?done=assessed"
        )

    def _assessment_page(self, request, actor, assessment_id, status=200, **context):
        assessment = self._assessment_in_reach(actor, assessment_id, MANAGERS)
        account = self.app.account(assessment["staff_id"])
        return render(
            request,
            "assessment.html",
            status,
            actor=actor,
            assessment=assessment,
            staff_name=account.display_name if account else assessment["staff_id"],
            period=period_days(assessment["since"], assessment["until"]),
            owners=self._own_staff(actor),
            improvement=self._improvement_of(assessment_id),
            improvement_status=IMPROVEMENT_STATUS,
            form=context.pop("form", {}),
            done=ASSESSMENT_DONE.get(request.args.get("done", "")),
            **context,
        )

    def _improvement_of(self, assessment_id: str) -> dict | None:
        """The improvement item opened from this assessment, if any (one per
        assessment: its id derives from its source)."""
        item_id = ImprovementItem.create_id("efficiency", assessment_id)
        try:
            return call(self.evaluation.improvement, str(item_id))
        except NotFound:
            return None

    @http("GET", "/console/efficiency/assessments/<string:assessment_id>")
    @html_errors
    def assessment_page(self, request, assessment_id):
        actor = self._console_actor(request, MANAGERS)
        return self._assessment_page(request, actor, assessment_id)

    @http("POST", "/console/efficiency/assessments/<string:assessment_id>/comments")
    @html_errors
    @with_csrf
    def assessment_comment_submit(self, request, assessment_id):
        actor = self._console_actor(request, MANAGERS)
        self._assessment_in_reach(actor, assessment_id, MANAGERS)
        comment = text(request.form, "comment")
        try:
            require_filled({"comment": (comment, "评价意见")})
            call(
                self.evaluation.comment_efficiency,
                assessment_id,
                comment,
                audit_data=audit_dict(actor, "web"),
            )
        except ValidationFailed as exc:
            errors = field_errors(exc.errors, "comment")
            return self._assessment_page(
                request,
                actor,
                assessment_id,
                400,
                errors=errors,
                form={"comment": comment},
            )
        return redirect(
            f"/console/efficiency/assessments/{assessment_id}?done=commented"
        )

    @http("POST", "/console/efficiency/assessments/<string:assessment_id>/improvements")
    @html_errors
    @with_csrf
    def assessment_improvement_submit(self, request, assessment_id):
        """An improvement item from the assessment's finding (9.3), as the API's
        route opens it: for the manager's own institution."""
        actor = self._console_actor(request, MANAGERS)
        self._assessment_in_reach(actor, assessment_id, MANAGERS)
        fields = ("finding", "owner", "actions", "deadline")
        shown = {name: text(request.form, name) for name in fields}
        actions = [line.strip() for line in shown["actions"].splitlines()]
        try:
            require_filled(
                {
                    "finding": (shown["finding"], "存在的问题"),
                    "owner": (shown["owner"], "请选择责任人"),
                    "actions": (shown["actions"], "整改措施（每行一项）"),
                    "deadline": (shown["deadline"], "整改期限"),
                }
            )
            form = {
                "finding": shown["finding"],
                "owner": shown["owner"],
                "actions": [action for action in actions if action],
                "deadline": shown["deadline"],
                "source": "efficiency",
                "ref": assessment_id,
                "institution_id": actor.institution,
            }
            call(
                self.evaluation.open_improvement,
                form,
                audit_data=audit_dict(actor, "web"),
            )
        except ValidationFailed as exc:
            # an item already opened from this assessment is named by its source
            errors = {
                f"improvement.{'form' if k == 'ref' else k}": v
                for k, v in field_errors(exc.errors).items()
            }
            return self._assessment_page(
                request,
                actor,
                assessment_id,
                400,
                errors=errors,
                form={f"improvement.{k}": v for k, v in shown.items()},
            )
        return redirect(
            f"/console/efficiency/assessments/{assessment_id}?done=improvement"
        )
