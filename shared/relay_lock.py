"""The lock that makes one outbox relay per service the active one.

PostgreSQL: a session-level advisory lock, on a connection of its own outside
the pool, held for as long as that session lives (a relay that dies loses it
with its connection). SQLite: an flock on a file beside the database (the
database file's own locks are per transaction, not per holder). The choice is
made here, once, from the kernel store's dialect.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import time

from sqlalchemy import Connection, func, select

from shared.persistence import KernelStore


class FileLock:
    def __init__(self, path: str):
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def still_held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None


class AdvisoryLock:
    """A session-level PostgreSQL advisory lock on a connection of its own.

    The lock lasts as long as its session, so whether it is still held is
    whether the session still answers. That is asked at most every
    ``RECHECK_SECONDS``, not before every batch (a ``SELECT 1`` per pump was
    16 % of a busy intake's CPU, issue 22): any statement the session ran in
    that time (the relay saves its position on it after every batch) has
    answered it. A session that died meanwhile is found by the next statement
    on it: the relay's position save fails, so a batch published after the
    lock was lost is published again by the new holder (a duplicate, which
    consumers ignore) and never recorded by the old one.
    """

    RECHECK_SECONDS = 1.0

    def __init__(self, kernel: KernelStore, name: str, clock=time.monotonic):
        self.kernel = kernel
        digest = hashlib.sha256(name.encode()).digest()
        self.key = int.from_bytes(digest[:8], "big", signed=True)
        self.clock = clock
        self._conn: Connection | None = None
        self._answered_at = float("-inf")

    def acquire(self) -> bool:
        if self._conn is not None and self.still_held():
            return True
        self.release()
        conn = self.kernel.connections.dedicated.connect()
        try:
            got = conn.execute(select(func.pg_try_advisory_lock(self.key))).scalar()
        except BaseException:
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self._conn = conn
        self._answered_at = self.clock()
        return True

    def still_held(self) -> bool:
        if self._conn is None:
            return False
        if self.clock() - self._answered_at < self.RECHECK_SECONDS:
            return True
        try:
            self._conn.execute(select(1))
        except Exception:  # noqa: BLE001 - a dead session has lost the lock
            self.release()
            return False
        self._answered_at = self.clock()
        return True

    def execute(self, statement, params: dict) -> bool:
        """Run one write on the lock's own session, in autocommit (one round
        trip; the outbox relay records its position so, issue 22). False,
        with nothing run, when no session holds the lock; a session that has
        died raises, and what it was to write is not written."""
        if self._conn is None:
            return False
        self._conn.execute(statement, params)
        self._answered_at = self.clock()
        return True

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # noqa: BLE001
                pass
            self._conn = None


def relay_lock(kernel: KernelStore, service: str) -> FileLock | AdvisoryLock:
    db = kernel.db
    if kernel.dialect == "sqlite":
        return FileLock(db.path + ".relay.lock")
    return AdvisoryLock(kernel, f"qi-relay:{db.dbname}:{db.schema}:{service}")
