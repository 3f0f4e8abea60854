"""The files a customer sent against the one-time materials notice (7.4.3),
kept in the gateway's own event store beside the file itself (shared/blobs.py).

One aggregate per demand; each upload is an event stamped with the demand as
its correlation, so it appears in the case's history the regulator reads.
Staff check what arrived and record the supplement on the demand as before
(intake's rule of the notice is unchanged): an upload is not a supplement
accepted.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import event
from eventsourcing.persistence import IntegrityError

from shared.application import AuditedAggregate
from shared.audit import AuditContext, audit_scope
from shared.errors import ConflictError


class CustomerMaterials(AuditedAggregate):
    @staticmethod
    def create_id(demand_id: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"qi-onestop:gateway:materials:{demand_id}")

    @event("Opened")
    def __init__(self, demand_id: str):
        self.demand_id = demand_id
        self.files: list[dict] = []

    @event("Uploaded")
    def upload(
        self,
        material: str,
        sha256: str,
        size: int,
        media_type: str,
        filename: str,
        at: str,
    ) -> None:
        self.files.append(
            {
                "material": material,
                "sha256": sha256,
                "size": size,
                "media_type": media_type,
                "filename": filename,
                "uploaded_at": at,
            }
        )


def record(app, actor, demand_id: str, file: dict, attempts: int = 5) -> dict:
    """Store one upload of the customer's (``actor``) on the demand."""
    context = AuditContext(actor=actor, channel="website", correlation_id=demand_id)
    with audit_scope(context):
        for _ in range(attempts):
            try:
                kept = app.repository.get(CustomerMaterials.create_id(demand_id))
            except AggregateNotFoundError:  # the first upload
                kept = CustomerMaterials(demand_id)
            kept.upload(**file)
            try:
                app.save(kept)
                return dict(file)
            except IntegrityError:  # another upload of the same demand first
                continue
    raise ConflictError("材料上传过于频繁，请稍后重试")


def files_of(app, demand_id: str) -> list[dict]:
    try:
        kept = app.repository.get(CustomerMaterials.create_id(demand_id))
    except AggregateNotFoundError:  # nothing uploaded yet
        return []
    return [dict(f) for f in kept.files]
