"""Intake's published contract: what other services and the gateway may know of
intake without importing its domain or application.

The vocabulary of demands (channels, customer kinds, states and their Chinese
labels), of the convenience services of 7.4.4 (visits, sample conditions,
report delivery) and the integration events intake publishes. Intake's own
modules import these names from here: one definition. This module imports
only the standard library.
"""

from __future__ import annotations

# -- demands ------------------------------------------------------------------

# 5.2.1, 7.4.4, 8.2.1, 8.2.2: the channels a demand may arrive on.
CHANNELS = {
    "window": "服务窗口",
    "phone": "电话",
    "website": "网站",
    "app": "移动应用",
    "mini_program": "小程序",
    "wechat": "微信",
    "wecom": "企业微信",
    "qq": "QQ",
    "email": "电子邮件",
    "visit": "上门走访",
}
# 5.2.2 b: who a demand is for.
CUSTOMER_KINDS = {"individual": "个人", "company": "企业", "government": "政府部门"}
# a demand's states, as staff and customers see them
STATUS_LABELS = {
    "registered": "已登记",
    "in_service": "服务中",
    "referred": "已转办",
    "resolved": "已办结",
    "reopened": "重新办理",
}

# -- convenience services (7.4.4) -----------------------------------------------

CUSTOMER = "customer"  # the demand's customer, first holder of a brought sample
INTACT = "完好"
# a sample's condition when received or handed over
CONDITIONS = (INTACT, "破损", "受潮", "污染", "封签破损", "数量不符")
VISITS = {"acceptance": "上门受理", "pickup": "上门取样"}
REPORT_METHODS = {"post": "邮寄", "email": "电子邮件", "download": "在线下载"}

# -- RPC for notify only ----------------------------------------------------------
# ``notification_contact(demand_id)`` -> {demand_id, applicant, contact_person,
# contact_phone, contact_email, progress_code, institution}: read by notify
# when it sends a message to the customer, never carried in an event.
# ``materials_notice(demand_id, version)`` -> {demand_id, requested,
# nonconforming: {material: what is wrong with it}}: the one-time notice the
# demand's event at ``version`` issued (7.4.3), read by notify when it writes
# it (NotFound for anything else). nameko RPC has no caller identity: any
# client of the broker can call them.

# -- integration events ---------------------------------------------------------
# Versioned; no applicant name or phone leaves intake (7.3.3).

SOURCE = "intake"
# DemandRegistered v2 data: {demand_id, channel, institution (receiving the
# demand), needs: [{item_code}], registered_at}. v1 also carried each need's
# description, the customer's own words, which can name a person (issue 18):
# a reader that needs them asks intake for the demand when it shows it.
DEMAND_REGISTERED = ("DemandRegistered", 2)
# DemandReferred v1 data: {demand_id, items: [item codes], quote_id,
# green_channel, first_responder} — classified and referred at triage (8.3.4).
# first_responder (the owner who decided, 7.4.2) was added later; a reader of
# an older message falls back to the envelope's actor, the same person.
DEMAND_REFERRED = ("DemandReferred", 1)
# DemandResolved v1 data: {demand_id, outcome (answered | in_house | referred),
# resolved_by, resolved_at} — the service ended; evaluation's 5 working days
# for the customer's rating count from resolved_at (9.2.1).
DEMAND_RESOLVED = ("DemandResolved", 1)
# For staff efficiency (9.2.2), who did what and when, without customer data:
# DemandTaken v1 {demand_id, staff_id, taken_at} — first response (7.4.2);
# DemandHandedOver v1 {demand_id, staff_id, at} — the receiver now owns it;
# ContractReviewed v1 {demand_id, staff_id, passed} (5.3.1.2);
# NoticeViolation v1 {demand_id, staff_id, late: [materials]} (7.4.3).
# MaterialsNoticeIssued v2 {demand_id, staff_id, requested: [materials, as
# listed], nonconforming: [those of ``requested`` found non-conforming],
# contacts (the platform's service phone from catalog's guide, no person's),
# issued_at}: the one-time notice of every missing or non-conforming
# material (7.4.3), which notify delivers to the customer. Material names come
# from catalog's checklist. v1 carried ``nonconforming`` as {material: what
# is wrong with it}, staff's own words, which can name a person (issue 18):
# they stay here, and notify reads them with ``materials_notice(demand_id,
# version)`` (the envelope's aggregate_version; RPC below) when it writes the
# notice; a v1 message is read with the words it carries.
MATERIALS_NOTICE_ISSUED = ("MaterialsNoticeIssued", 2)
# In-house service's deadline (8.3.2, 8.3.5), swept by intake once each, as
# referral does for referrals; notify tells the people:
# InHouseReminded v1 {demand_id, owner (staff id), institution, items: [item
# codes], due_at, reminded_at}: the due date is near, for the owner (the
# institution's staff inbox); InHouseEscalated v1 {demand_id, owner,
# institution, items, due_at, escalated_at}: past it unresolved, for the
# institution's managers. Ids and codes only, never the department or a
# description someone typed. ``institution`` is "" for a sweep stored before
# it was recorded (notify then tells the front door's people).
IN_HOUSE_REMINDED = ("InHouseReminded", 1)
IN_HOUSE_ESCALATED = ("InHouseEscalated", 1)
DEMAND_TAKEN = ("DemandTaken", 1)
DEMAND_HANDED_OVER = ("DemandHandedOver", 1)
CONTRACT_REVIEWED = ("ContractReviewed", 1)
NOTICE_VIOLATION = ("NoticeViolation", 1)
