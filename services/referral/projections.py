"""Referral read models: where each referral is (inboxes, open load, on-time
record of each institution) and the reports' verification codes (7.4.4).

Rebuildable from the events at any time (``ProjectionRunner.rebuild``).
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, Table, Text

from services.referral.domain import Referral
from shared.projection import Projection, Writes

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
# the events that change which report of a referral is valid
REPORTING = (Referral.Completed, Referral.ReportReplaced, Referral.ReportRevoked)

metadata = MetaData()
routes = Table(
    "referral_routes",
    metadata,
    Column("referral_id", Text, primary_key=True),
    Column("demand_id", Text, nullable=False),
    Column("item_code", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("assignee_id", Text, nullable=False),
    Column("assignee_institution", Text, nullable=False),
    Column("origin_institution", Text, nullable=False),
    Column("on_time", Integer),
)
reports = Table(
    "referral_reports",
    metadata,
    Column("code", Text, primary_key=True),
    Column("referral_id", Text, nullable=False),
    Column("report_no", Text, nullable=False),
    Column("issued_on", Text, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("status", Text, nullable=False),
)
ROUTE = routes.c
REPORT = reports.c


class ReferralView(Projection):
    name = "referral_view"
    version = 1
    tables = (routes, reports)

    def apply(self, event, writes: Writes) -> None:
        if not isinstance(event, Referral.Event):
            return
        rid = str(event.originator_id)
        if isinstance(event, Referral.Requested):
            writes.insert(
                routes,
                {
                    "referral_id": rid,
                    "demand_id": event.demand_id,
                    "item_code": event.item_code,
                    "kind": event.kind,
                    "status": "requested",
                    "assignee_id": "",
                    "assignee_institution": "",
                    "origin_institution": event.origin_institution,
                    "on_time": None,
                },
            )
            return
        key = {"referral_id": rid}
        if isinstance(event, ASSIGNING):
            assignee = event.assignee
            writes.update(
                routes,
                key,
                {
                    "assignee_id": assignee["id"],
                    "assignee_institution": assignee["institution_id"],
                },
            )
        if isinstance(event, Referral.Returned):
            writes.update(routes, key, {"assignee_id": "", "assignee_institution": ""})
        status = STATUS_AFTER.get(type(event))
        if isinstance(event, Referral.Resumed):
            status = event.status
        if status:
            writes.update(routes, key, {"status": status})
        self._reports(event, rid, writes)

    def preload(self, events, writes: Writes) -> None:
        """The reports of the referrals a batch's events complete, replace or
        revoke a report of: which one is valid is then known without a read."""
        writes.load(
            reports,
            "referral_id",
            {
                str(event.originator_id)
                for event in events
                if isinstance(event, REPORTING)
            },
        )

    @staticmethod
    def _reports(event, rid: str, writes: Writes) -> None:
        if isinstance(event, Referral.Completed):
            writes.update(
                routes, {"referral_id": rid}, {"on_time": 1 if event.on_time else 0}
            )
        valid = {"referral_id": rid, "status": "valid"}
        if isinstance(event, Referral.Completed | Referral.ReportReplaced):
            writes.update_where(reports, valid, {"status": "replaced"})
            report = event.report
            writes.insert(
                reports,
                {
                    "code": report["verification_code"],
                    "referral_id": rid,
                    "report_no": report["report_no"],
                    "issued_on": report["issued_on"],
                    "sha256": report["sha256"],
                    "status": "valid",
                },
            )
        if isinstance(event, Referral.ReportRevoked):
            writes.update_where(reports, valid, {"status": "revoked"})
