"""Read models fed by the service's own notification log.

A projection keeps tables in the service's database and a position; catching
up applies every newer stored event and moves the position in one transaction,
so a read model is never ahead of or behind what it says it has seen, and can
be rebuilt from the events at any time. Queries catch up first (cheap when
nothing is new), so a command's effect is visible to the next query.
"""

from __future__ import annotations

import logging
from typing import Any

from shared.application import ServiceApplication

log = logging.getLogger(__name__)


class Projection:
    """Subclass with ``name``, ``tables`` (DDL), ``reset`` and ``apply``."""

    name: str = ""
    tables: tuple[str, ...] = ()
    table_names: tuple[str, ...] = ()

    def apply(self, event: Any, cursor: Any) -> None:
        raise NotImplementedError

    def reset(self, cursor: Any) -> None:
        for table in self.table_names:
            cursor.execute(f"DELETE FROM {table}")


class ProjectionRunner:
    def __init__(self, app: ServiceApplication, projection: Projection, batch=500):
        self.app = app
        self.projection = projection
        self.batch = batch
        app.kernel.create(*projection.tables)

    def _position(self, cursor) -> int:
        lock = "" if self.app.kernel.is_sqlite else " FOR UPDATE"
        cursor.execute(
            f"SELECT position FROM qi_projection_position WHERE projection=%s{lock}",
            (self.projection.name,),
        )
        row = cursor.fetchone()
        return int(row["position"]) if row else 0

    def _caught_up(self) -> bool:
        """Nothing stored after the position: known from two plain reads, with
        no row locked and so no commit to wait for (most queries find this)."""
        rows = self.app.kernel.query(
            "SELECT position FROM qi_projection_position WHERE projection=%s",
            (self.projection.name,),
        )
        newest = self.app.recorder.max_notification_id() or 0
        return bool(rows) and int(rows[0]["position"]) >= newest

    def catch_up(self) -> int:
        """Apply stored events not yet applied; returns how many."""
        if self._caught_up():
            return 0
        applied = 0
        while True:
            with self.app.kernel.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO qi_projection_position (projection, position) "
                    "VALUES (%s, 0) ON CONFLICT (projection) DO NOTHING",
                    (self.projection.name,),
                )
                position = self._position(cursor)  # locked: one writer at a time
                notifications = self.app.recorder.select_notifications(
                    start=position + 1, limit=self.batch
                )
                for notification in notifications:
                    event = self.app.mapper.to_domain_event(notification)
                    self.projection.apply(event, cursor)
                if notifications:
                    cursor.execute(
                        "UPDATE qi_projection_position SET position=%s "
                        "WHERE projection=%s",
                        (notifications[-1].id, self.projection.name),
                    )
            applied += len(notifications)
            if len(notifications) < self.batch:
                return applied

    def rebuild(self) -> int:
        """Empty the read model and apply every stored event again."""
        with self.app.kernel.cursor() as cursor:
            self.projection.reset(cursor)
            cursor.execute(
                "DELETE FROM qi_projection_position WHERE projection=%s",
                (self.projection.name,),
            )
        count = self.catch_up()
        log.info("rebuilt %s from %d events", self.projection.name, count)
        return count
