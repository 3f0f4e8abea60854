"""Notify's published contract: what other services and the gateway may know
of the platform's messages without importing notify's domain or application.

notify consumes the integration events that must reach a person and turns
each into messages with a stable id (one per event, kind and audience),
written in Chinese from the templates in ``services/notify/templates/``. It
publishes no integration events. This module imports only the standard
library.

RPC (for the gateway's pages, added later; every list is newest first, each
message ``{id, kind, kind_label, audience, institution, demand_id,
complaint_number, subject, text, created_at, status, status_label,
deliveries: {channel: {status, to (masked), attempts}}}``):

- ``inbox(actor, offset=0, limit=50)`` -> ``{total, offset, limit, items}``:
  the messages addressed to the actor's institution and role (``actor`` as
  in an audit stamp, ``{id, role, institution}``): ``partner`` its partner
  institution's, ``staff`` its institution's staff's, ``manager`` its
  institution's managers' and staff's; any other role sees none.
- ``messages_for_progress_code(code)`` -> ``[message]``: the customer's, of
  the demand the progress code names (7.4.6); ``NotFound`` for an unknown code.
- ``messages_for_demand(demand_id)`` -> ``[message]``: every message of a
  demand's case, for its institution's staff (the gateway checks access).
- ``messages_for_complaint_code(code)`` -> ``[message]``: the complainant's,
  by the code they hold; ``NotFound`` for an unknown code.
- ``message(message_id)`` -> ``message`` with each delivery's history.
- ``delivered_at(message_ids)`` -> ``{message_id: ISO moment}``: when each
  message first reached its person by e-mail or SMS, for those that did
  (evaluation's survey window starts then, 9.2.1; the inbox is no delivery).
- ``undelivered()`` -> ``[message]``: deliveries parked after their retries
  (ops); ``release(message_id)`` tries a parked delivery again.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

SOURCE = "notify"

# who a message is for
AUDIENCES = {
    "customer": "客户",
    "complainant": "投诉人",
    "partner": "承接机构",
    "staff": "服务人员",
    "manager": "管理人员",
}
# how it reaches them; the inbox (the console, the progress page) always
CHANNELS = {"email": "电子邮件", "sms": "短信", "inbox": "站内消息"}
# what it says (one template each)
KINDS = {
    "materials_notice": "材料一次性告知",
    "referral_sent": "转办派发通知",
    "referral_accepted": "转办签收确认",
    "referral_due_soon": "转办期限提醒",
    "referral_overdue": "转办超期通知",
    "escalation": "转办督办",
    "in_house_due_soon": "自主服务期限提醒",
    "in_house_overdue": "自主服务超期督办",
    "qualification_flag": "承接机构资质变更",
    "improvement_overdue": "整改事项逾期",
    "report_ready": "报告出具通知",
    "survey_invitation": "满意度评价邀请",
    "survey_reminder": "满意度评价提醒",
    "complaint_acknowledged": "投诉受理告知",
    "complaint_decided": "投诉处理决定告知",
}
STATUS_LABELS = {
    "queued": "待发送",
    "sending": "发送中",
    "sent": "已发送",
    "inbox": "已送达站内",
    "parked": "发送失败，待处理",
}
DELIVERY_LABELS = {
    "pending": "待发送",
    "attempting": "发送中",
    "failed": "发送失败，将重试",
    "sent": "已发送",
    "parked": "多次失败，待处理",
}


def message_id(event_id: str, kind: str, audience: str) -> UUID:
    """The stable id of the message an event causes for an audience: a
    redelivered event names the same message, which is then not made again."""
    return uuid5(NAMESPACE_URL, f"qi-onestop:notify:{event_id}:{kind}:{audience}")
