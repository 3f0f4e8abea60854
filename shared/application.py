"""The eventsourcing Application every service builds on.

It stamps audit metadata and the hash chain on every event it stores, and
processes integration events idempotently: the new events and a tracking record
(source service, notification position) are stored in one transaction.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
)
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    IntegrityError,
    OperationalError,
    RecordConflictError,
    Tracking,
    Transcoding,
)
from eventsourcing.utils import get_topic
from sqlalchemy import select

from shared import audit, rpc_requests
from shared.case_index import CaseIndex
from shared.envelope import Envelope
from shared.errors import ConflictError, NotFound
from shared.hashchain import ChainBreak, event_hash, verify_stream
from shared.persistence import (
    KernelStore,
    eventsourcing_env,
    renew_on_stale_statements,
)
from shared.projection import ProjectionRunner
from shared.tables import tracking

log = logging.getLogger(__name__)
T = TypeVar("T")


def is_conflict(exc: Exception) -> bool:
    """A version or key conflict. PostgreSQL's pipeline mode sometimes reports
    the unique violation of a concurrent writer as "pipeline aborted"."""
    if isinstance(exc, RecordConflictError):
        return True
    return isinstance(exc, OperationalError) and "pipeline aborted" in str(exc)


@dataclass(frozen=True)
class Unreadable:
    """A stored event this application cannot read with its key: said as such,
    never as an altered event, since the hash chain says nothing about what
    cannot be read (the key, QI_CIPHER_KEY, is the first suspect; a tamper
    alarm raised by a missing key would teach people to ignore tamper alarms)."""

    originator_id: str
    version: int
    why: str


def _is_plain_json(data: bytes) -> bool:
    try:
        return isinstance(json.loads(data), dict)
    except ValueError:  # also UnicodeDecodeError
        return False


class DateAsISO(Transcoding):
    """Calendar dates (validity, deadlines) stored as ISO text."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class AuditedAggregate(Aggregate):
    """Base aggregate that remembers the hash of its last stored event."""

    class Event(Aggregate.Event):
        def mutate(self, aggregate):  # noqa: D401 - eventsourcing hook
            aggregate = super().mutate(aggregate)
            chain_hash = self.__dict__.get("chain_hash")
            if aggregate is not None and chain_hash:
                aggregate.__dict__["_chain_head"] = chain_hash
            return aggregate

    class Created(Event, Aggregate.Created):
        pass


class ServiceApplication(Application):
    """An event-sourced application owned by one service.

    ``name`` is the service name; it names the tables (PostgreSQL) and is the
    ``source`` of the integration events the service publishes.
    """

    def __init__(self, url: str | None = None, env: dict | None = None):
        self.database_url = url
        super().__init__(env={**eventsourcing_env(self.name, url), **(env or {})})
        renew_on_stale_statements(getattr(self.recorder, "datastore", None))
        self.kernel = KernelStore(self.name, url)
        # every service's own events, by case (shared.case_history reads it)
        self.case_index = ProjectionRunner(self, CaseIndex())
        # set after each save commits: the outbox relay in this process
        # publishes at once instead of finding the events at its next poll
        # (issue 22; green under eventlet's monkey-patching)
        self.stored = threading.Event()

    def register_transcodings(self, transcoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def construct_recorder(self):
        """A process recorder: it stores tracking records with new events."""
        return self.factory.process_recorder()

    # -- the words an integration event leaves out (issue 18) ---------------

    def event_at(self, aggregate_id, version, kind, what: str):
        """The stored event of class ``kind`` (a class or a union) at ``version``:
        where a consumer reads the words a published event does not carry (a
        person's free text stays in the owning service). ``NotFound`` naming
        ``what`` for a malformed id or version, or any other event there."""
        try:
            version = int(version)
            stored = self.recorder.select_events(
                UUID(str(aggregate_id)), gt=version - 1, lte=version
            )
        except (TypeError, ValueError):
            raise NotFound(f"{what} {aggregate_id}@{version}") from None
        for record in stored:
            event = self.mapper.to_domain_event(record)
            if isinstance(event, kind):
                return event
        raise NotFound(f"{what} {aggregate_id}@{version}")

    # -- storing: audit stamp and hash chain --------------------------------

    def _record(self, processing_event: ProcessingEvent) -> list:
        request = None
        if processing_event.tracking is None and processing_event.events:
            request = processing_event.tracking = rpc_requests.next_save()
        try:
            recordings = self._stamp_and_record(processing_event)
        except (IntegrityError, OperationalError) as exc:
            if request is not None and is_conflict(exc):
                if self.has_processed(
                    request.application_name, request.notification_id
                ):
                    rpc_requests.repeated(self.name).inc()
                    raise rpc_requests.DuplicateRequest(
                        "这项操作已经办理过（同一请求送达了两次），未重复办理"
                    ) from None
            raise
        if request is not None:
            rpc_requests.saved()
        self.stored.set()
        return recordings

    def _stamp_and_record(self, processing_event: ProcessingEvent) -> list:
        context = audit.current()
        heads: dict[Any, str] = {}
        for event in processing_event.events:
            oid = event.originator_id
            if oid not in heads:
                heads[oid] = self._chain_head(event, processing_event)
            state = event.__dict__
            if "audit" not in state:
                stamped = context
                if not stamped.correlation_id:
                    stamped = context.with_correlation(str(oid))
                state["audit"] = stamped.as_dict()
            state["prev_hash"] = heads[oid]
            state["chain_hash"] = event_hash(get_topic(type(event)), state)
            heads[oid] = state["chain_hash"]
        recordings = super()._record(processing_event)
        for oid, head in heads.items():
            aggregate = processing_event.aggregates.get(oid)
            if aggregate is not None:
                aggregate.__dict__["_chain_head"] = head
        return recordings

    def _chain_head(self, event: Any, processing_event: ProcessingEvent) -> str:
        if event.originator_version == 1:
            return ""
        aggregate = processing_event.aggregates.get(event.originator_id)
        head = getattr(aggregate, "_chain_head", None) if aggregate else None
        if head:
            return head
        stored = self.recorder.select_events(
            event.originator_id, lte=event.originator_version - 1, desc=True, limit=1
        )
        if not stored:
            return ""
        previous = self.mapper.to_domain_event(stored[0])
        return previous.__dict__.get("chain_hash", "")

    # -- commands ----------------------------------------------------------

    def get_existing(self, aggregate_id: object, kind: type, label: str):
        """The ``kind`` aggregate with that id; ``NotFound`` for a malformed id,
        an unknown one, or one of another kind."""
        try:
            found = self.repository.get(UUID(str(aggregate_id)))
        except (ValueError, TypeError, AggregateNotFoundError):
            raise NotFound(f"{label} {aggregate_id}") from None
        if not isinstance(found, kind):
            raise NotFound(f"{label} {aggregate_id}")
        return found

    def retry_on_conflict(self, command: Callable[[], T], attempts: int = 5) -> T:
        """Run a command that loads, changes and saves; retry on fresh state."""
        for attempt in range(1, attempts + 1):
            try:
                return command()
            except (RecordConflictError, OperationalError) as exc:
                if not is_conflict(exc):
                    raise
                if attempt == attempts:
                    raise ConflictError(
                        "the case was changed by someone else at the same time; "
                        "please try again"
                    ) from None
                time.sleep(0.005 * attempt)
        raise AssertionError("unreachable")

    def save_if_new(self, *aggregates) -> bool:
        """Save new aggregates; False if one already exists (same id)."""
        try:
            self.save(*aggregates)
            return True
        except (IntegrityError, OperationalError) as exc:
            if not is_conflict(exc):
                raise
            return False

    # -- consuming integration events --------------------------------------

    def has_processed(self, source: str, position: int) -> bool:
        """Whether the tracking record (source, position) is stored: read
        from eventsourcing's tracking table over the kernel's connections."""
        tracked = tracking(self.recorder).c
        return (
            self.kernel.scalar(
                select(tracked.notification_id).where(
                    tracked.application_name == source,
                    tracked.notification_id == position,
                )
            )
            is not None
        )

    def process(
        self,
        envelope: Envelope,
        policy: Callable[[Envelope], Iterable[Any]],
        attempts: int = 5,
    ) -> bool:
        """Apply ``policy`` to an integration event exactly once.

        ``policy`` returns the aggregates (or events) it changed; they are stored
        with a tracking record of (source, position). Returns False when the
        event had already been processed, which the caller acknowledges.

        A duplicate is found by the tracking record's key as the changes are
        stored, in their transaction (delivery contract 2), not by a read
        before: nearly every delivery is a first one, and that read cost each
        of them a query (issue 22). So a duplicate's policy runs, and what it
        made is not stored; a policy that fails on a duplicate (the case has
        moved on, a service it asks is down) finds the tracking record there
        and the message is acknowledged as a duplicate, as before.
        """
        for attempt in range(1, attempts + 1):
            processing = ProcessingEvent(
                tracking=Tracking(envelope.source, envelope.position)
            )
            with audit.audit_scope(envelope.caused_context(self.name)):
                try:
                    processing.collect_events(*policy(envelope))
                except Exception:
                    if self.has_processed(envelope.source, envelope.position):
                        return False
                    raise
                try:
                    self._record(processing)
                    return True
                except (IntegrityError, OperationalError) as exc:
                    # a duplicate loses on the tracking record's key (an
                    # IntegrityError; in PostgreSQL's pipeline mode sometimes
                    # "pipeline aborted"); an aggregate changed meanwhile, on
                    # its version: tried again on fresh state
                    if not (isinstance(exc, IntegrityError) or is_conflict(exc)):
                        raise
                    if self.has_processed(envelope.source, envelope.position):
                        return False
                    if not is_conflict(exc):
                        raise
                    if attempt == attempts:
                        raise ConflictError(
                            f"could not apply {envelope.type} from {envelope.source}"
                        ) from None
        raise AssertionError("unreachable")

    # -- audit: verification -----------------------------------------------

    def originator_ids(self) -> list[UUID]:
        seen: dict[UUID, None] = {}
        start = 1
        while True:
            batch = self.recorder.select_notifications(start=start, limit=1000)
            if not batch:
                return list(seen)
            for notification in batch:
                seen.setdefault(notification.originator_id, None)
            start = batch[-1].id + 1

    def verify_stream(self, originator_id: UUID) -> ChainBreak | Unreadable | None:
        """The first event of the stream that was altered (its hash or its link
        no longer holds), or the first this key cannot read, or None."""
        return self.verify_stored(self.recorder.select_events(originator_id))

    def verify_stored(self, stream: Iterable) -> ChainBreak | Unreadable | None:
        """``verify_stream`` of one stream's stored events already read, in
        version order (the case audit reads every stream of a case at once)."""
        decoded = []
        for stored in stream:
            try:
                state = self._state_as_stored(stored)
            except Exception:  # noqa: BLE001 - told apart by why_unreadable
                why = self.why_unreadable(stored) or "it does not decode"
                return Unreadable(
                    str(stored.originator_id), stored.originator_version, why
                )
            decoded.append((stored.topic, state))
        return verify_stream(decoded)

    def why_unreadable(self, stored) -> str | None:
        """None when a stored event decrypts and decodes with this key;
        otherwise why not, in words that point at the key: a wrong key, a
        missing one, plaintext among encrypted events and ciphertext without a
        key are each named as what they are."""
        data = bytes(stored.state)
        cipher = self.mapper.cipher
        if cipher is not None:
            try:
                data = cipher.decrypt(data)
            except Exception:  # noqa: BLE001 - ValueError for a bad tag or length
                if _is_plain_json(data):
                    return "stored without encryption, but a key is set"
                return "this key does not decrypt it"
        elif not _is_plain_json(data):
            return "not plain JSON: encrypted, but no key is set"
        try:
            if self.mapper.compressor:
                data = self.mapper.compressor.decompress(data)
            self.mapper.transcoder.decode(data)
        except Exception:  # noqa: BLE001 - whatever the decoder meets
            return "it does not decode"
        return None

    def _state_as_stored(self, stored) -> dict:
        """An event's state as it was hashed: decoded but not upcast, since an
        upcaster changes an old event's attributes, not what was recorded."""
        data = stored.state
        if self.mapper.cipher:
            data = self.mapper.cipher.decrypt(data)
        if self.mapper.compressor:
            data = self.mapper.compressor.decompress(data)
        state = self.mapper.transcoder.decode(data)
        state.pop("class_version", None)
        state["originator_id"] = stored.originator_id
        state["originator_version"] = stored.originator_version
        return state

    def verify_all(self) -> tuple[int, list[ChainBreak | Unreadable]]:
        """Verify every stream; returns (streams checked, what was found: an
        altered event or one this key cannot read, per stream)."""
        ids = self.originator_ids()
        breaks = [b for b in (self.verify_stream(i) for i in ids) if b is not None]
        return len(ids), breaks

    def close(self) -> None:
        self.kernel.close()
        super().close()
