"""The service policy page: an institution's limits, each with its basis and
default, and the policy's version; the platform's admin changes them with a
reason (as POST /api/v1/policies/{institution}/revision).

Mixed into PagesRoutes; the page runs the use cases of its JSON routes
(``policy``): the admin and the regulator for any institution, a manager for
their own.
"""

from __future__ import annotations

from nameko.web.handlers import http

from services.gateway.pages.handlers import (
    html_errors,
    signed_in,
    submitted,
    with_csrf,
)
from services.gateway.pages.rendering import field_errors, render, text
from services.gateway.usecases import policy
from shared.errors import ValidationFailed


def _limits(form, items: list[dict]) -> dict:
    """The limits typed differently from those in force, as whole numbers."""
    changes, errors = {}, []
    for item in items:
        typed = text(form, item["key"])
        if typed == "" or typed == str(item["value"]):
            continue
        try:
            changes[item["key"]] = int(typed)
        except ValueError:
            errors.append({"field": item["key"], "message": "请填写整数"})
    if errors:
        raise ValidationFailed(errors)
    return changes


class PolicyPages:
    """Mixed into PagesRoutes."""

    def _policy_page(self, request, actor, institution, status=200, **context):
        found = policy.policy(self, actor, institution_id=institution)
        return render(
            request,
            "policy.html",
            status,
            actor=actor,
            policy=found,
            institution=institution,
            may_change=actor.role == "admin",
            form=context.pop("form", {}),
            errors=context.pop("errors", {}),
            done=request.args.get("done") == "1",
        )

    @http("GET", "/console/policy")
    @html_errors
    def policy_page(self, request):
        """``?institution=``; a manager's own institution by default."""
        actor = signed_in(self, request)
        institution = text(request.args, "institution") or actor.institution
        return self._policy_page(request, actor, institution or "-")

    @http("POST", "/console/policy/<string:institution>")
    @html_errors
    @with_csrf
    def policy_submit(self, request, institution):
        actor = signed_in(self, request)
        use = policy.change
        found = use.check(self, actor, {"institution_id": institution})
        current = policy.policy(self, actor, institution_id=institution)
        shown = {k: text(request.form, k) for k in request.form if k != "csrf"}

        def run():
            form = {
                "limits": _limits(request.form, current["items"]),
                "reason": text(request.form, "reason"),
            }
            return use.run(self, actor, found, institution_id=institution, form=form)

        return submitted(
            run,
            lambda status, **context: self._policy_page(
                request, actor, institution, status, **context
            ),
            lambda _: f"/console/policy?institution={institution}&done=1",
            shown=shown,
            errors_of=field_errors,
        )
