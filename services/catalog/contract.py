"""Catalog's published contract: what other services and the gateway may know
of the catalog without importing its domain or application.

The ids of institutions and service items (derived from their codes, so every
service names the same one the same way), the vocabulary of fee quotes
(5.3.1.5; customer kinds of 5.2.2 b) and the integration events catalog
publishes. Catalog's own modules import these names from here: one
definition. This module imports only the standard library.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5


def institution_id(code: str) -> UUID:
    """The catalog id of the institution with this code (4.1)."""
    return uuid5(NAMESPACE_URL, f"qi-onestop:institution:{code}")


def item_id(code: str) -> UUID:
    """The catalog id of the service item with this code (clause 6)."""
    return uuid5(NAMESPACE_URL, f"qi-onestop:service-item:{code}")


# -- fee quotes (5.3.1.5) -------------------------------------------------------

QUOTE_CUSTOMER_KINDS = {
    "individual": "个人",
    "company": "企业",
    "government": "政府部门",
}
QUOTE_STATES = {
    "drafted": "草稿",
    "issued": "已出具",
    "accepted": "已接受",
    "withdrawn": "已撤回",
}

# -- integration events ---------------------------------------------------------
# Versioned.

SOURCE = "catalog"
# QualificationChanged v2 — data: {institution_id, cert_no, change, ...} where
# ``change`` is one of
#   granted:   kind, scope_codes, valid_from, valid_to
#   suspended / valid (reinstated) / revoked: effective_on
#   renewed:   valid_to
# A consumer keeps the latest per (institution_id, cert_no) by ``position``
# (4.1, 4.2: who is qualified on a date). v1 also carried the ``reason`` of a
# suspension, reinstatement or revocation, an admin's own words, which can
# name a person (issue 18): it stays here, and a service that shows it to a
# person reads it with ``qualification_change(institution_id, version)`` (the
# envelope's aggregate_version; RPC below); a v1 message is read with the
# reason it carries.
QUALIFICATION_CHANGED = ("QualificationChanged", 2)

# -- service policy: the limits of the standard, per institution (one place) -------
# key: (label, default, lowest, highest, where the default comes from). A
# deadline in working days unless the key says otherwise; an institution's own
# value replaces the default from the moment it is changed (local rules differ
# between cities), and each change is an event, so a case is judged by the
# limits in force when it started (its policy version).
POLICY_LIMITS: dict[str, tuple[str, int, int, int, str]] = {
    "referral_accept_days": ("转办签收期限（工作日）", 2, 1, 10, "8.3.4，平台约定"),
    "complaint_acknowledge_days": ("投诉确认受理期限（工作日）", 1, 1, 5, "9.4"),
    "complaint_respond_days": ("投诉答复期限（工作日）", 10, 1, 30, "9.4"),
    "complaint_close_days": ("投诉办结期限（工作日）", 30, 5, 90, "9.4"),
    "survey_days": ("满意度评价邀请期限（工作日）", 5, 1, 10, "9.2.1"),
    "call_back_days": ("不满意回访期限（工作日）", 2, 1, 10, "9.2.1，平台约定"),
    "improvement_days": ("整改期限（工作日）", 20, 5, 90, "9.3，平台约定"),
    "stale_after_working_hours": ("需求无人跟进提醒（工作小时）", 4, 1, 40, "7.4.2"),
    "green_channel_surcharge_percent": ("绿色通道加急费（%）", 30, 0, 100, "7.4.5"),
    "half_year_summary_due_days": (
        "半年总结应交期限（半年结束后天数）",
        30,
        1,
        90,
        "9.1.3，平台约定",
    ),
    "efficiency_review_months": (
        "人员效能评价周期（月，整除12）",
        3,
        1,
        6,
        "9.2.2，平台约定",
    ),
    "efficiency_review_due_days": (
        "效能评价应完成期限（周期结束后天数）",
        30,
        1,
        90,
        "9.2.2，平台约定",
    ),
    "referral_unsent_working_hours": (
        "转办未派发升级（工作小时）",
        8,
        1,
        80,
        "8.3.4，平台约定",
    ),
}
POLICY_DEFAULTS: dict[str, int] = {k: v[1] for k, v in POLICY_LIMITS.items()}
# PolicyChanged v2 — data: {institution, version, limits (every key above),
# changed (the keys changed), effective_at}: the whole policy in force from
# ``effective_at``; a consumer keeps every version (a case started under
# version n is judged by version n). v1 also carried the change's ``reason``,
# an admin's own words (issue 18), which no consumer's limits depend on: it
# stays in catalog's stored event, the audit record of the change.
POLICY_CHANGED = ("PolicyChanged", 2)

# -- RPC for the consumers of the events above -------------------------------------
# ``qualification_change(institution_id, version)`` -> {institution_id,
# cert_no, change, effective_on, reason}: the suspension, reinstatement or
# revocation of the institution's event at ``version``, read by referral when
# the change flags a referral open with the institution, never carried in an
# event (NotFound for anything else). nameko RPC has no caller identity: any
# client of the broker can call it.


def policy_id(institution: str) -> UUID:
    """The catalog id of an institution's service policy."""
    return uuid5(NAMESPACE_URL, f"qi-onestop:service-policy:{institution}")
