"""Referral's published contract: what other services and the gateway may know
of referrals without importing referral's domain or application.

A referral's states and their Chinese labels, the states in which it is with
the partner institution, the progress stages a partner reports (8.3.4, 8.3.5),
and the integration events referral publishes. Referral's own modules import
these names from here: one definition. This module imports only the standard
library.
"""

from __future__ import annotations

STATUS_LABELS = {
    "requested": "待匹配",
    "matched": "已匹配待派发",
    "sent": "已派发待签收",
    "returned": "已退回",
    "accepted": "已签收",
    "in_progress": "办理中",
    "completed": "已办结（报告已出具）",
    "feedback_delivered": "已反馈首问负责人",
    "on_hold": "已挂起",
    "cancelled": "已撤销",
    "failed": "办理失败",
}
# addressed to an institution that has not finished with it (its open load)
WITH_PARTNER = ("sent", "accepted", "in_progress", "on_hold")
# open referrals a referring institution's manager watches on the board: with
# the partner, and before they are sent (escalated when they wait too long)
WATCHED = (*WITH_PARTNER, "requested", "matched")
# the referral's work is over: a demand may be resolved only when each of its
# referrals is in one of these (7.1.2, 8.3.5)
CLOSED_STATES = ("completed", "feedback_delivered", "cancelled", "failed")
# what a partner reports while it works on a referral (8.3.5)
PROGRESS_STAGES = {
    "sample_received": "已收样",
    "on_site": "现场服务中",
    "testing": "检测中",
    "report_drafting": "报告编制中",
    "report_review": "报告审核中",
}

# -- integration events ---------------------------------------------------------
# Versioned; no personal data. Every envelope's correlation_id is the case (the
# demand id, or a government or recall task's own case id), so each step
# appears in the demand's case history.

SOURCE = "referral"
# ReferralCompleted v1 — data: {referral_id, demand_id, item_code,
# institution_id, sent_at, accepted_at, completed_at, acceptance_due,
# completion_due, on_time, report_no, kind}: the report was issued.
# ``on_time`` is completed_at <= completion_due (after approved extensions);
# times are ISO 8601 with offset. ``institution_id`` is "" for an expert
# without an institution. Evaluation consumes it (timeliness, 9.2.2).
REFERRAL_COMPLETED = ("ReferralCompleted", 1)
# ReferralFeedback v2 — data: {referral_id, demand_id, kind, item_code,
# institution_id, first_responder, report_no, verification_code, on_time,
# delivered_at}: the result, for the demand's first responder (intake records
# it on the demand; closed loop, 8.3.5). v1 also carried ``summary``, the
# partner's own words, which can name a person (issue 18): they stay in
# referral, and intake reads them with ``feedback_summary`` (below) when it
# records the feedback; a v1 message is read with the summary it carries.
REFERRAL_FEEDBACK = ("ReferralFeedback", 2)
# ReferralEscalated v2 — data: {referral_id, demand_id, kind, item_code,
# institution_id, origin_institution, reason, due, cert_no}: a manager's
# attention is needed; ``reason`` is acceptance_overdue | completion_overdue |
# unroutable | qualification_suspended | qualification_revoked | unsent (opened
# but not sent to a partner within QI_REFERRAL_UNSENT_WORKING_HOURS);
# ``cert_no`` the certificate of a qualification_* ("" otherwise).
# ``origin_institution`` (the referring institution, whose managers it
# concerns) was added later: "" in older messages, read as the front door.
# v1 carried ``detail`` instead of ``cert_no``: a qualification flag's
# certificate and catalog's reason for the change, an admin's own words,
# which can name a person (issue 18). They stay here, and notify reads them
# with ``escalation_detail(referral_id, version)`` (the envelope's
# aggregate_version; RPC below) when it writes the managers' message; a v1
# message is read with the detail it carries.
REFERRAL_ESCALATED = ("ReferralEscalated", 2)
# For the partner, who must sign for and finish in time (8.3.4, 8.3.5); each
# data: {referral_id, demand_id, kind, item_code, institution_id (the
# partner; "" for an expert without one), assignee_kind, origin_institution}
# and:
# ReferralSent v1 {sent_at, acceptance_due}: addressed to the partner;
# ReferralAccepted v1 {accepted_at, completion_due}: signed for, the
# completion clock runs;
# ReferralDueSoon v1 {stage (acceptance | completion), due}: the deadline is
# near (a reminder, once per deadline).
REFERRAL_SENT = ("ReferralSent", 1)
REFERRAL_ACCEPTED = ("ReferralAccepted", 1)
REFERRAL_DUE_SOON = ("ReferralDueSoon", 1)

# -- RPC for intake only ----------------------------------------------------------
# ``feedback_summary(referral_id)`` -> the partner's summary of a referral whose
# feedback was delivered (NotFound before): read by intake when it records a
# ReferralFeedback on the demand, never carried in an event. nameko RPC has no
# caller identity: any client of the broker can call it.

# -- RPC for notify only ----------------------------------------------------------
# ``escalation_detail(referral_id, version)`` -> {referral_id, reason,
# cert_no, detail}: the escalation of the referral's event at ``version``;
# ``detail`` is "<cert_no>: <catalog's reason>" for a qualification flag, ""
# for a deadline. Read by notify when it writes the managers' message, never
# carried in an event (NotFound for anything else). Same caveat.

# What the customer is shown of the partner's work on the progress page
# (7.4.6): these stages only, never the partner's notes. A partner's own
# stages fold into the customer's (on-site work is testing to them, a
# report's review part of its drafting).
CUSTOMER_STAGES = {
    "accepted": "签收",
    "sample_received": "收样",
    "testing": "检测中",
    "report_drafting": "报告编制中",
    "completed": "已出报告",
}
CUSTOMER_STAGE_OF = {
    "sample_received": "sample_received",
    "on_site": "testing",
    "testing": "testing",
    "report_drafting": "report_drafting",
    "report_review": "report_drafting",
}
