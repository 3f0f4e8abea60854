"""Referral against real databases (SQLite and PostgreSQL), with real intake
and catalog applications: a referred demand served to the end, re-routing,
qualification checks, deadlines across restarts and instances, inboxes."""

import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import eventlet
import pytest
from eventsourcing.persistence import RecordConflictError
from prometheus_client import REGISTRY

from services.catalog import resources
from services.catalog.application import CatalogApplication
from services.catalog.schemas import to_envelope as catalog_envelope
from services.intake.application import IntakeApplication
from services.intake.schemas import to_envelope as intake_envelope
from services.referral.application import ReferralApplication
from services.referral.domain import Referral
from services.referral.schemas import to_envelope as referral_envelope
from shared.audit import Actor, AuditContext, audit_scope
from shared.case_history import case_events, merge_timelines
from shared.errors import NotFound, ValidationFailed

CST = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=CST)  # a Monday
STAFF = AuditContext(actor=Actor("staff-a", "staff", "jsqi"), channel="window")
MANAGER = AuditContext(actor=Actor("manager-m", "manager", "jsqi"), channel="window")
PASSED = {"capability": True, "method": True, "cycle": True, "fee": True}
FORM = {
    "applicant": "镇江某阀门有限公司",
    "contact_phone": "0511-85551234",
    "service_item_code": "6.3.1",
    "description": "阀门密封性能检测",
    "channel": "window",
}
REPORT = {
    "report_no": "JSQI-2026-0107",
    "issued_on": "2026-11-05",
    "sha256": "3f" * 32,
    "conclusion": "所检项目符合 GB/T 13927 要求",
}


def partner(institution: dict, who: str = "lab-clerk") -> AuditContext:
    return AuditContext(actor=Actor(who, "staff", institution["id"]), channel="web")


class CatalogPort:
    """What the service reaches over RPC, answered by catalog's application."""

    def __init__(self, app: CatalogApplication):
        self.app = app

    def item(self, code):
        return self.app.item(code)

    def qualified_institutions(self, item_code, on_date):
        return self.app.qualified_institutions(item_code, on_date)

    def experts_for(self, item_code, on_date):
        return resources.experts_for(self.app, item_code, date.fromisoformat(on_date))


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class RacingReferral(ReferralApplication):
    """Its next save can be held at a barrier: two instances load the same
    version before either saves."""

    name = "referral"  # eventsourcing would name it after the class
    barrier: threading.Barrier | None = None
    conflicts = 0

    def save(self, *objects, **kwargs):
        barrier, self.barrier = self.barrier, None
        if barrier is not None:
            barrier.wait(timeout=10)
        try:
            return super().save(*objects, **kwargs)
        except RecordConflictError:
            self.conflicts += 1
            raise


@pytest.fixture
def catalog(databases):
    app = CatalogApplication()
    app.start()
    yield app
    app.close()


@pytest.fixture
def labs(catalog):
    """A and C list 6.3.1 itself, B only its parent 6.3, D only metrology."""
    found = {}
    for key, scope in (("A", "6.3.1"), ("B", "6.3"), ("C", "6.3.1"), ("D", "6.1")):
        lab = catalog.register_institution(
            {"code": f"91320000LAB00000{key}", "name": f"{key}检测中心", "kind": "lab"}
        )
        catalog.grant_qualification(
            lab["id"],
            {
                "kind": "CMA",
                "cert_no": f"CMA-{key}",
                "scope_codes": [scope],
                "valid_from": "2026-01-01",
                "valid_to": "2027-12-31",
            },
        )
        found[key] = lab
    return found


@pytest.fixture
def intake(databases):
    app = IntakeApplication()
    yield app
    app.close()


@pytest.fixture
def clock():
    return Clock(NOW)


@pytest.fixture
def referral(databases, clock):
    app = ReferralApplication(clock=clock)
    yield app
    app.close()


def published(app, to_envelope, event_type: str) -> list:
    found = []
    for n in app.recorder.select_notifications(start=1, limit=1000):
        envelope = to_envelope(app.mapper.to_domain_event(n), n)
        if envelope is not None and envelope.type == event_type:
            found.append(envelope)
    return found


def refer(intake, referral, catalog, green: bool = False) -> str:
    """A demand registered, taken, reviewed and referred; referral consumes it."""
    with audit_scope(STAFF):
        demand = intake.register_demand(FORM)
        intake.take(demand["id"], "staff-a")
    if green:
        with audit_scope(MANAGER):
            intake.open_green_channel(demand["id"], "出口订单急需")
    with audit_scope(STAFF):
        intake.review_contract(demand["id"], "staff-a", PASSED)
        intake.decide(demand["id"], "staff-a", "referred", {"quote_id": "q-1"})
    envelope = published(intake, intake_envelope, "DemandReferred")[-1]
    assert referral.on_demand_referred(envelope, CatalogPort(catalog)) is True
    assert referral.on_demand_referred(envelope, CatalogPort(catalog)) is False
    return demand["id"]


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def rid(demand_id: str) -> str:
    return str(Referral.create_id(demand_id, "6.3.1"))


def refused(action, field: str) -> list:
    with pytest.raises(ValidationFailed) as caught:
        action()
    assert caught.value.errors[0]["field"] == field
    return caught.value.errors


def test_a_referred_demand_is_served_and_its_result_reaches_the_first_responder(
    intake, referral, catalog, labs, clock
):
    case = refer(intake, referral, catalog)
    with audit_scope(STAFF):
        opened = referral.referral(rid(case))
        assert opened["state"] == "matched" and opened["state_label"] == "已匹配待派发"
        assert opened["assignee"]["id"] == labs["A"]["id"]  # exact fit, by name
        assert [c["name"] for c in opened["candidates"]] == [
            "A检测中心",
            "C检测中心",
            "B检测中心",
        ]
        assert opened["first_responder"] == "staff-a"
        assert opened["origin_institution"] == "jsqi" and opened["cycle_days"] == 15
        sent = referral.send(rid(case), CatalogPort(catalog))
    assert sent["acceptance_due"] == "2026-11-04T17:30:00+08:00"
    clock.now = NOW + timedelta(hours=3)
    lab = partner(labs["A"])
    with audit_scope(lab):
        accepted = referral.accept(rid(case), CatalogPort(catalog))
        assert accepted["completion_due"] == "2026-11-23T17:30:00+08:00"
        referral.report_progress(rid(case), "sample_received", "", CatalogPort(catalog))
        referral.report_progress(
            rid(case), "testing", "密封试验进行中", CatalogPort(catalog)
        )
        referral.report_progress(rid(case), "report_drafting", "", CatalogPort(catalog))
        clock.now = datetime(2026, 11, 5, 16, tzinfo=CST)
        done = referral.complete(rid(case), REPORT, CatalogPort(catalog))
        assert done["state"] == "completed" and done["on_time"] is True
        closed = referral.deliver_feedback(rid(case), "报告已出具，结论合格，可取报告")
    assert closed["state"] == "feedback_delivered"
    assert "candidates" not in closed  # the partner does not see the others

    (completed,) = published(referral, referral_envelope, "ReferralCompleted")
    assert completed.correlation_id == case
    assert set(completed.data) >= {
        "referral_id",
        "demand_id",
        "item_code",
        "institution_id",
        "sent_at",
        "accepted_at",
        "completed_at",
        "acceptance_due",
        "completion_due",
        "on_time",
        "report_no",
    }
    assert completed.data["institution_id"] == labs["A"]["id"]
    assert completed.data["on_time"] is True
    assert completed.data["report_no"] == "JSQI-2026-0107"
    assert completed.data["sent_at"] == NOW.isoformat()

    (feedback,) = published(referral, referral_envelope, "ReferralFeedback")
    assert "summary" not in feedback.data  # read from referral (issue 18)
    assert intake.on_referral_feedback(feedback, referral.feedback_summary) is True
    # exactly once
    assert intake.on_referral_feedback(feedback, referral.feedback_summary) is False
    (seen,) = intake.get_demand(case)["referral_feedback"]
    assert seen["for_staff"] == "staff-a" and seen["report_no"] == "JSQI-2026-0107"
    assert seen["summary"] == "报告已出具，结论合格，可取报告"

    timeline = merge_timelines(case_events(intake, case), case_events(referral, case))
    steps = [(e["service"], e["event"]) for e in timeline]
    for step in (
        ("intake", "Demand.Decided"),
        ("referral", "Referral.Requested"),
        ("referral", "Referral.Matched"),
        ("referral", "Referral.Sent"),
        ("referral", "Referral.Accepted"),
        ("referral", "Referral.ProgressReported"),
        ("referral", "Referral.Completed"),
        ("referral", "Referral.FeedbackDelivered"),
        ("intake", "Demand.ReferralFeedbackReceived"),
    ):
        assert step in steps, step
    by_event = {e["event"]: e["actor"] for e in timeline}
    assert by_event["Referral.Sent"] == {
        "id": "staff-a",
        "role": "staff",
        "institution": "jsqi",
    }
    for partner_step in ("Accepted", "Completed", "FeedbackDelivered"):
        actor = by_event[f"Referral.{partner_step}"]
        assert actor["institution"] == labs["A"]["id"] and actor["id"] == "lab-clerk"
    assert all("institution" in e["actor"] for e in timeline)
    assert referral.verify_all()[1] == []


def test_a_decline_is_re_routed_to_the_next_qualified_candidate(
    intake, referral, catalog, labs
):
    case = refer(intake, referral, catalog)
    port = CatalogPort(catalog)
    with audit_scope(STAFF):
        referral.send(rid(case), CatalogPort(catalog))
    with audit_scope(partner(labs["A"])):
        refused(lambda: referral.decline(rid(case), " ", port), "reason")
        returned = referral.decline(rid(case), "密封试验台检修中", port)
        assert returned["state"] == "returned"
        with pytest.raises(NotFound):  # no longer addressed to A
            referral.referral(rid(case))
    with audit_scope(STAFF):
        now = referral.referral(rid(case))
    assert now["state"] == "sent" and now["assignee"]["id"] == labs["C"]["id"]
    assert now["returns"][0]["reason"] == "密封试验台检修中"
    with audit_scope(partner(labs["C"])):
        referral.decline(rid(case), "人员不足", port)
    with audit_scope(STAFF):
        now = referral.referral(rid(case))
    assert now["assignee"]["id"] == labs["B"]["id"]  # the parent-scope lab last
    assert labs["D"]["id"] not in [c["id"] for c in now["candidates"]]
    with audit_scope(partner(labs["B"])):
        referral.decline(rid(case), "不做该类阀门", port)
    with audit_scope(STAFF):
        now = referral.referral(rid(case))
    assert now["state"] == "returned" and now["escalated"] == ["routing@3"]
    (alert,) = published(referral, referral_envelope, "ReferralEscalated")
    assert alert.data["reason"] == "unroutable" and alert.correlation_id == case

    # it keeps bouncing: the manager rules, and A cannot return it again
    with audit_scope(STAFF):
        refused(
            lambda: referral.rule_responsible(rid(case), labs["A"]["id"], "x", port),
            "role",
        )
    with audit_scope(MANAGER):
        refused(
            lambda: referral.rule_responsible(rid(case), labs["D"]["id"], "就近", port),
            "institution_id",
        )
        ruled = referral.rule_responsible(
            rid(case), labs["A"]["id"], "A中心具备全部能力，裁定承办", port
        )
    assert (
        ruled["state"] == "sent"
        and ruled["ruling"]["institution_id"] == (labs["A"]["id"])
    )
    with audit_scope(partner(labs["A"])):
        refused(lambda: referral.decline(rid(case), "仍不承接", port), "status")


def test_an_unqualified_pick_is_refused_and_nothing_is_stored(
    intake, referral, catalog, labs
):
    case = refer(intake, referral, catalog)
    port = CatalogPort(catalog)
    with audit_scope(STAFF):
        before = referral.referral(rid(case))["version"]
        errors = refused(
            lambda: referral.pick(rid(case), labs["D"]["id"], "客户指定", port),
            "institution_id",
        )
        assert "资质" in errors[0]["message"]
        refused(
            lambda: referral.pick(rid(case), "no-such-lab", "客户指定", port),
            "institution_id",
        )
        assert referral.referral(rid(case))["version"] == before
        picked = referral.pick(rid(case), labs["B"]["id"], "客户指定B中心", port)
    assert picked["assignee"]["id"] == labs["B"]["id"]
    # a suspended qualification no longer counts (4.1)
    catalog.change_qualification_status(
        labs["C"]["id"], "CMA-C", "suspend", "2026-11-01", "监督检查不合格"
    )
    with audit_scope(STAFF):
        refused(
            lambda: referral.pick(rid(case), labs["C"]["id"], "换C", port),
            "institution_id",
        )


def test_an_expert_may_be_coordinated_instead_of_an_institution(
    intake, referral, catalog, labs
):
    case = refer(intake, referral, catalog)
    port = CatalogPort(catalog)
    expert = resources.register_expert(
        catalog,
        {
            "name": "王工",
            "fields": ["6.3"],
            "title": "高级工程师",
            "phone": "13800001111",
        },
    )
    other = resources.register_expert(
        catalog,
        {"name": "李工", "fields": ["6.1"], "title": "工程师", "phone": "13800002222"},
    )
    with audit_scope(STAFF):
        refused(
            lambda: referral.refer_to_expert(rid(case), other["id"], "专家", port),
            "expert_id",
        )
        chosen = referral.refer_to_expert(rid(case), expert["id"], "需现场诊断", port)
        assert chosen["assignee"]["kind"] == "expert"
        referral.send(rid(case), CatalogPort(catalog))
    as_expert = AuditContext(actor=Actor(expert["id"], "expert"), channel="web")
    with audit_scope(as_expert):
        assert referral.accept(rid(case), CatalogPort(catalog))["state"] == "accepted"


def test_two_institutions_cannot_see_each_others_referrals(
    intake, referral, catalog, labs
):
    first = refer(intake, referral, catalog)
    second = refer(intake, referral, catalog)
    port = CatalogPort(catalog)
    with audit_scope(STAFF):
        referral.send(rid(first), CatalogPort(catalog))
        referral.pick(rid(second), labs["C"]["id"], "分流到C中心", port)
        referral.send(rid(second), CatalogPort(catalog))
    with audit_scope(partner(labs["A"])):
        inbox = referral.inbox(labs["A"]["id"])
        assert [r["id"] for r in inbox] == [rid(first)]
        refused(lambda: referral.inbox(labs["C"]["id"]), "institution_id")
        with pytest.raises(NotFound):
            referral.referral(rid(second))
        with pytest.raises(NotFound):
            referral.accept(rid(second), CatalogPort(catalog))
    with audit_scope(partner(labs["C"])):
        assert [r["id"] for r in referral.inbox(labs["C"]["id"])] == [rid(second)]
        refused(
            lambda: referral.send(rid(second), CatalogPort(catalog)), "role"
        )  # the platform's step
    regulator = AuditContext(actor=Actor("reg-1", "regulator", "scjg"), channel="web")
    with audit_scope(regulator):
        assert len(referral.inbox(labs["C"]["id"])) == 1
        assert referral.referral(rid(first))["id"] == rid(first)
        refused(lambda: referral.cancel(rid(first), "只读"), "role")


def test_escalation_fires_once_per_deadline_across_restarts(
    databases, intake, referral, catalog, labs, clock
):
    case = refer(intake, referral, catalog)
    port = CatalogPort(catalog)
    with audit_scope(STAFF):
        referral.send(rid(case), CatalogPort(catalog))  # acceptance due Wed 4 Nov 17:30
    before = datetime(2026, 11, 4, 14, tzinfo=CST)
    assert referral.escalate_all_overdue(port, before) == {}
    late = datetime(2026, 11, 5, 9, tzinfo=CST)
    clock.now = late  # the re-route's sending happens at the sweep's time
    escalations = sample("qi_referral_escalations_total", stage="acceptance")
    reroutes = sample("qi_referral_reroutes_total", cause="timed_out")
    assert referral.escalate_all_overdue(port, late) == {rid(case): ["acceptance"]}
    assert sample("qi_referral_escalations_total", stage="acceptance") == (
        escalations + 1
    )
    assert sample("qi_referral_reroutes_total", cause="timed_out") == reroutes + 1
    referral.close()

    restarted = ReferralApplication(clock=clock)
    try:
        assert restarted.escalate_all_overdue(port, late) == {}
        with audit_scope(STAFF):
            now = restarted.referral(rid(case))
        # not signed for in time: re-routed to the next candidate, a new clock
        assert now["assignee"]["id"] == labs["C"]["id"] and now["state"] == "sent"
        assert now["returns"][0]["timed_out"] is True
        assert now["acceptance_due"] == "2026-11-09T17:30:00+08:00"  # its own
        kinds = [
            type(restarted.mapper.to_domain_event(s)).__name__
            for s in restarted.recorder.select_events(Referral.create_id(case, "6.3.1"))
        ]
    finally:
        restarted.close()
    assert kinds.count("Reminded") == 1 and kinds.count("Escalated") == 1
    assert kinds[-4:] == ["Escalated", "Returned", "Matched", "Sent"]


def test_two_instances_sweeping_at_once_escalate_once(
    intake, referral, catalog, labs, clock
):
    case = refer(intake, referral, catalog)
    port = CatalogPort(catalog)
    with audit_scope(STAFF):
        referral.send(rid(case), CatalogPort(catalog))
    with audit_scope(partner(labs["A"])):
        referral.accept(
            rid(case), CatalogPort(catalog)
        )  # completion due Mon 23 Nov 17:30
    instances = [RacingReferral(clock=clock), RacingReferral(clock=clock)]
    try:
        barrier = threading.Barrier(2)
        for app in instances:
            app.barrier = barrier
        late = datetime(2026, 11, 24, 9, tzinfo=CST)
        threads = [
            eventlet.spawn(app.escalate_all_overdue, port, late) for app in instances
        ]
        outcomes = [thread.wait() for thread in threads]
        assert sorted(map(len, outcomes)) == [0, 1], outcomes
        assert sum(app.conflicts for app in instances) == 1  # the retry path ran
    finally:
        for app in instances:
            app.close()
    events = [
        referral.mapper.to_domain_event(s)
        for s in referral.recorder.select_events(Referral.create_id(case, "6.3.1"))
    ]
    escalations = [e for e in events if isinstance(e, Referral.Escalated)]
    assert [(e.stage, e.due) for e in escalations] == [
        ("completion", "2026-11-23T17:30:00+08:00")
    ]
    assert escalations[0].audit["actor"]["id"] == "service:referral"
    assert escalations[0].audit["correlation_id"] == case


def test_an_extension_asked_in_time_and_approved_moves_the_deadline(
    intake, referral, catalog, labs, clock
):
    case = refer(intake, referral, catalog, green=True)
    port = CatalogPort(catalog)
    with audit_scope(STAFF):
        sent = referral.send(rid(case), CatalogPort(catalog))
    assert sent["green_channel"] and sent["acceptance_due"] == (
        "2026-11-03T17:30:00+08:00"
    )
    with audit_scope(partner(labs["A"])):
        accepted = referral.accept(rid(case), CatalogPort(catalog))
        assert accepted["completion_due"] == "2026-11-12T17:30:00+08:00"  # 8 of 15
        referral.request_extension(rid(case), "completion", 2, "需送外部复核")
    with audit_scope(partner(labs["A"])):
        refused(lambda: referral.decide_extension(rid(case), True), "role")
    with audit_scope(STAFF):
        refused(lambda: referral.decide_extension(rid(case), True), "role")
    with audit_scope(MANAGER):
        moved = referral.decide_extension(rid(case), True, "同意延期")
    assert moved["completion_due"] == "2026-11-16T17:30:00+08:00"
    late_for_old = datetime(2026, 11, 13, 9, tzinfo=CST)
    assert referral.escalate_all_overdue(port, late_for_old) == {}


def test_a_suspension_flags_the_open_referral_and_alerts_the_manager(
    intake, referral, catalog, labs
):
    case = refer(intake, referral, catalog)
    with audit_scope(STAFF):
        referral.send(rid(case), CatalogPort(catalog))
    catalog.change_qualification_status(
        labs["A"]["id"], "CMA-A", "suspend", "2026-11-03", "能力验证不满意"
    )
    (changed,) = [
        e
        for e in published(catalog, catalog_envelope, "QualificationChanged")
        if e.data["change"] == "suspended"
    ]
    # v2: the admin's reason stays in catalog (issue 18); referral reads it
    # from there as it flags the referral
    assert changed.schema_version == 2 and "reason" not in changed.data
    asked = []

    def reason(institution_id, version):
        asked.append((institution_id, version))
        return catalog.qualification_change(institution_id, version)

    for envelope in published(catalog, catalog_envelope, "QualificationChanged"):
        referral.on_qualification_changed(envelope, reason)
    assert asked == [(labs["A"]["id"], changed.aggregate_version)]
    with audit_scope(STAFF):
        flagged = referral.referral(rid(case))
    (flag,) = flagged["flags"]
    assert flag["change"] == "suspended" and flag["effective_on"] == "2026-11-03"
    assert flag["institution_id"] == labs["A"]["id"]
    assert flag["reason"] == "能力验证不满意"
    (alert,) = published(referral, referral_envelope, "ReferralEscalated")
    assert alert.data["reason"] == "qualification_suspended"
    assert alert.correlation_id == case  # in the demand's case history
    # v2: the detail stays here; notify reads it by RPC (issue 18)
    assert alert.schema_version == 2 and "detail" not in alert.data
    assert alert.data["cert_no"] == "CMA-A"
    assert "能力验证不满意" not in str(alert.to_dict())
    detail = referral.escalation_detail(rid(case), alert.aggregate_version)
    assert detail["detail"] == "CMA-A: 能力验证不满意"
    assert referral.partner_standing(labs["A"]["id"], "2026-11-03")[0]["status"] == (
        "suspended"
    )


def test_government_tasks_and_recall_support_are_opened_directly(
    referral, catalog, labs
):
    port = CatalogPort(catalog)
    with audit_scope(STAFF):
        task = referral.open_task(
            {
                "kind": "government",
                "item_code": "6.3.1",
                "requester_name": "省市场监督管理局产品质量安全监督管理处",
                "description": "阀门产品质量监督抽查",
            },
            port,
        )
        refused(lambda: referral.open_task({"kind": "recall"}, port), "requester_name")
        refused(lambda: referral.open_task({"kind": "demand"}, port), "kind")
    assert task["kind_label"] == "政府委托任务"
    assert task["requester"] == {
        "kind": "department",
        "name": "省市场监督管理局产品质量安全监督管理处",
    }
    assert task["state"] == "matched" and task["assignee"]["id"] == labs["A"]["id"]
    recall_body = catalog.register_institution(
        {"code": "91320000CERT0000R", "name": "R召回技术中心", "kind": "lab"}
    )
    catalog.grant_qualification(
        recall_body["id"],
        {
            "kind": "CMA",
            "cert_no": "CMA-R",
            "scope_codes": ["6.9"],
            "valid_from": "2026-01-01",
            "valid_to": "2027-12-31",
        },
    )
    with audit_scope(STAFF):
        recall = referral.open_task(
            {"kind": "recall", "requester_name": "省市场监督管理局"}, port
        )
    assert recall["item_code"] == "6.9" and recall["requester"]["kind"] == "regulator"
    assert recall["assignee"]["id"] == recall_body["id"]
    regulator = AuditContext(actor=Actor("reg-1", "regulator", "scjg"), channel="web")
    with audit_scope(regulator):  # reads everything, writes nothing
        refused(lambda: referral.open_task({"kind": "government"}, port), "role")


def test_anyone_with_the_code_learns_whether_a_report_is_valid_replaced_or_revoked(
    intake, referral, catalog, labs, clock
):
    case = refer(intake, referral, catalog)
    with audit_scope(STAFF):
        referral.send(rid(case), CatalogPort(catalog))
    with audit_scope(partner(labs["A"])):
        referral.accept(rid(case), CatalogPort(catalog))
        clock.now = datetime(2026, 11, 6, 10, tzinfo=CST)
        first = referral.complete(rid(case), REPORT, CatalogPort(catalog))["report"][
            "verification_code"
        ]
        assert referral.verify_report(first)["status"] == "valid"
        second = referral.replace_report(
            rid(case), {**REPORT, "report_no": "JSQI-2026-0107-R1"}
        )["report"]["verification_code"]
    public = referral.verify_report(first.lower())
    assert public["status"] == "replaced" and public["status_label"] == "已被替换"
    assert public["report_no"] == "JSQI-2026-0107" and "demand_id" not in public
    assert referral.verify_report(second)["status"] == "valid"
    with audit_scope(partner(labs["A"])):
        referral.revoke_report(rid(case), "原始记录有误")
    assert referral.verify_report(second)["status"] == "revoked"
    with pytest.raises(NotFound):
        referral.verify_report("AAAAAAAAAAAAAAAA")
    with pytest.raises(NotFound):
        referral.verify_report("not a code")
