"""Service policy rules: defaults from one table, changes checked and kept as
versions; referral's copy answers the version in force at a moment, and a
referral sent under a policy keeps its limit."""

from datetime import UTC, datetime, timedelta

import pytest

from services.catalog.contract import POLICY_DEFAULTS, POLICY_LIMITS
from services.catalog.policy import ServicePolicy, default_policy, described
from services.referral.domain import Referral
from services.referral.policies import PolicyCopy
from shared.calendar import SHANGHAI, WorkingCalendar
from shared.errors import ValidationFailed

CAL = WorkingCalendar(overrides={})


def test_every_limit_has_a_default_a_range_and_a_basis():
    assert POLICY_DEFAULTS["referral_accept_days"] == 2
    assert [
        POLICY_DEFAULTS[f"complaint_{s}_days"]
        for s in ("acknowledge", "respond", "close")
    ] == [1, 10, 30]
    for label, default, lowest, highest, basis in POLICY_LIMITS.values():
        assert label and basis and lowest <= default <= highest
    shown = described(default_policy("jsqi"))
    assert shown["version"] == 0 and len(shown["items"]) == len(POLICY_LIMITS)


def test_a_change_is_checked_and_is_a_new_version():
    policy = ServicePolicy(institution="jsqi")
    for changes, field in [
        ({"referral_accept_days": 0}, "referral_accept_days"),
        ({"referral_accept_days": "3"}, "referral_accept_days"),
        ({"referral_accept_days": True}, "referral_accept_days"),
        ({"fax_days": 3}, "fax_days"),
        ({}, "limits"),
    ]:
        with pytest.raises(ValidationFailed) as caught:
            policy.change(changes, "本市规定")
        assert caught.value.errors[0]["field"] == field
    with pytest.raises(ValidationFailed):
        policy.change({"survey_days": 7}, " ")
    assert len(policy.pending_events) == 1  # only Opened
    policy.change({"survey_days": 7}, "本市规定")
    assert policy.as_dict()["version"] == 1
    assert policy.limits == {**POLICY_DEFAULTS, "survey_days": 7}


def test_the_copy_answers_the_version_in_force_and_a_referral_keeps_it():
    changed = datetime(2026, 11, 2, 12, tzinfo=SHANGHAI)
    copy = PolicyCopy(institution="jsqi")
    copy.note(1, {**POLICY_DEFAULTS, "referral_accept_days": 4}, changed.isoformat())
    assert copy.in_force(changed - timedelta(seconds=1))["version"] == 0
    assert copy.in_force(changed)["limits"]["referral_accept_days"] == 4

    sent_at = datetime(2026, 11, 2, 9, tzinfo=SHANGHAI).astimezone(UTC)
    for version, days in ((0, 2), (1, 4)):
        referral = Referral.request(
            f"d-{version}",
            "6.3.1",
            description="x",
            kind="demand",
            requester={"kind": "customer", "name": ""},
            first_responder="wang",
            origin_institution="jsqi",
            green_channel=False,
            cycle_days=10,
        )
        referral.match(
            [
                {
                    "kind": "institution",
                    "id": "lab",
                    "institution_id": "lab",
                    "name": "lab",
                }
            ]
        )
        limits = copy.versions[0]["limits"] if version else POLICY_DEFAULTS
        referral.apply_policy(version, limits)
        referral.apply_policy(9, {"referral_accept_days": 9})  # once only
        referral.send(sent_at, CAL)
        assert referral.policy["version"] == version
        assert datetime.fromisoformat(referral.acceptance_due) == CAL.deadline(
            sent_at, days
        )


def test_each_service_keeps_its_own_copy_under_its_own_id():
    """The kernel's copy (shared.policy_copy), parametrised by the service:
    referral's ids are those it had before the copy moved to the kernel."""
    from uuid import NAMESPACE_URL, uuid5

    from services.complaints.policies import PolicyCopy as ComplaintsCopy
    from services.evaluation.policies import PolicyCopy as EvaluationCopy

    old = uuid5(NAMESPACE_URL, "qi-onestop:referral-policy-copy:jsqi")
    assert PolicyCopy.create_id("jsqi") == old
    ids = {kind.create_id("jsqi") for kind in (ComplaintsCopy, EvaluationCopy)}
    assert len(ids | {old}) == 3
    copy = ComplaintsCopy(institution="jsqi")
    assert copy.id == ComplaintsCopy.create_id("jsqi")
    at = datetime(2026, 11, 2, 12, tzinfo=SHANGHAI)
    assert copy.in_force(at) == {"version": 0, "limits": POLICY_DEFAULTS}
    copy.note(1, {**POLICY_DEFAULTS, "survey_days": 8}, at.isoformat())
    assert copy.in_force(at)["limits"]["survey_days"] == 8


def test_a_complaint_and_a_survey_keep_the_limits_they_started_under():
    from services.complaints.domain import Complaint
    from services.evaluation.domain import CallBack, Survey

    received = datetime(2026, 11, 2, 9, tzinfo=SHANGHAI)  # a Monday
    form = {
        "channel": "hotline",
        "anonymous": True,
        "description": "报告延误",
        "remedy_requested": "说明原因",
        "received_at": received,
    }
    complaint = Complaint.receive(form, "ABCDEFGHJK")
    assert complaint.policy_version is None  # before policies: the defaults
    assert complaint.deadlines(CAL)["respond"] == CAL.deadline(received, 10)
    asked = []

    def policy_at(institution, moment):
        asked.append((institution, moment))
        return {
            "version": 1,
            "limits": {**POLICY_DEFAULTS, "complaint_respond_days": 15},
        }

    complaint = Complaint.receive(
        {**form, "institution_id": "jsqi"}, "ABCDEFGHJK", policy_at=policy_at
    )
    assert asked == [("jsqi", received)]  # its institution's, at receipt
    assert complaint.policy_version == 1
    assert [type(e).__name__ for e in complaint.pending_events] == ["Received"]
    assert complaint.deadlines(CAL)["respond"] == CAL.deadline(received, 15)
    assert complaint.deadlines(CAL)["close"] == CAL.deadline(received, 30)

    policy = {
        "version": 1,
        "limits": {**POLICY_DEFAULTS, "survey_days": 8, "call_back_days": 4},
    }
    facts = {"demand_id": "d-1", "ended_at": received.isoformat()}
    survey = Survey.issue("demand", "d-1:7", facts, CAL, policy)
    assert survey.as_dict()["policy_version"] == 1
    assert survey.due == CAL.deadline(received, 8)
    rated_at = received + timedelta(hours=2)
    survey.rate(
        "d-1",
        {
            "overall": "不满意",
            "dimensions": dict.fromkeys(
                (
                    "attitude",
                    "efficiency",
                    "professionalism",
                    "timeliness",
                    "fee_transparency",
                    "environment",
                ),
                "不满意",
            ),
        },
        rated_at,
    )
    call_back = CallBack.for_survey(survey, CAL)
    assert datetime.fromisoformat(call_back.due_at) == CAL.deadline(rated_at, 4)
