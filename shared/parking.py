"""Parked messages: a failed handler's message is kept, counted and replayable.

Delivery contract 3. A message is parked once per (consumer, event id); a
replay that fails again adds an attempt to the same record.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import func, select, update

from shared.persistence import KernelStore
from shared.tables import parked_messages

# header carried by a replayed message: its parked record's id
REPLAY_HEADER = "x-qi-replay"

PARKED = "parked"
REPLAYING = "replaying"
RESOLVED = "resolved"

PARKED_ROW = parked_messages.c


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class ParkingLot:
    def __init__(self, kernel: KernelStore):
        self.kernel = kernel

    def park(
        self,
        *,
        consumer: str,
        queue: str,
        event_id: str,
        source: str,
        event_type: str,
        position: int,
        payload: dict | str,
        error: str,
    ) -> int:
        body = payload if isinstance(payload, str) else json.dumps(payload)
        now = _now()
        parking = self.kernel.insert(parked_messages).values(
            consumer=consumer,
            event_id=event_id,
            source=source,
            event_type=event_type,
            position=position,
            queue=queue,
            payload=body,
            error=error[:4000],
            attempts=1,
            status=PARKED,
            parked_at=now,
            updated_at=now,
        )
        # parked again: one more attempt on the same record
        parking = parking.on_conflict_do_update(
            index_elements=[PARKED_ROW.consumer, PARKED_ROW.event_id],
            set_={
                "attempts": PARKED_ROW.attempts + 1,
                "error": parking.excluded.error,
                "status": parking.excluded.status,
                "updated_at": parking.excluded.updated_at,
            },
        )
        with self.kernel.transaction() as conn:
            conn.execute(parking)
            return conn.execute(
                select(PARKED_ROW.id).where(
                    PARKED_ROW.consumer == consumer, PARKED_ROW.event_id == event_id
                )
            ).scalar_one()

    def list(self, status: str | None = PARKED) -> list[dict]:
        query = select(parked_messages).order_by(PARKED_ROW.id)
        if status is not None:
            query = query.where(PARKED_ROW.status == status)
        return self.kernel.query(query)

    def get(self, parked_id: int) -> dict | None:
        rows = self.kernel.query(
            select(parked_messages).where(PARKED_ROW.id == parked_id)
        )
        return rows[0] if rows else None

    def mark(self, parked_id: int, status: str) -> None:
        self.kernel.execute(
            update(parked_messages)
            .where(PARKED_ROW.id == parked_id)
            .values(status=status, updated_at=_now())
        )

    def resolve(self, consumer: str, event_id: str) -> None:
        self.kernel.execute(
            update(parked_messages)
            .where(
                PARKED_ROW.consumer == consumer,
                PARKED_ROW.event_id == event_id,
                PARKED_ROW.status != RESOLVED,
            )
            .values(status=RESOLVED, updated_at=_now())
        )

    def count_open(self) -> int:
        return int(
            self.kernel.scalar(
                select(func.count())
                .select_from(parked_messages)
                .where(PARKED_ROW.status != RESOLVED)
            )
        )
