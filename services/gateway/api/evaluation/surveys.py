"""Evaluation over HTTP: the customer's rating by progress code (9.2.1), a
survey and its call-back for the institutions of the case, the manager's
call-backs and improvement items, and half-year summaries (9.1.3, 9.3)."""

from __future__ import annotations

from werkzeug.wrappers import Response

from services.evaluation.contract import DIMENSIONS, LEVELS
from services.gateway.problems import download
from services.gateway.routing import answers
from services.gateway.routing.body import choice, fields, ignored, text, whole
from services.gateway.routing.declare import Call, endpoint, route
from services.gateway.routing.query import PAGE, param
from services.gateway.usecases import evaluation
from shared.errors import ValidationFailed

SUMMARIES = "/api/v1/evaluation/half-year-summaries"
SUMMARY = SUMMARIES + "/{summary_id}"
LEVEL = choice("评价", LEVELS)
RATING = fields(
    {
        "code": text("进度查询码", 32),
        "overall": LEVEL,
        "dimensions": fields(
            {key: choice(label, LEVELS) for key, label in DIMENSIONS.items()},
            title="分项评价",
        ),
        "comments": text("意见", 2000),
    },
    required=("code",),
)
FORMATS = {"json", "html", "pdf"}


# -- answers -----------------------------------------------------------------
SURVEY_ANSWER = answers.record("满意度调查（9.2.1）", (), id=answers.STRING)
CALL_BACK_ANSWER = answers.record("回访（9.2.1）", (), id=answers.STRING)
IMPROVEMENT_ANSWER = answers.record("改进事项（9.3）", (), id=answers.STRING)
SUMMARY_ANSWER = answers.record("半年度书面总结（9.1.3）", (), id=answers.STRING)


class SurveyRoutes:
    @route(
        "GET",
        "/api/v1/public/surveys",
        evaluation.surveys_for_code,
        "按进度查询码查看满意度评价（9.2.1）",
        query=(param("code", required=True), *PAGE),
        guard="code",
        codes=(404,),
        answer=answers.page(SURVEY_ANSWER),
    )
    def surveys_for_code(self, call: Call):
        """The customer's surveys, by the progress code they hold."""
        return call.paged(call.run(code=call.arg("code", None)))

    @route(
        "POST",
        "/api/v1/public/surveys/{survey_id}/rating",
        evaluation.rate,
        "客户评价：5个工作日内、仅限本人、仅一次",
        body=RATING,
        guard="code",
        answer=SURVEY_ANSWER,
    )
    def rate(self, call: Call):
        rating = {k: v for k, v in call.body.items() if k != "code"}
        return call.run(code=call.body.get("code"), rating=rating)

    get_survey = endpoint(
        "GET",
        "/api/v1/evaluation/surveys/{survey_id}",
        evaluation.survey,
        "满意度评价（评价对象机构、首问机构的服务人员；监管人员）",
        answer=SURVEY_ANSWER,
    )

    @route(
        "POST",
        "/api/v1/evaluation/call-backs/{call_back_id}/result",
        evaluation.record_call_back,
        "记录回访情况（9.2.1，回访人为记录者，仅一次）",
        body=fields(
            {
                "note": text("回访情况", 2000),
                "caller": ignored("回访人", "回访人为记录者本人"),
            },
            required=("note",),
        ),
        answer=CALL_BACK_ANSWER,
    )
    def record_call_back(self, call: Call):
        return call.run(note=call.body["note"])

    call_backs = endpoint(
        "GET",
        "/api/v1/evaluation/call-backs",
        evaluation.call_backs,
        "不满意评价的回访任务（管理人员）",
        paged=True,
        query=PAGE,
        answer=answers.page(CALL_BACK_ANSWER),
    )

    @route(
        "GET",
        "/api/v1/evaluation/improvements",
        evaluation.improvements,
        "改进事项（9.3，管理人员）",
        query=(param("status"), *PAGE),
        answer=answers.page(IMPROVEMENT_ANSWER),
    )
    def improvements(self, call: Call):
        return call.paged(call.run(status=call.arg("status")))

    @route(
        "POST",
        SUMMARIES,
        evaluation.draft_half_year,
        "起草半年度总结（9.1.3）",
        body=fields(
            {"year": whole("年份"), "half": choice("半年", [1, 2])},
            required=("year", "half"),
        ),
        status=201,
        answer=SUMMARY_ANSWER,
    )
    def draft_half_year(self, call: Call):
        """Draft the institution's summary of a half-year."""
        return call.run(year=call.body["year"], half=call.body["half"])

    @route(
        "GET",
        SUMMARY,
        evaluation.summary,
        "半年度总结（JSON、HTML 或可打印的 PDF）",
        media=("application/json", "text/html", "application/pdf"),
        query=(param("format", schema={"enum": sorted(FORMATS)}),),
        answer=SUMMARY_ANSWER,
    )
    def half_year_summary(self, call: Call):
        """JSON, ``?format=html`` to read or ``?format=pdf`` to print."""
        form = call.arg("format", "json")
        if form not in FORMATS:
            raise ValidationFailed.single("format", "应为 json、html 或 pdf")
        found = call.run(form=form)
        if form == "html":
            return Response(found, mimetype="text/html")
        if form == "pdf":
            name = f"half-year-{call.ids['summary_id']}.pdf"
            return download(found, "application/pdf", name)
        return found

    @route(
        "POST",
        SUMMARY + "/sign-off",
        evaluation.sign_off,
        "管理人员签发半年度总结",
        body=fields({"note": text("签发意见", 2000)}),
        answer=SUMMARY_ANSWER,
    )
    def sign_off_half_year(self, call: Call):
        return call.run(note=call.body.get("note", ""))
