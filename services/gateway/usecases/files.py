"""Files of a case kept by their content (shared/blobs.py): the e-report the
partner uploads with its number (7.4.4), and the materials the customer sent
against the one-time notice, for the demand's staff (7.4.3).

The report's file and its record are one: the referral records the SHA-256
of the very bytes stored, computed here from the upload (a digest typed by
hand is no longer needed). The file is stored before the referral records
it, and removed again when the referral refuses the report (a bad number, a
date in the future, a referral not in hand), so nothing is kept for bad
input; storing the same bytes twice keeps one copy.
"""

from __future__ import annotations

from services.gateway import uploads
from services.gateway.access import STAFF_ROLES
from services.gateway.usecases.common import web
from services.gateway.usecases.customer import file_response
from services.gateway.usecases.operation import use_case
from services.gateway.usecases.owners import DEMAND, REFERRAL
from services.gateway.usecases.referrals import PARTNER_SIDE
from shared import blobs
from shared.audit import Actor
from shared.errors import NotFound, ValidationFailed

# the referral's state decides: a first report completes it, a later one
# replaces the report issued (with a new number, 7.4.4)
COMPLETES = ("accepted", "in_progress")
REPLACES = ("completed", "feedback_delivered")


def store_then_record(content: bytes, record):
    """Keep the file, then ``record()``; a refused record leaves no file that
    was not there before."""
    store = blobs.store_from_config()
    digest = blobs.sha256_of(content)
    existed = store.exists(digest)
    store.put(content)
    try:
        return record(digest)
    except BaseException:
        if not existed:
            store.delete(digest)
        raise


@use_case(roles=PARTNER_SIDE, owner=REFERRAL)
def upload_report(
    gw,
    actor: Actor,
    referral: dict,
    *,
    referral_id: str,
    content: bytes,
    report_no: str,
    issued_on: str,
    conclusion: str,
) -> dict:
    """The partner's e-report (PDF) with its number and date: completes the
    referral, or replaces the report already issued."""
    state = referral["state"]
    if state not in COMPLETES + REPLACES:
        raise ValidationFailed.single(
            "status", f"转办当前为“{referral['state_label']}”，不能上传报告"
        )
    blobs.checked_file(content, "file", blobs.REPORT_TYPES)
    command = gw.referral.complete if state in COMPLETES else gw.referral.replace_report

    def record(digest: str) -> dict:
        report = {
            "report_no": report_no,
            "issued_on": issued_on,
            "sha256": digest,
            "conclusion": conclusion,
        }
        return command(referral_id, report, audit_data=web(actor))

    return store_then_record(content, record)


@use_case(roles=PARTNER_SIDE | {"regulator"}, owner=REFERRAL)
def report_file(gw, actor: Actor, referral: dict, *, referral_id: str):
    """The e-report file of the referral's current report."""
    report = referral.get("report")
    if not report:
        raise NotFound("report")
    content = blobs.store_from_config().get(report["sha256"])
    return file_response(content, "application/pdf", f"{report['report_no']}.pdf")


@use_case(roles=STAFF_ROLES, owner=DEMAND)
def materials(gw, actor: Actor, demand: dict, *, demand_id: str) -> list[dict]:
    """What the customer uploaded against the notice, oldest first."""
    return uploads.files_of(gw.app, demand_id)


@use_case(roles=STAFF_ROLES, owner=DEMAND)
def material_file(gw, actor: Actor, demand: dict, *, demand_id: str, sha256: str):
    digest = blobs.normal_digest(sha256)
    for kept in uploads.files_of(gw.app, demand_id):
        if kept["sha256"] == digest:
            content = blobs.store_from_config().get(digest)
            extension = blobs.EXTENSIONS[kept["media_type"]]
            name = kept["filename"] or f"{kept['material']}.{extension}"
            return file_response(content, kept["media_type"], name)
    raise NotFound("material")
