"""Parked messages: a failed handler's message is kept, counted and replayable.

Delivery contract 3. A message is parked once per (consumer, event id); a
replay that fails again adds an attempt to the same record.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from shared.persistence import KernelStore

# header carried by a replayed message: its parked record's id
REPLAY_HEADER = "x-qi-replay"

PARKED = "parked"
REPLAYING = "replaying"
RESOLVED = "resolved"


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
        with self.kernel.cursor() as cur:
            cur.execute(
                "INSERT INTO qi_parked_messages (consumer, event_id, source, "
                "event_type, position, queue, payload, error, attempts, status, "
                "parked_at, updated_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 1, %s, %s, %s) "
                "ON CONFLICT (consumer, event_id) DO UPDATE SET "
                "attempts = qi_parked_messages.attempts + 1, error = excluded.error, "
                "status = excluded.status, updated_at = excluded.updated_at",
                (
                    consumer,
                    event_id,
                    source,
                    event_type,
                    position,
                    queue,
                    body,
                    error[:4000],
                    PARKED,
                    now,
                    now,
                ),
            )
            cur.execute(
                "SELECT id FROM qi_parked_messages WHERE consumer=%s AND event_id=%s",
                (consumer, event_id),
            )
            return int(cur.fetchone()["id"])

    def list(self, status: str | None = PARKED) -> list[dict]:
        if status is None:
            return self.kernel.query("SELECT * FROM qi_parked_messages ORDER BY id")
        return self.kernel.query(
            "SELECT * FROM qi_parked_messages WHERE status=%s ORDER BY id", (status,)
        )

    def get(self, parked_id: int) -> dict | None:
        rows = self.kernel.query(
            "SELECT * FROM qi_parked_messages WHERE id=%s", (parked_id,)
        )
        return rows[0] if rows else None

    def mark(self, parked_id: int, status: str) -> None:
        self.kernel.execute(
            "UPDATE qi_parked_messages SET status=%s, updated_at=%s WHERE id=%s",
            (status, _now(), parked_id),
        )

    def resolve(self, consumer: str, event_id: str) -> None:
        self.kernel.execute(
            "UPDATE qi_parked_messages SET status=%s, updated_at=%s "
            "WHERE consumer=%s AND event_id=%s AND status<>%s",
            (RESOLVED, _now(), consumer, event_id, RESOLVED),
        )

    def count_open(self) -> int:
        rows = self.kernel.query(
            "SELECT COUNT(*) AS n FROM qi_parked_messages WHERE status<>%s",
            (RESOLVED,),
        )
        return int(rows[0]["n"])
