"""Referral rules: the life cycle, returns and rulings, deadlines, reports."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.referral.domain import Referral
from services.referral.matching import (
    expert_assignee,
    on_time_rate,
    rank_candidates,
    require_candidate,
)
from services.referral.reports import CODE, new_verification_code, normalise_code
from services.referral.rules import STATUS_LABELS, completion_days
from shared.calendar import WorkingCalendar
from shared.errors import ValidationFailed

CST = ZoneInfo("Asia/Shanghai")
CAL = WorkingCalendar()
REPORT = {
    "report_no": "JSQI-2026-0001",
    "issued_on": "2026-11-20",
    "sha256": "ab" * 32,
    "conclusion": "所检项目符合要求",
}


def at(*args) -> datetime:
    return datetime(*args, tzinfo=CST)


def candidate(institution: str, name: str = "", fit: int = 2) -> dict:
    return {
        "kind": "institution",
        "id": institution,
        "institution_id": institution,
        "name": name or institution,
        "cert_no": f"CMA-{institution}",
        "scope_fit": fit,
        "open_load": 0,
        "on_time_rate": 0.5,
    }


def referral(green: bool = False, cycle: int = 7) -> Referral:
    return Referral.request(
        "demand-1",
        "6.3.1",
        description="阀门密封性能检测",
        kind="demand",
        requester={"kind": "customer", "name": ""},
        first_responder="staff-a",
        origin_institution="jsqi",
        green_channel=green,
        cycle_days=cycle,
    )


def sent(green: bool = False, when: datetime | None = None) -> Referral:
    r = referral(green)
    r.match([candidate("lab-a"), candidate("lab-b")])
    r.send(when or at(2026, 11, 2, 9), CAL)
    return r


def refused(action, field: str = "status") -> str:
    with pytest.raises(ValidationFailed) as caught:
        action()
    assert caught.value.errors[0]["field"] == field
    return caught.value.errors[0]["message"]


# -- life cycle -----------------------------------------------------------------


def test_one_referral_per_demand_and_item():
    assert Referral.create_id("d", "6.3") == Referral.create_id("d", "6.3")
    assert Referral.create_id("d", "6.3") != Referral.create_id("d", "6.1")
    assert referral().id == Referral.create_id("demand-1", "6.3.1")


def test_the_whole_life_cycle_to_feedback_for_the_first_responder():
    r = referral()
    assert r.status == "requested" and STATUS_LABELS[r.status] == "待匹配"
    r.match([candidate("lab-a"), candidate("lab-b")])
    assert r.status == "matched" and r.assignee["id"] == "lab-a"
    r.send(at(2026, 11, 2, 9), CAL)
    assert r.status == "sent" and r.acceptance_due == "2026-11-04T17:30:00+08:00"
    r.accept(at(2026, 11, 3, 10), CAL)
    assert r.status == "accepted"
    assert r.completion_due == "2026-11-12T17:30:00+08:00"  # 7 working days
    r.report_progress("sample_received")
    r.report_progress("testing", "已开始密封试验")
    assert r.status == "in_progress" and r.stage == "testing"
    r.complete(REPORT, at(2026, 11, 20, 15), "ABCDEFGHJKLMNPQR")
    assert r.status == "completed" and r.on_time is False
    assert r.report["verification_code"] == "ABCDEFGHJKLMNPQR"
    assert r.report["status"] == "valid"
    r.deliver_feedback("报告已出具，结论合格")
    assert r.status == "feedback_delivered"
    assert r.feedback == {
        "first_responder": "staff-a",
        "summary": "报告已出具，结论合格",
    }
    completed = next(e for e in r.pending_events if isinstance(e, Referral.Completed))
    assert completed.facts["sent_at"] == "2026-11-02T09:00:00+08:00"
    assert completed.facts["institution_id"] == "lab-a" and not completed.on_time


def test_an_invalid_transition_is_refused_naming_status_and_nothing_is_recorded():
    r = referral()
    before = len(r.pending_events)
    message = refused(lambda: r.accept(at(2026, 11, 2, 9), CAL))
    assert "待匹配" in message and "签收" in message
    refused(lambda: r.send(at(2026, 11, 2, 9), CAL))
    refused(lambda: r.complete(REPORT, at(2026, 11, 2, 9), "X"))
    refused(lambda: r.deliver_feedback("结果"))
    refused(lambda: r.resume())
    assert len(r.pending_events) == before and r.status == "requested"


def test_matching_needs_a_qualified_candidate():
    r = referral()
    refused(lambda: r.match([]), "candidates")
    assert r.status == "requested"


def test_a_decline_needs_a_reason_and_remembers_who_returned_it():
    r = sent()
    refused(lambda: r.decline("  "), "reason")
    r.decline("设备检修，暂不能承接")
    assert r.status == "returned" and r.tried == ["lab-a"]
    assert r.returns == [
        {"assignee_id": "lab-a", "reason": "设备检修，暂不能承接", "timed_out": False}
    ]
    r.match([candidate("lab-b")])
    r.send(at(2026, 11, 3, 9), CAL)
    assert r.assignee["id"] == "lab-b" and r.status == "sent"


def test_a_staff_pick_and_an_expert_need_a_reason():
    r = referral()
    refused(lambda: r.pick(candidate("lab-b"), [candidate("lab-b")], ""), "reason")
    r.pick(candidate("lab-b"), [candidate("lab-a"), candidate("lab-b")], "客户指定")
    assert r.assignee["id"] == "lab-b"
    expert = expert_assignee({"id": "e-1", "name": "王工", "institution_id": None})
    r.pick(expert, [], "需专家现场指导")
    assert r.assignee == {**expert, "institution_id": ""}
    assert r.assignee["kind"] == "expert"


def test_a_manager_rules_only_after_repeated_returns_and_the_ruled_lab_cannot_return():
    r = sent()
    r.decline("人手不足")
    message = refused(lambda: r.rule(candidate("lab-a"), "就近承办", untried_left=True))
    assert "裁定" in message
    r.match([candidate("lab-b")])
    r.send(at(2026, 11, 3, 9), CAL)
    r.decline("超出能力范围")
    r.rule(candidate("lab-a"), "甲实验室资质与能力最匹配", untried_left=True)
    assert r.ruling == {"institution_id": "lab-a", "reason": "甲实验室资质与能力最匹配"}
    r.send(at(2026, 11, 4, 9), CAL)
    refused(lambda: r.decline("仍不愿承接"))
    r.time_out()  # not signed for in time: the ruling stands
    assert r.status == "sent" and r.assignee["id"] == "lab-a"


def test_no_untried_candidate_left_allows_a_ruling_at_once():
    r = sent()
    r.decline("人手不足")
    assert r.may_be_ruled(untried_left=False)
    assert r.escalate_unroutable() and not r.escalate_unroutable()
    assert r.escalated == ["routing@1"]


def test_hold_and_resume_return_to_where_it_was():
    r = sent()
    r.accept(at(2026, 11, 3, 9), CAL)
    r.hold("客户暂缓送样")
    assert r.status == "on_hold"
    refused(lambda: r.report_progress("testing"))
    r.resume()
    assert r.status == "accepted"
    r.cancel("客户撤回委托")
    assert r.status == "cancelled" and r.closing_reason == "客户撤回委托"
    refused(lambda: r.cancel("再次撤销"))


def test_a_partner_may_fail_a_referral_it_cannot_finish():
    r = sent()
    refused(lambda: r.fail("样品损坏"))
    r.accept(at(2026, 11, 3, 9), CAL)
    r.fail("样品运输途中损坏，无法检测")
    assert r.status == "failed"


# -- deadlines ----------------------------------------------------------------------


def test_the_green_channel_shortens_both_deadlines():
    assert completion_days(7, False) == 7 and completion_days(7, True) == 4
    assert completion_days(1, True) == 1 and completion_days(0, False) == 1
    r = sent(green=True)
    assert r.acceptance_due == "2026-11-03T17:30:00+08:00"
    r.accept(at(2026, 11, 3, 9), CAL)
    assert r.completion_due == "2026-11-09T17:30:00+08:00"  # 4 working days


def test_reminder_before_and_escalation_after_each_deadline_once():
    r = sent()  # acceptance due Wed 4 Nov 17:30
    lead = timedelta(hours=4)
    assert r.remind_due(at(2026, 11, 4, 12), lead) == []
    assert r.remind_due(at(2026, 11, 4, 14), lead) == ["acceptance"]
    assert r.remind_due(at(2026, 11, 4, 15), lead) == []
    assert r.escalate_overdue(at(2026, 11, 4, 17, 30)) == []
    assert r.escalate_overdue(at(2026, 11, 4, 17, 31)) == ["acceptance"]
    assert r.escalate_overdue(at(2026, 11, 5, 9)) == []
    escalated = [e for e in r.pending_events if isinstance(e, Referral.Escalated)]
    assert len(escalated) == 1 and escalated[0].due == "2026-11-04T17:30:00+08:00"


def test_an_extension_is_asked_before_the_deadline_and_approved_by_a_manager():
    r = sent()
    r.accept(at(2026, 11, 3, 9), CAL)  # completion due Thu 12 Nov
    refused(
        lambda: r.request_extension("acceptance", 2, "x", at(2026, 11, 3)), "status"
    )
    refused(lambda: r.request_extension("completion", 0, "x", at(2026, 11, 3)), "days")
    message = refused(
        lambda: r.request_extension("completion", 3, "复测", at(2026, 11, 13, 9)),
        "now",
    )
    assert "超过期限" in message
    refused(lambda: r.decide_extension(True, "", CAL), "extension")
    r.request_extension("completion", 3, "需复测确认", at(2026, 11, 12, 9))
    refused(
        lambda: r.request_extension("completion", 1, "再延", at(2026, 11, 12)),
        "extension",
    )
    lead = timedelta(hours=4)
    assert r.remind_due(at(2026, 11, 12, 14), lead) == ["completion"]
    r.decide_extension(True, "同意", CAL)
    assert r.completion_due == "2026-11-17T17:30:00+08:00"
    assert r.escalate_overdue(at(2026, 11, 13, 9)) == []  # moved
    assert r.remind_due(at(2026, 11, 17, 14), lead) == ["completion"]  # new deadline
    assert r.escalate_overdue(at(2026, 11, 18, 9)) == ["completion"]
    assert r.extensions[0]["approved"] and r.extensions[0]["days"] == 3


def test_a_refused_extension_leaves_the_deadline():
    r = sent()
    r.request_extension("acceptance", 1, "负责人出差", at(2026, 11, 3, 9))
    r.decide_extension(False, "请按期签收", CAL)
    assert r.acceptance_due == "2026-11-04T17:30:00+08:00" and r.extension is None


def test_completion_on_time_is_against_the_completion_deadline():
    r = sent()
    r.accept(at(2026, 11, 3, 9), CAL)
    r.complete({**REPORT, "issued_on": "2026-11-12"}, at(2026, 11, 12, 17, 30), "C")
    assert r.on_time is True


# -- reports -------------------------------------------------------------------------


def test_a_report_names_each_bad_field():
    r = sent()
    r.accept(at(2026, 11, 3, 9), CAL)
    with pytest.raises(ValidationFailed) as caught:
        r.complete(
            {"report_no": "", "issued_on": "2026-12-01", "sha256": "xyz"},
            at(2026, 11, 20, 9),
            "C",
        )
    fields = [e["field"] for e in caught.value.errors]
    assert fields == ["report_no", "issued_on", "sha256"]
    assert r.status == "accepted"


def test_a_report_is_replaced_by_a_new_number_and_can_be_revoked():
    r = sent()
    r.accept(at(2026, 11, 3, 9), CAL)
    r.complete(REPORT, at(2026, 11, 20, 9), "FIRST")
    refused(
        lambda: r.replace_report(REPORT, at(2026, 11, 21, 9), "SECOND"), "report_no"
    )
    r.replace_report({**REPORT, "report_no": "JSQI-2026-0001-A"}, at(2026, 11, 21), "S")
    assert r.report["report_no"] == "JSQI-2026-0001-A"
    assert r.replaced_reports[0]["status"] == "replaced"
    r.revoke_report("原始记录有误")
    assert r.report["status"] == "revoked"
    refused(lambda: r.revoke_report("再撤"), "report")


def test_verification_codes_are_random_readable_and_normalised():
    codes = {new_verification_code() for _ in range(50)}
    assert len(codes) == 50 and all(CODE.match(c) for c in codes)
    code = next(iter(codes))
    assert normalise_code(f" {code[:8].lower()}-{code[8:]} ") == code
    assert normalise_code("0O1I") is None and normalise_code(None) is None


# -- matching ------------------------------------------------------------------------


def row(institution, scope, name, cert="C"):
    return {
        "institution_id": institution,
        "institution_name": name,
        "cert_no": cert,
        "scope_codes": scope,
    }


def test_candidates_rank_by_scope_fit_then_load_then_on_time_rate():
    rows = [
        row("a", ["6.3"], "甲"),
        row("b", ["6.3.1"], "乙"),
        row("c", ["6.3.1"], "丙"),
        row("d", ["6.3.1"], "丁"),
        row("d", ["6.3"], "丁", "C2"),  # a second certificate: one row per lab
    ]
    load = {"b": 3, "c": 1, "d": 1}
    record = {"c": (1, 4), "d": (4, 4)}
    ranked = rank_candidates(rows, "6.3.1", load, record)
    assert [c["id"] for c in ranked] == ["d", "c", "b", "a"]
    assert ranked[0]["scope_fit"] == 2 and ranked[-1]["scope_fit"] == 1
    assert ranked[0]["on_time_rate"] == round(on_time_rate(4, 4), 4)
    assert on_time_rate(0, 0) == 0.5  # a newcomer ranks as an average partner
    assert [c["id"] for c in rank_candidates(rows, "6.3.1", load, record, ["d"])] == [
        "c",
        "b",
        "a",
    ]


def test_an_unqualified_pick_is_refused():
    ranked = [candidate("lab-a")]
    assert require_candidate(ranked, "lab-a", "institution_id")["id"] == "lab-a"
    message = refused(
        lambda: require_candidate(ranked, "lab-x", "institution_id"), "institution_id"
    )
    assert "资质" in message


def test_a_stored_v1_request_reads_with_defaults():
    state = {"demand_id": "d", "item_code": "6.3", "description": ""}
    Referral.Requested.upcast_v1_v2(state)
    assert state["kind"] == "demand" and state["green_channel"] is False
    assert state["origin_institution"] == "" and state["cycle_days"] == 0


def test_a_partner_still_qualifies_while_another_certificate_covers_the_item():
    from datetime import date

    from services.referral.domain import PartnerStanding

    standing = PartnerStanding(institution_id="lab-a")
    grant = {"kind": "CMA", "valid_from": "2026-01-01", "valid_to": "2027-12-31"}
    standing.note("CMA-1", "granted", {**grant, "scope_codes": ["6.3.1"]}, 1)
    standing.note("CNAS-2", "granted", {**grant, "scope_codes": ["6.3"]}, 2)
    standing.note("CMA-1", "suspended", {"effective_on": "2026-11-03"}, 3)
    assert standing.qualifies("6.3.1", date(2026, 11, 3))  # CNAS-2 covers 6.3
    standing.note("CNAS-2", "revoked", {"effective_on": "2026-11-04"}, 4)
    assert not standing.qualifies("6.3.1", date(2026, 11, 4))
    assert standing.qualifies("6.3.1", date(2026, 11, 2))
