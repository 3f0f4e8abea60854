"""notify: which event becomes which message for whom, in Chinese from its
template (7.4.3, 8.3.4, 9.2.1, 9.4), with nothing left blank."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from jinja2 import UndefinedError

from services.notify.contract import KINDS
from services.notify.policy import drafts, prepare
from services.notify.render import TEMPLATES, render
from shared.envelope import Envelope
from shared.errors import DependencyUnavailable

NOW = datetime(2026, 11, 4, 1, 30, tzinfo=UTC)
DEMAND = "6b0f7e3c-1d2a-4b5c-9e8f-0a1b2c3d4e5f"
PARTNER = "8914b0b8-4277-54a8-9d64-0518e79305aa"
REFERRAL = {
    "referral_id": "r-1",
    "demand_id": DEMAND,
    "kind": "demand",
    "item_code": "6.3",
    "institution_id": PARTNER,
    "assignee_kind": "institution",
    "origin_institution": "jsqi",
}


def envelope(
    source: str, event_type: str, data: dict, case: str = DEMAND, version: int = 1
):
    return Envelope(
        event_id=f"evt-{source}-{event_type}",
        type=event_type,
        schema_version=version,
        occurred_at="2026-11-04T09:30:00+08:00",
        source=source,
        position=7,
        aggregate_id="agg-1",
        aggregate_version=3,
        correlation_id=case,
        causation_id="",
        actor={"id": "staff-a", "role": "staff", "institution": "jsqi"},
        channel="window",
        data=data,
    )


class Directory:
    """What intake, complaints and catalog would answer (no broker needed)."""

    front_door = "jsqi"

    def customer(self, demand_id):
        if demand_id != DEMAND:
            return None
        return {"progress_code": "QX7K2M9P", "contact_phone": "13912345678"}

    def complainant(self, complaint_id):
        return {
            "number": "TS-2026-000123",
            "received_at": "2026-11-03T10:00:00+08:00",
            "demand_id": DEMAND,
            "decision": {"response": "已责成整改", "remedy": "免费复检"},
        }

    def institution(self, institution_id):
        names = {PARTNER: {"name": "江苏省计量测试研究院（演示）"}}
        return names.get(institution_id)

    # the words staff typed, which the v2 events no longer carry (issue 18)
    asked: list = []

    def materials_notice(self, demand_id, version):
        self.asked.append(("intake", demand_id, version))
        if demand_id != DEMAND:
            return None
        return {
            "demand_id": DEMAND,
            "requested": ["营业执照副本", "检测委托书"],
            "nonconforming": {"检测委托书": "经办人王建国未签字"},
        }

    def escalation_detail(self, referral_id, version):
        self.asked.append(("referral", referral_id, version))
        return {
            "referral_id": referral_id,
            "reason": "qualification_revoked",
            "cert_no": "CMA 241000DEMO0101",
            "detail": "CMA 241000DEMO0101: 管理员李卫东核查后撤销",
        }


EVENTS = {
    "materials_notice": envelope(
        "intake",
        "MaterialsNoticeIssued",
        {
            "demand_id": DEMAND,
            "staff_id": "staff-a",
            "requested": ["营业执照副本", "检测委托书"],
            "nonconforming": {"检测委托书": "未盖公章"},
            "contacts": "025-12345678",
            "issued_at": "2026-11-04T09:30:00+08:00",
        },
    ),
    "referral_sent": envelope(
        "referral",
        "ReferralSent",
        {
            **REFERRAL,
            "sent_at": "2026-11-04T09:00:00+08:00",
            "acceptance_due": "2026-11-05T17:30:00+08:00",
        },
    ),
    "referral_accepted": envelope(
        "referral",
        "ReferralAccepted",
        {
            **REFERRAL,
            "accepted_at": "2026-11-04T15:00:00+08:00",
            "completion_due": "2026-11-25T17:30:00+08:00",
        },
    ),
    "referral_due_soon": envelope(
        "referral",
        "ReferralDueSoon",
        {**REFERRAL, "stage": "completion", "due": "2026-11-25T17:30:00+08:00"},
    ),
    "report_ready": envelope(
        "referral",
        "ReferralCompleted",
        {
            **REFERRAL,
            "completed_at": "2026-11-20T10:00:00+08:00",
            "report_no": "JSMI-2026-0042",
            "on_time": True,
        },
    ),
    "survey_invitation": envelope(
        "evaluation",
        "SurveyIssued",
        {
            "survey_id": "s-1",
            "demand_id": DEMAND,
            "referral_id": "",
            "institution_id": "jsqi",
            "ended_at": "2026-11-20T10:00:00+08:00",
            "due_at": "2026-11-27T17:30:00+08:00",
        },
    ),
    "survey_reminder": envelope(
        "evaluation",
        "SurveyReminded",
        {"survey_id": "s-1", "due_at": "2026-11-27T17:30:00+08:00"},
    ),
    "improvement_overdue": envelope(
        "evaluation",
        "ImprovementItemEscalated",
        {"item_id": "i-1", "deadline": "2026-11-27T17:30:00+08:00"},
    ),
    "in_house_due_soon": envelope(
        "intake",
        "InHouseReminded",
        {
            "demand_id": DEMAND,
            "owner": "wang",
            "institution": "jsqi",
            "items": ["6.3.1"],
            "due_at": "2026-11-25T17:30:00+08:00",
            "reminded_at": "2026-11-25T13:30:00+08:00",
        },
    ),
    "in_house_overdue": envelope(
        "intake",
        "InHouseEscalated",
        {
            "demand_id": DEMAND,
            "owner": "wang",
            "institution": "jsqi",
            "items": ["6.3.1", "6.4"],
            "due_at": "2026-11-25T17:30:00+08:00",
            "escalated_at": "2026-11-25T18:00:00+08:00",
        },
    ),
    "complaint_acknowledged": envelope(
        "complaints",
        "ComplaintAcknowledged",
        {"complaint_id": "c-1", "acknowledged_at": "2026-11-04T09:30:00+08:00"},
    ),
    "complaint_decided": envelope(
        "complaints",
        "ComplaintDecided",
        {
            "complaint_id": "c-1",
            "outcome": "partly_upheld",
            "decided_at": "2026-11-10T09:30:00+08:00",
        },
    ),
}


def escalated(reason: str, **data) -> Envelope:
    return envelope(
        "referral",
        "ReferralEscalated",
        {
            **REFERRAL,
            "reason": reason,
            "due": "2026-11-05T17:30:00+08:00",
            "detail": "",
            **data,
        },
    )


def messages(event: Envelope) -> list:
    return [prepare(event, draft, Directory(), NOW) for draft in drafts(event, "jsqi")]


@pytest.mark.parametrize("kind", sorted(EVENTS))
def test_each_event_becomes_its_message_in_chinese(kind, monkeypatch):
    monkeypatch.setenv("QI_PUBLIC_BASE_URL", "https://qi.example.cn/")
    (message,) = messages(EVENTS[kind])
    assert message.kind == kind
    assert message.subject and "\n" not in message.subject
    assert "质量基础设施“一站式”服务平台" in message.text
    assert message.link.startswith("https://qi.example.cn/")
    assert "None" not in message.text and "{{" not in message.text
    assert message.html.startswith("<!doctype html>")
    # a redelivered event names the same message
    assert messages(EVENTS[kind])[0].id == message.id


def test_every_kind_has_its_template_and_nothing_else_does():
    templates = {p.stem for p in TEMPLATES.glob("*.j2") if not p.name.startswith("_")}
    assert templates == set(KINDS)


def test_the_materials_notice_lists_everything_with_contacts_printable():
    (notice,) = messages(EVENTS["materials_notice"])
    assert notice.audience == "customer" and notice.demand_id == DEMAND
    assert "1. 营业执照副本（未提供）" in notice.text
    assert "2. 检测委托书（不符合要求：未盖公章）" in notice.text
    assert "025-12345678" in notice.text and "QX7K2M9P" in notice.text
    assert "2026年11月4日 09:30" in notice.text  # Beijing time
    assert "<table>" in notice.html and "@media print" in notice.html
    assert "<td>检测委托书</td>" in notice.html


def test_the_survey_links_open_the_rating_page_by_code(monkeypatch):
    monkeypatch.setenv("QI_PUBLIC_BASE_URL", "https://qi.example.cn")
    for kind in ("survey_invitation", "survey_reminder"):
        (message,) = messages(EVENTS[kind])
        assert message.link == "https://qi.example.cn/rate?code=QX7K2M9P"
        assert message.link in message.text
    (reminder,) = messages(EVENTS["survey_reminder"])  # demand from its case
    assert reminder.demand_id == DEMAND


def test_partners_hear_of_their_referrals_by_name():
    (sent,) = messages(EVENTS["referral_sent"])
    assert (sent.audience, sent.institution) == ("partner", PARTNER)
    assert sent.text.startswith("江苏省计量测试研究院（演示）：")
    assert "2026年11月5日 17:30 前登录平台签收" in sent.text
    (due,) = messages(EVENTS["referral_due_soon"])
    assert "办结期限为 2026年11月25日 17:30" in due.text


def test_a_lone_experts_referral_goes_to_the_referring_staff():
    data = {
        **EVENTS["referral_sent"].data,
        "institution_id": "",
        "assignee_kind": "expert",
    }
    (sent,) = messages(envelope("referral", "ReferralSent", data))
    assert (sent.audience, sent.institution) == ("staff", "jsqi")
    assert sent.text.startswith("贵单位：")


def test_an_overdue_referral_reaches_the_partner_and_the_managers():
    partner, managers = sorted(
        messages(escalated("acceptance_overdue")), key=lambda m: m.audience
    )[::-1]
    assert (managers.audience, managers.institution) == ("manager", "jsqi")
    assert managers.kind == "escalation" and "超过签收期限未签收" in managers.text
    assert "江苏省计量测试研究院（演示）" in managers.text
    assert (partner.audience, partner.kind) == ("partner", "referral_overdue")
    assert partner.id != managers.id


def test_unroutable_referrals_and_qualification_flags_go_to_managers_only():
    (unroutable,) = messages(escalated("unroutable", institution_id=""))
    assert (unroutable.audience, unroutable.kind) == ("manager", "escalation")
    (flag,) = messages(
        escalated(
            "qualification_suspended",
            due="2026-11-06",
            detail="CMA 241000DEMO0101: 监督抽查不合格",
            origin_institution="",
        )
    )
    assert (flag.kind, flag.institution) == ("qualification_flag", "jsqi")
    assert "已被暂停，自 2026年11月6日 起生效" in flag.text


def test_in_house_deadlines_reach_the_owner_then_the_managers(monkeypatch):
    monkeypatch.setenv("QI_PUBLIC_BASE_URL", "https://qi.example.cn")
    (reminder,) = messages(EVENTS["in_house_due_soon"])
    assert (reminder.audience, reminder.institution) == ("staff", "jsqi")
    assert reminder.demand_id == DEMAND
    assert reminder.text.startswith("首问负责人 wang：")
    assert "办结期限为 2026年11月25日 17:30" in reminder.text
    assert reminder.link == f"https://qi.example.cn/console/demands/{DEMAND}"
    (escalation,) = messages(EVENTS["in_house_overdue"])
    assert (escalation.audience, escalation.institution) == ("manager", "jsqi")
    assert "服务事项 6.3.1、6.4" in escalation.subject
    assert "首问负责人 wang" in escalation.text and "已超过办结期限" in escalation.text
    # a sweep stored before the institution was recorded: the front door's
    older = {**EVENTS["in_house_overdue"].data, "institution": ""}
    (fallback,) = messages(envelope("intake", "InHouseEscalated", older))
    assert fallback.institution == "jsqi"


def test_tasks_without_a_customer_get_no_report_message():
    data = {**EVENTS["report_ready"].data, "kind": "government"}
    assert drafts(envelope("referral", "ReferralCompleted", data), "jsqi") == []


def test_a_case_unknown_to_intake_makes_no_customer_message():
    event = envelope(
        "intake", "MaterialsNoticeIssued", {**EVENTS["materials_notice"].data}
    )
    event = Envelope(**{**event.to_dict(), "data": {**event.data, "demand_id": "x"}})
    assert messages(event) == [None]


def test_the_complainant_is_told_the_decision_in_full():
    (decided,) = messages(EVENTS["complaint_decided"])
    assert decided.audience == "complainant"
    assert decided.complaint_number == "TS-2026-000123"
    assert "处理结论：投诉部分成立" in decided.text
    assert (
        "答复意见：已责成整改" in decided.text and "补救措施：免费复检" in decided.text
    )


def test_events_no_person_needs_make_no_message():
    event = envelope("intake", "DemandTaken", {"demand_id": DEMAND})
    assert drafts(event, "jsqi") == []


def test_text_is_kept_as_typed_and_html_escaped():
    rendered = render(
        "materials_notice",
        {
            "progress_code": "QX7K2M9P",
            "requested": ["<script>alert(1)</script>"],
            "nonconforming": {},
            "contacts": "025-1 & 2",
            "issued_at": "2026-11-04T09:30:00+08:00",
            "link": "https://qi.example.cn/progress?code=QX7K2M9P",
        },
    )
    assert "<script>alert(1)</script>" in rendered.text
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    assert "025-1 &amp; 2" in rendered.html


def test_a_template_never_renders_with_a_hole():
    with pytest.raises(UndefinedError):
        render("referral_sent", {"item_code": "6.3"})


# -- v2 events without staff's words: read from their owner (issue 18) ---------


def test_a_v2_materials_notice_reads_what_is_wrong_from_intake():
    Directory.asked = []
    data = {**EVENTS["materials_notice"].data, "nonconforming": ["检测委托书"]}
    event = envelope("intake", "MaterialsNoticeIssued", data, version=2)
    (notice,) = messages(event)
    assert Directory.asked == [("intake", DEMAND, event.aggregate_version)]
    assert "1. 营业执照副本（未提供）" in notice.text
    assert "2. 检测委托书（不符合要求：经办人王建国未签字）" in notice.text
    assert "不符合要求：经办人王建国未签字" in notice.html
    # a v1 message is written with the words it carries, intake not asked
    Directory.asked = []
    (old,) = messages(EVENTS["materials_notice"])
    assert "（不符合要求：未盖公章）" in old.text and Directory.asked == []


def test_a_v2_qualification_flag_reads_its_detail_from_referral():
    Directory.asked = []
    data = {**REFERRAL, "reason": "qualification_revoked", "due": "2026-11-06"}
    event = envelope(
        "referral",
        "ReferralEscalated",
        {**data, "cert_no": "CMA 241000DEMO0101"},
        version=2,
    )
    (flag,) = messages(event)
    assert flag.kind == "qualification_flag"
    assert Directory.asked == [("referral", "r-1", event.aggregate_version)]
    assert "（CMA 241000DEMO0101: 管理员李卫东核查后撤销）" in flag.text
    # a deadline's escalation quotes nothing: referral is not asked
    Directory.asked = []
    overdue = {**REFERRAL, "reason": "acceptance_overdue", "cert_no": ""}
    overdue["due"] = "2026-11-05T17:30:00+08:00"
    made = messages(envelope("referral", "ReferralEscalated", overdue, version=2))
    assert len(made) == 2 and Directory.asked == []


def test_the_owner_not_answering_makes_no_message_yet():
    class Away(Directory):
        def materials_notice(self, demand_id, version):
            raise DependencyUnavailable("intake did not answer within 10s")

    data = {**EVENTS["materials_notice"].data, "nonconforming": ["检测委托书"]}
    event = envelope("intake", "MaterialsNoticeIssued", data, version=2)
    (draft,) = drafts(event, "jsqi")
    with pytest.raises(DependencyUnavailable):  # the message goes back
        prepare(event, draft, Away(), NOW)
