"""Referral read models: where each referral is (inboxes, open load, on-time
record of each institution) and the reports' verification codes (7.4.4).

Rebuildable from the events at any time (``ProjectionRunner.rebuild``).
"""

from __future__ import annotations

from services.referral.domain import Referral
from shared.projection import Projection

STATUS_AFTER = {
    Referral.Matched: "matched",
    Referral.ResponsibleRuled: "matched",
    Referral.Sent: "sent",
    Referral.Returned: "returned",
    Referral.Accepted: "accepted",
    Referral.ProgressReported: "in_progress",
    Referral.Completed: "completed",
    Referral.FeedbackDelivered: "feedback_delivered",
    Referral.PutOnHold: "on_hold",
    Referral.Cancelled: "cancelled",
    Referral.Failed: "failed",
}
ASSIGNING = (Referral.Matched, Referral.ResponsibleRuled, Referral.Sent)


class ReferralView(Projection):
    name = "referral_view"
    table_names = ("referral_routes", "referral_reports")
    tables = (
        """CREATE TABLE IF NOT EXISTS referral_routes (
            referral_id TEXT PRIMARY KEY, demand_id TEXT NOT NULL,
            item_code TEXT NOT NULL, kind TEXT NOT NULL, status TEXT NOT NULL,
            assignee_id TEXT NOT NULL, assignee_institution TEXT NOT NULL,
            origin_institution TEXT NOT NULL, on_time INTEGER)""",
        """CREATE TABLE IF NOT EXISTS referral_reports (
            code TEXT PRIMARY KEY, referral_id TEXT NOT NULL,
            report_no TEXT NOT NULL, issued_on TEXT NOT NULL,
            sha256 TEXT NOT NULL, status TEXT NOT NULL)""",
    )

    def apply(self, event, cursor) -> None:
        if not isinstance(event, Referral.Event):
            return
        rid = str(event.originator_id)
        if isinstance(event, Referral.Requested):
            cursor.execute(
                "INSERT INTO referral_routes (referral_id, demand_id, item_code, "
                "kind, status, assignee_id, assignee_institution, "
                "origin_institution, on_time) "
                "VALUES (%s, %s, %s, %s, 'requested', '', '', %s, NULL)",
                (
                    rid,
                    event.demand_id,
                    event.item_code,
                    event.kind,
                    event.origin_institution,
                ),
            )
            return
        if isinstance(event, ASSIGNING):
            assignee = event.assignee
            cursor.execute(
                "UPDATE referral_routes SET assignee_id=%s, assignee_institution=%s "
                "WHERE referral_id=%s",
                (assignee["id"], assignee["institution_id"], rid),
            )
        if isinstance(event, Referral.Returned):
            cursor.execute(
                "UPDATE referral_routes SET assignee_id='', assignee_institution='' "
                "WHERE referral_id=%s",
                (rid,),
            )
        status = STATUS_AFTER.get(type(event))
        if isinstance(event, Referral.Resumed):
            status = event.status
        if status:
            cursor.execute(
                "UPDATE referral_routes SET status=%s WHERE referral_id=%s",
                (status, rid),
            )
        self._reports(event, rid, cursor)

    @staticmethod
    def _reports(event, rid: str, cursor) -> None:
        if isinstance(event, Referral.Completed):
            cursor.execute(
                "UPDATE referral_routes SET on_time=%s WHERE referral_id=%s",
                (1 if event.on_time else 0, rid),
            )
        if isinstance(event, Referral.Completed | Referral.ReportReplaced):
            cursor.execute(
                "UPDATE referral_reports SET status='replaced' "
                "WHERE referral_id=%s AND status='valid'",
                (rid,),
            )
            report = event.report
            cursor.execute(
                "INSERT INTO referral_reports (code, referral_id, report_no, "
                "issued_on, sha256, status) VALUES (%s, %s, %s, %s, %s, 'valid')",
                (
                    report["verification_code"],
                    rid,
                    report["report_no"],
                    report["issued_on"],
                    report["sha256"],
                ),
            )
        if isinstance(event, Referral.ReportRevoked):
            cursor.execute(
                "UPDATE referral_reports SET status='revoked' "
                "WHERE referral_id=%s AND status='valid'",
                (rid,),
            )
