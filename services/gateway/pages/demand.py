"""A demand's page and its staff commands (7.4, 8.3), and the partner's
referral inbox and referral page (8.3.4, 8.3.5).

Mixed into PagesRoutes. A page runs the use cases of the API's routes
(``demands.COMMANDS``, ``referrals.COMMANDS``); it only turns a form into the
body the API would have received.
"""

from __future__ import annotations

from nameko.web.handlers import http

from services.gateway.pages import rendering
from services.gateway.pages.command_forms import (
    CORRECTED_LINES,
    REVIEW_CHECKS,
    demand_body,
    referral_body,
)
from services.gateway.pages.files import completion_with_file
from services.gateway.pages.handlers import (
    html_errors,
    signed_in,
    submitted,
    with_csrf,
)
from services.gateway.pages.rendering import (
    field_errors,
    render,
    typed,
)
from services.gateway.usecases import catalog, demands, files, referrals
from services.referral.contract import PROGRESS_STAGES
from shared.errors import NotFound

OUTCOMES = {
    "referred": "转办（8.3.4）",
    "in_house": "本机构办理（8.3.2）",
    "answered": "当场答复（8.3.1）",
}
# the referral commands a page offers; the rules stay in the use cases
PAGE_REFERRAL_COMMANDS = (
    "sending",
    "acceptance",
    "return",
    "progress",
    "completion",
    "feedback",
)
DONE_MESSAGES = {
    "registered": "需求已登记",
    "take": "已受理，您是本需求的首问负责人",
    "materials-notice": "已一次性告知需补充的材料",
    "supplements": "已登记补充材料",
    "contract-review": "合同评审已记录",
    "decision": "分流决定已记录",
    "handover": "已提出移交，等待接收人答复",
    "handover-answer": "已答复移交",
    "handover-withdrawal": "已撤回移交",
    "reassignment": "已改派首问负责人",
    "correction": "登记表已更正，原值保留在办理记录中",
    "follow-ups": "跟进已记录",
    "green-channel": "已开通绿色通道",
    "resolution": "需求已办结",
    "reopening": "需求已重新办理",
    "sending": "转办已发送给承接机构",
    "acceptance": "已签收",
    "return": "已退回，原因已记录",
    "progress": "办理进度已报告",
    "completion": "已办结，报告已登记",
    "feedback": "已向首问负责人反馈",
}


class DemandPages:
    """Mixed into PagesRoutes."""

    def _demand_page(self, request, actor, demand_id, status=200, **context):
        found = demands.case_file(self, actor, demand_id=demand_id)
        names = catalog.institution_names(
            self, actor, ids={found["demand"]["institution"]}
        )
        # what the customer uploaded against the notice (7.4.3), for the
        # roles that may open it: the page the staff member checks them on
        uploaded = (
            files.materials(self, actor, demand_id=demand_id)
            if actor.role in files.materials.roles
            else []
        )
        return render(
            request,
            "demand.html",
            status,
            actor=actor,
            **found,
            review_checks=REVIEW_CHECKS,
            outcomes=OUTCOMES,
            corrected_lines=CORRECTED_LINES,
            institutions=names,
            uploaded=uploaded,
            form=context.pop("form", {}),
            done=DONE_MESSAGES.get(request.args.get("done", "")),
            **context,
        )

    @http("GET", "/console/demands/<string:demand_id>")
    @html_errors
    def demand_page(self, request, demand_id):
        return self._demand_page(request, signed_in(self, request), demand_id)

    @http("POST", "/console/demands/<string:demand_id>/<string:command>")
    @html_errors
    @with_csrf
    def demand_command_submit(self, request, demand_id, command):
        """The API's demand command, with the same role and institution checks."""
        if command not in demands.COMMANDS:
            raise NotFound(command)
        use = demands.COMMANDS[command]
        actor = signed_in(self, request)
        found = use.check(self, actor, {"demand_id": demand_id})

        def run():
            body = demand_body(command, request.form)
            use.run(
                self, actor, found, demand_id=demand_id, body=body, channel="window"
            )

        return submitted(
            run,
            lambda status, **shown: self._demand_page(
                request, actor, demand_id, status, **shown
            ),
            lambda _: f"/console/demands/{demand_id}?done={command}",
            command,
            typed(request.form, command),
        )

    # -- referrals: the partner's inbox and page (8.3.4, 8.3.5) -------------

    @http("GET", "/console/referrals")
    @html_errors
    def inbox_page(self, request):
        actor = signed_in(self, request)
        return render(
            request,
            "inbox.html",
            actor=actor,
            referrals=referrals.inbox(self, actor),
            done=DONE_MESSAGES.get(request.args.get("done", "")),
        )

    def _referral_page(self, request, actor, referral_id, status=200, **context):
        return render(
            request,
            "referral.html",
            status,
            actor=actor,
            referral=referrals.view(self, actor, referral_id=referral_id),
            stages=PROGRESS_STAGES,
            done=DONE_MESSAGES.get(request.args.get("done", "")),
            form=context.pop("form", {}),
            **context,
        )

    @http("GET", "/console/referrals/<string:referral_id>")
    @html_errors
    def referral_page(self, request, referral_id):
        return self._referral_page(request, signed_in(self, request), referral_id)

    @http("POST", "/console/referrals/<string:referral_id>/<string:command>")
    @html_errors
    @with_csrf
    def referral_command_submit(self, request, referral_id, command):
        """The API's referral command: role first, then whose referral it is."""
        if command not in PAGE_REFERRAL_COMMANDS:
            raise NotFound(command)
        use = referrals.COMMANDS[command]
        actor = signed_in(self, request)
        found = use.check(self, actor, {"referral_id": referral_id})
        # a returned referral is no longer the partner's: back to the inbox
        here = "/console/referrals" if command == "return" else ""
        back = rendering.safe_next(
            request.form.get("return_to"),
            here or f"/console/referrals/{referral_id}",
        )
        renamed = {
            "sha256": "report_file",
            "report": "report_no",
            "file": "report_file",
        }

        def errors_of(errors: list[dict]) -> dict:
            return {
                f"{command}.{renamed.get(k, k)}": v
                for k, v in field_errors(errors).items()
            }

        separator = "&" if "?" in back else "?"

        def run():
            if command == "completion":  # the e-report itself is kept (7.4.4)
                return completion_with_file(self, actor, found, referral_id, request)
            return use.run(
                self,
                actor,
                found,
                referral_id=referral_id,
                body=referral_body(command, request),
            )

        return submitted(
            run,
            lambda status, **shown: self._referral_page(
                request, actor, referral_id, status, **shown
            ),
            lambda _: f"{back}{separator}done={command}",
            command,
            typed(request.form),
            errors_of,
        )
