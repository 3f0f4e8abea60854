"""Evaluation on SQLite and PostgreSQL: facts noted once, surveys and their
follow-ups exactly once, efficiency figures equal to hand-computed values and
to a rebuilt projection's, a half-year summary matching its events."""

import io
from datetime import datetime, timedelta
from uuid import UUID

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from services.evaluation import report, tables, views
from services.evaluation.application import EvaluationApplication
from services.evaluation.domain import CallBack, ImprovementItem
from services.evaluation.rules import DIMENSIONS
from shared import audit
from shared.audit import Actor, AuditContext
from shared.calendar import SHANGHAI
from shared.envelope import Envelope
from shared.errors import NotFound, ValidationFailed

D1 = "4c1f0d2e-0000-4000-8000-0000000000d1"
D2 = "4c1f0d2e-0000-4000-8000-0000000000d2"
D3 = "4c1f0d2e-0000-4000-8000-0000000000d3"
CODES = {"CODEAAAAA1": D1, "CODEAAAAA2": D2, "CODEAAAAA3": D3}
NOVEMBER = (
    datetime(2026, 11, 1, tzinfo=SHANGHAI),
    datetime(2026, 12, 1, tzinfo=SHANGHAI),
)


def at(*args) -> str:
    return datetime(*args, tzinfo=SHANGHAI).isoformat()


def as_manager():
    return audit.audit_scope(AuditContext(actor=Actor("manager-1", "manager", "jsqi")))


def lookup(code: str) -> dict:
    """intake's demand_for_progress_code, as a fake over a fixed table"""
    if code not in CODES:
        raise NotFound("progress code")
    return {"demand_id": CODES[code]}


class Facts:
    """Builds envelopes as the publishers do, each source numbering its own."""

    def __init__(self):
        self.positions: dict[str, int] = {}
        self.versions: dict[str, int] = {}

    def __call__(
        self, source, event_type, data, occurred_at, staff="staff-a", institution="jsqi"
    ):
        position = self.positions[source] = self.positions.get(source, 0) + 1
        aggregate = data.get("demand_id") or data.get("complaint_id")
        key = f"{source}/{aggregate}"
        if source == "referral":
            aggregate = key = data["referral_id"]
        version = self.versions[key] = self.versions.get(key, 0) + 1
        return Envelope(
            event_id=Envelope.event_id_for(source, aggregate, version),
            type=event_type,
            schema_version=1,
            occurred_at=occurred_at,
            source=source,
            position=position,
            aggregate_id=aggregate,
            aggregate_version=version,
            correlation_id=data.get("demand_id") or aggregate,
            causation_id="",
            actor={"id": staff, "role": "staff", "institution": institution},
            channel="window",
            data=data,
        )


@pytest.fixture
def evaluation(databases):
    app = EvaluationApplication()
    yield app
    app.close()


def registered(facts, demand_id, channel, when):
    needs = [{"item_code": "6.3", "description": "EMC"}]
    data = {"demand_id": demand_id, "channel": channel, "needs": needs}
    return facts("intake", "DemandRegistered", {**data, "registered_at": when}, when)


def resolved(facts, demand_id, outcome, when, staff="staff-a"):
    data = {
        "demand_id": demand_id,
        "outcome": outcome,
        "resolved_by": staff,
        "resolved_at": when,
    }
    return facts("intake", "DemandResolved", data, when, staff)


def completed(facts, referral_id, demand_id, when, on_time):
    data = {
        "referral_id": referral_id,
        "demand_id": demand_id,
        "item_code": "6.3",
        "institution_id": "lab-x",
        "sent_at": when,
        "accepted_at": when,
        "completed_at": when,
        "acceptance_due": when,
        "completion_due": when,
        "on_time": on_time,
        "report_no": f"R-{referral_id}",
    }
    return facts("referral", "ReferralCompleted", data, when, "partner-1")


def complaint(facts, complaint_id, demand_id, when):
    data = {
        "complaint_id": complaint_id,
        "number": f"TS-2026-{complaint_id[-6:]}",
        "channel": "website",
        "anonymous": False,
        "received_at": when,
        "demand_id": demand_id,
        "referral_id": "",
        "institution_id": "jsqi",
        "staff_id": "staff-a",
        "verified": True,  # filed with the case's progress code (9.2.2)
    }
    return facts("complaints", "ComplaintReceived", data, when, "handler-1")


def corrective(facts, complaint_id, demand_id, when, outcome="upheld"):
    data = {
        "complaint_id": complaint_id,
        "number": f"TS-2026-{complaint_id[-6:]}",
        "action": "报价与收费自动核对",
        "owner": "财务部",
        "outcome": outcome,
        "demand_id": demand_id,
        "institution_id": "jsqi",
    }
    return facts("complaints", "CorrectiveActionAgreed", data, when, "handler-1")


def form(overall, comments=""):
    return {
        "overall": overall,
        "dimensions": {key: overall for key in DIMENSIONS},
        "comments": comments,
    }


def survey_of(app, demand_id, source="demand"):
    rows = [
        s for s in views.for_demand(app, demand_id)["services"] if s["source"] == source
    ]
    assert len(rows) == 1, rows
    return rows[0]["survey_id"]


def seed_november(app) -> None:
    """The fixture the hand-computed figures below come from."""
    f = Facts()
    handle = app.on_fact
    handle(registered(f, D1, "window", at(2026, 11, 2, 9, 0)))
    handle(
        f(
            "intake",
            "DemandTaken",
            {
                "demand_id": D1,
                "staff_id": "staff-a",
                "taken_at": at(2026, 11, 2, 11, 0),
            },
            at(2026, 11, 2, 11, 0),
        )
    )  # noqa: E501
    handle(registered(f, D2, "window", at(2026, 11, 2, 16, 30)))
    handle(
        f(
            "intake",
            "DemandTaken",
            {
                "demand_id": D2,
                "staff_id": "staff-a",
                "taken_at": at(2026, 11, 3, 10, 30),
            },
            at(2026, 11, 3, 10, 30),
        )
    )  # noqa: E501
    handle(registered(f, D3, "phone", at(2026, 11, 4, 9, 0)))
    handle(
        f(
            "intake",
            "DemandTaken",
            {
                "demand_id": D3,
                "staff_id": "staff-b",
                "taken_at": at(2026, 11, 4, 9, 30),
            },
            at(2026, 11, 4, 9, 30),
            "staff-b",
        )
    )  # noqa: E501
    handle(
        f(
            "intake",
            "DemandHandedOver",
            {"demand_id": D3, "staff_id": "staff-a", "at": at(2026, 11, 5, 9, 0)},
            at(2026, 11, 5, 9, 0),
        )
    )  # noqa: E501
    for demand_id, passed in ((D1, True), (D2, False), (D3, True)):
        review = {"demand_id": demand_id, "staff_id": "staff-a", "passed": passed}
        handle(f("intake", "ContractReviewed", review, at(2026, 11, 6, 10, 0)))
    violation = {"demand_id": D2, "staff_id": "staff-a", "late": ["营业执照"]}
    handle(f("intake", "NoticeViolation", violation, at(2026, 11, 6, 11, 0)))
    handle(f("intake", "NoticeViolation", violation, at(2026, 10, 30, 11, 0)))
    handle(resolved(f, D1, "referred", at(2026, 11, 10, 10, 0)))
    handle(resolved(f, D2, "in_house", at(2026, 11, 11, 10, 0)))
    handle(completed(f, "r-1", D1, at(2026, 11, 20, 10, 0), True))
    handle(completed(f, "r-3", D3, at(2026, 11, 25, 10, 0), False))
    handle(completed(f, "r-2", D2, at(2026, 12, 3, 10, 0), True))
    handle(
        complaint(f, "c0000000-0000-4000-8000-000000000001", D1, at(2026, 11, 15, 9, 0))
    )  # noqa: E501
    handle(
        corrective(
            f, "c0000000-0000-4000-8000-000000000001", D1, at(2026, 11, 16, 9, 0)
        )
    )  # noqa: E501
    handle(
        complaint(f, "c0000000-0000-4000-8000-000000000002", D2, at(2026, 11, 16, 9, 0))
    )  # noqa: E501
    app.rate(
        survey_of(app, D1),
        "CODEAAAAA1",
        form("非常满意"),
        lookup,
        at(2026, 11, 12, 9, 0),
    )  # noqa: E501
    app.rate(
        survey_of(app, D2),
        "CODEAAAAA2",
        form("不满意", "等了太久"),
        lookup,
        at(2026, 11, 13, 9, 0),
    )  # noqa: E501
    app.rate(
        survey_of(app, D1, "referral"),
        "CODEAAAAA1",
        form("满意"),
        lookup,
        at(2026, 11, 23, 9, 0),
    )  # noqa: E501


# -- satisfaction and its follow-ups, exactly once --------------------------


def test_a_resolution_delivered_twice_issues_one_survey(evaluation):
    f = Facts()
    envelope = resolved(f, D1, "answered", at(2026, 9, 30, 16, 0))
    assert evaluation.on_fact(envelope) is True
    assert evaluation.on_fact(envelope) is False
    (row,) = views.for_demand(evaluation, D1)["services"]
    # 5 working days after Wed 30 Sep, across National Day: Tue 13 Oct 17:30
    assert row["due_at"] == "2026-10-13T09:30:00+00:00"
    assert row["status"] == "issued" and row["staff_id"] == "staff-a"


def test_an_unsatisfied_rating_opens_one_call_back_and_one_improvement_item(
    evaluation,
):
    f = Facts()
    envelope = resolved(f, D1, "answered", at(2026, 11, 10, 10, 0))
    evaluation.on_fact(envelope)
    evaluation.on_fact(envelope)
    survey_id = survey_of(evaluation, D1)
    rated = evaluation.rate(
        survey_id,
        "CODEAAAAA1",
        form("非常不满意", "收费不透明"),
        lookup,
        at(2026, 11, 11, 9, 0),
    )
    assert len(rated["follow_up"]) == 2
    with pytest.raises(ValidationFailed) as caught:
        evaluation.rate(
            survey_id, "CODEAAAAA1", form("非常不满意"), lookup, at(2026, 11, 11, 10, 0)
        )
    assert caught.value.errors[0]["field"] == "status"
    kinds = [
        type(evaluation.mapper.to_domain_event(n)).__qualname__
        for n in evaluation.recorder.select_notifications(start=1, limit=100)
    ]
    assert kinds.count("CallBack.Opened") == 1
    assert kinds.count("ImprovementItem.Opened") == 1
    assert kinds.count("Survey.Issued") == 1 and kinds.count("Survey.Rated") == 1
    for notification in evaluation.recorder.select_notifications(start=1, limit=100):
        stamp = evaluation.mapper.to_domain_event(notification).__dict__["audit"]
        assert stamp["correlation_id"] == D1  # every step belongs to the case
    (call_back,) = views.call_backs(evaluation)
    assert call_back["call_back_id"] == str(CallBack.create_id(survey_id))
    (item,) = views.improvements(evaluation, institution_id="jsqi")
    assert item["source"] == "dissatisfaction" and "收费不透明" in item["finding"]
    assert item["item_id"] == str(
        ImprovementItem.create_id("dissatisfaction", survey_id)
    )
    done = evaluation.record_call_back(
        call_back["call_back_id"], "mgr-1", "已致歉并解释"
    )
    assert done["status"] == "done" and views.call_backs(evaluation) == []


def test_a_wrong_code_or_a_late_rating_is_refused_and_stores_nothing(evaluation):
    f = Facts()
    evaluation.on_fact(resolved(f, D1, "answered", at(2026, 11, 10, 10, 0)))
    survey_id = survey_of(evaluation, D1)
    before = evaluation.recorder.max_notification_id()
    for code in ("NOSUCHCODE", "CODEAAAAA2"):
        with pytest.raises(ValidationFailed) as caught:
            evaluation.rate(
                survey_id, code, form("满意"), lookup, at(2026, 11, 11, 9, 0)
            )
        assert caught.value.errors[0]["field"] == "code"
    with pytest.raises(ValidationFailed) as caught:
        evaluation.rate(
            survey_id, "CODEAAAAA1", form("满意"), lookup, at(2026, 11, 17, 17, 31)
        )
    assert caught.value.errors[0]["field"] == "status"
    assert evaluation.recorder.max_notification_id() == before


def test_a_corrective_action_delivered_twice_opens_one_improvement_item(evaluation):
    f = Facts()
    complaint_id = "c0000000-0000-4000-8000-000000000007"
    envelope = corrective(f, complaint_id, D1, at(2026, 11, 10, 11, 0))
    assert evaluation.on_fact(envelope) is True
    assert evaluation.on_fact(envelope) is False
    (item,) = views.improvements(evaluation, "jsqi")
    assert item["source"] == "complaint" and item["owner"] == "财务部"
    assert item["actions"] == ["报价与收费自动核对"] and item["demand_id"] == D1


def test_reminders_expiry_and_escalation_happen_once_whoever_sweeps(evaluation):
    f = Facts()
    evaluation.on_fact(resolved(f, D1, "answered", at(2026, 11, 10, 10, 0)))
    complaint_id = "c0000000-0000-4000-8000-000000000009"
    evaluation.on_fact(corrective(f, complaint_id, D1, at(2026, 11, 10, 11, 0)))
    other = EvaluationApplication()
    try:
        first = evaluation.sweep(at(2026, 11, 17, 9, 0))
        assert len(first["reminded"]) == 1 and first["expired"] == []
        assert other.sweep(at(2026, 11, 17, 10, 0))["reminded"] == []
        assert len(other.sweep(at(2026, 11, 18, 9, 0))["expired"]) == 1
        assert evaluation.sweep(at(2026, 11, 18, 10, 0))["expired"] == []
        # the complaint's item: 20 working days after 10 Nov is 8 Dec
        assert evaluation.sweep(at(2026, 12, 8, 17, 0))["escalated"] == []
        assert len(other.sweep(at(2026, 12, 9, 9, 0))["escalated"]) == 1
        assert evaluation.sweep(at(2026, 12, 10, 9, 0))["escalated"] == []
    finally:
        other.close()
    (survey,) = views.for_demand(evaluation, D1)["services"]
    assert survey["status"] == "expired"


def test_an_efficiency_finding_becomes_an_item_planned_progressed_and_closed(
    evaluation,
):
    with pytest.raises(ValidationFailed) as caught:
        evaluation.assess_efficiency("staff-a", *NOVEMBER)
    assert caught.value.errors[0]["field"] == "role"
    with as_manager():
        assessment = evaluation.assess_efficiency("staff-a", *NOVEMBER)
    finding = {
        "source": "efficiency",
        "ref": assessment["id"],
        "institution_id": "jsqi",
        "finding": "首次响应偏慢",
        "owner": "manager-1",
        "actions": ["增加窗口值班"],
        "deadline": "2026-12-31",
    }
    with pytest.raises(ValidationFailed) as caught:
        evaluation.open_improvement(finding)
    assert caught.value.errors[0]["field"] == "role"
    with as_manager():
        for bad in ({"ref": "assessment-1"}, {"source": "complaint"}):
            with pytest.raises(ValidationFailed) as caught:
                evaluation.open_improvement({**finding, **bad})
            assert caught.value.errors[0]["field"] == next(iter(bad))
        opened = evaluation.open_improvement(finding)
        assert opened["deadline"] == at(2026, 12, 31, 17, 30)
        assert opened["staff_id"] == "staff-a"
        with pytest.raises(ValidationFailed) as caught:
            evaluation.open_improvement(finding)
        assert caught.value.errors[0]["field"] == "ref"
    # the owner reports progress; only a manager closes
    evaluation.change_improvement(opened["id"], "record_progress", note="已排班")
    with pytest.raises(ValidationFailed) as caught:
        evaluation.change_improvement(opened["id"], "close", result="响应已达标")
    assert caught.value.errors[0]["field"] == "role"
    with as_manager():
        closed = evaluation.change_improvement(
            opened["id"], "close", result="响应已达标"
        )
    assert closed["status"] == "closed" and closed["progress"] == [{"note": "已排班"}]
    with pytest.raises(ValidationFailed) as caught:
        evaluation.change_improvement(opened["id"], "explode")
    assert caught.value.errors[0]["field"] == "command"


# -- staff efficiency (9.2.2) ---------------------------------------------------


EXPECTED_STAFF_A = {
    "professionalism": {
        "contract_reviews": 3,
        "contract_reviews_passed": 2,
        "contract_review_pass_rate": 0.6667,
        "notice_violations": 1,  # the one of 30 Oct is outside the period
    },
    "timeliness": {
        "referrals_completed": 2,  # r-1 on time, r-3 late; r-2 is in December
        "referrals_on_time": 1,
        "sla_hit_rate": 0.5,
        "first_responses": 2,  # D1: 2.0 h; D2: 1.0 h + 2.0 h; D3 was staff-b's
        "first_response_working_hours": 2.5,
    },
    "satisfaction": {
        "rated": 3,
        "average": 3.67,  # (5 + 2 + 4) / 3
        "distribution": {
            "非常满意": 1,
            "满意": 1,
            "基本满意": 0,
            "不满意": 1,
            "非常不满意": 0,
        },
        "satisfied_rate": 0.6667,
    },
}


def test_efficiency_figures_equal_hand_computed_values_and_survive_a_rebuild(
    evaluation,
):
    seed_november(evaluation)
    got = evaluation.efficiency_figures("staff-a", *NOVEMBER)
    assert got["professionalism"] == EXPECTED_STAFF_A["professionalism"]
    assert got["timeliness"] == EXPECTED_STAFF_A["timeliness"]
    for key, value in EXPECTED_STAFF_A["satisfaction"].items():
        assert got["satisfaction"][key] == value
    assert got["integrity"]["complaints_naming_staff"] == 2
    assert got["integrity"]["upheld_complaints"] == 1

    assert evaluation.rebuild_view() == evaluation.recorder.max_notification_id()
    checked, breaks = evaluation.verify_all()
    assert checked > 10 and breaks == []
    assert evaluation.efficiency_figures("staff-a", *NOVEMBER) == got
    fresh = EvaluationApplication()
    try:
        fresh.rebuild_view()
        assert fresh.efficiency_figures("staff-a", *NOVEMBER) == got
    finally:
        fresh.close()


def test_an_assessment_stores_the_figures_as_they_stood_with_a_managers_comment(
    evaluation,
):
    seed_november(evaluation)
    with as_manager():
        assessed = evaluation.assess_efficiency("staff-a", *NOVEMBER)
    assert assessed["figures"]["timeliness"]["sla_hit_rate"] == 0.5
    with as_manager():
        commented = evaluation.comment_efficiency(assessed["id"], "转办时限需加强")
    assert commented["comments"] == [{"manager": "manager-1", "text": "转办时限需加强"}]
    with pytest.raises(ValidationFailed) as caught:
        evaluation.comment_efficiency(assessed["id"], "系统自评")
    assert caught.value.errors[0]["field"] == "role"
    # later facts change the figures; the first assessment stays in the history
    f = Facts()
    f.positions["referral"] = 100
    evaluation.on_fact(completed(f, "r-9", D1, at(2026, 11, 27, 10, 0), True))
    with as_manager():
        again = evaluation.assess_efficiency("staff-a", *NOVEMBER)
    assert again["id"] == assessed["id"]
    assert again["figures"]["timeliness"]["referrals_on_time"] == 2
    kinds = [
        type(evaluation.mapper.to_domain_event(s)).__name__
        for s in evaluation.recorder.select_events(UUID(assessed["id"]))
    ]
    assert kinds == ["Assessed", "Commented", "Reassessed"]


# -- per-service records and the half-year summary ---------------------------


def test_records_by_demand_staff_and_institution(evaluation):
    seed_november(evaluation)
    d2 = views.for_demand(evaluation, D2)
    assert d2["opinions"] == [
        {"survey_id": survey_of(evaluation, D2), "comments": "等了太久"}
    ]
    assert d2["satisfaction"]["distribution"]["不满意"] == 1
    assert len(d2["call_backs"]) == 1 and len(d2["improvements"]) == 1
    staff = views.for_staff(evaluation, "staff-a", *NOVEMBER)
    assert len(staff["services"]) == 4 and staff["satisfaction"]["rated"] == 3
    lab = views.for_institution(evaluation, "lab-x", *NOVEMBER)
    assert len(lab["services"]) == 2 and lab["satisfaction"]["average"] == 4.0


def test_a_half_year_summary_matches_its_events_and_renders_as_pdf(evaluation):
    seed_november(evaluation)
    (item,) = [
        i for i in views.improvements(evaluation, "jsqi") if i["source"] == "complaint"
    ]
    with as_manager():
        evaluation.change_improvement(item["item_id"], "close", result="已上线自动核对")
        summary = evaluation.draft_half_year("jsqi", 2026, 2)
        first_half = evaluation.draft_half_year("jsqi", 2026, 1)
    got = summary["figures"]
    assert got["demands"]["registered"] == 3
    assert got["demands"]["by_channel"] == {"phone": 1, "window": 2}
    assert got["demands"]["by_outcome"] == {"in_house": 1, "open": 1, "referred": 1}
    assert got["sla"] == {"referrals_completed": 3, "on_time": 2, "hit_rate": 0.6667}
    satisfaction = got["satisfaction"]
    assert satisfaction["surveys_issued"] == 2 and satisfaction["rated"] == 2
    assert satisfaction["average"] == 3.5
    assert got["complaints"] == {"received": 2, "upheld": 1}
    assert got["improvements"]["opened"] == 2 and got["improvements"]["closed"] == 1
    assert first_half["figures"]["demands"]["registered"] == 0

    with as_manager():
        signed = evaluation.sign_off_half_year(summary["id"], "同意，按计划整改")
        assert signed["signed_off"]["manager"] == "manager-1"
        with pytest.raises(ValidationFailed) as caught:
            evaluation.draft_half_year("jsqi", 2026, 2)
        assert caught.value.errors[0]["field"] == "status"

    html = report.to_html(signed)
    assert "jsqi 2026年下半年一站式服务工作总结" in html and "<svg" in html
    assert "66.7%" in html
    text = "".join(
        page.extract_text()
        for page in PdfReader(io.BytesIO(report.to_pdf(signed))).pages
    )
    assert "2026年下半年一站式服务工作总结" in text
    for expected in (
        "登记需求数",
        "按时完成率",
        "66.7%",
        "平均得分",
        "3.5",
        "收到投诉数",
    ):
        assert expected in text, expected
    assert "签发人：manager-1" in text and "报价与收费自动核对" in text


def test_what_people_typed_is_escaped_in_the_html_summary(evaluation):
    script = "<script>alert('x')</script>"
    with as_manager():
        summary = evaluation.draft_half_year(f"lab{script}", 2026, 2)
        signed = evaluation.sign_off_half_year(summary["id"], f"同意{script}")
    html = report.to_html(signed)
    assert "<script" not in html
    assert html.count("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;") == 3
    assert "签发意见：同意&lt;script&gt;" in html
    assert "<h1>lab&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; 2026年下半年" in html


def test_without_a_chinese_font_the_pdf_is_refused_in_chinese(evaluation, monkeypatch):
    monkeypatch.setattr(report, "FONT_CANDIDATES", ())
    monkeypatch.setenv("QI_CJK_FONT", "/nonexistent/font.ttf")
    with as_manager():
        summary = evaluation.draft_half_year("jsqi", 2026, 1)
    with pytest.raises(ValidationFailed) as caught:
        report.to_pdf(summary)
    assert caught.value.errors[0]["field"] == "font"
    assert "fonts-wqy-zenhei" in caught.value.errors[0]["message"]


def test_facts_of_complaints_without_a_demand_are_their_own_case(evaluation):
    f = Facts()
    lone = "c0000000-0000-4000-8000-0000000000aa"
    evaluation.on_fact(complaint(f, lone, "", at(2026, 11, 3, 9, 0)))
    record = views.for_demand(evaluation, lone)
    assert record["complaints"][0]["complaint_id"] == lone
    assert record["case"]["case_id"] == lone


def test_a_survey_is_visible_to_its_applicant_by_code_only(evaluation):
    f = Facts()
    evaluation.on_fact(resolved(f, D1, "answered", at(2026, 11, 10, 10, 0)))
    (shown,) = evaluation.surveys_for_code("CODEAAAAA1", lookup)
    assert shown["demand_id"] == D1 and shown["status"] == "issued"
    assert evaluation.surveys_for_code("CODEAAAAA2", lookup) == []
    with pytest.raises(NotFound):
        evaluation.surveys_for_code("NOSUCHCODE", lookup)
    assert timedelta(0) < datetime.fromisoformat(
        shown["due_at"]
    ) - datetime.fromisoformat(shown["ended_at"])


def test_a_demand_filed_online_belongs_to_the_institution_that_took_it(evaluation):
    f = Facts()
    when = at(2026, 11, 3, 9, 0)
    taken = {"demand_id": D1, "staff_id": "staff-a", "taken_at": when}
    online = registered(f, D1, "website", at(2026, 11, 2, 20, 0))
    online = Envelope.from_dict(
        {**online.to_dict(), "actor": {"id": "customer", "role": "customer"}}
    )
    # separate queues: the taking may be handled before the registration
    evaluation.on_fact(f("intake", "DemandTaken", taken, when))
    evaluation.on_fact(online)
    evaluation.view.catch_up()
    (case,) = evaluation.kernel.query(select(tables.cases))
    assert case["institution_id"] == "jsqi" and case["channel"] == "website"
    assert case["first_taker"] == "staff-a"
    evaluation.rebuild_view()
    assert evaluation.kernel.query(select(tables.cases)) == [case]


def test_a_registration_opens_its_case_without_looking_for_it_first(evaluation):
    """Nearly every DemandRegistered is the first fact of its case: its record
    is stored new without a read (issue 22); a case a later fact opened first
    is read on the second attempt and keeps both facts."""
    f = Facts()
    reads = []
    select_events = evaluation.recorder.select_events

    def counted(originator_id, *args, **kwargs):
        reads.append(originator_id)
        return select_events(originator_id, *args, **kwargs)

    evaluation.recorder.select_events = counted
    when = at(2026, 11, 3, 9, 0)
    assert evaluation.on_fact(registered(f, D1, "window", when))
    assert reads == []
    taken = {"demand_id": D2, "staff_id": "staff-a", "taken_at": when}
    assert evaluation.on_fact(f("intake", "DemandTaken", taken, when))
    assert evaluation.on_fact(registered(f, D2, "window", when))
    evaluation.view.catch_up()
    cases = {c["case_id"]: c for c in evaluation.kernel.query(select(tables.cases))}
    assert cases[D2]["first_taker"] == "staff-a" and cases[D2]["channel"] == "window"
    assert D1 in cases
