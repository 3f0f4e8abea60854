"""Answers kept under an Idempotency-Key, so a retried command is not run
twice — holding only what a replay needs, encrypted, and for a while.

A command sent again with the same key (a client that lost the answer)
gets the first answer; the same key with another body or on another route is
a client's mistake, refused with 422 and nothing stored. What is kept of
each answer:

- the key, as a digest of the caller and the key (a key is the caller's own:
  an anonymous caller's are its address's, so one customer cannot replay
  another's answer by guessing their key);
- the request's fingerprint (a digest of the route and the body), to tell a
  retry from a different request;
- the answer's status and body, the body encrypted with the cipher of the
  gateway's event store (QI_CIPHER_KEY: eventsourcing's AES-GCM ``AESCipher``,
  the key every stored event is encrypted with); an installation without a
  key keeps its events in the clear, and these with them;
- when it was kept: after QI_IDEMPOTENCY_RETENTION_HOURS the answer is no
  longer replayed and the sweep deletes it (a retry comes within seconds or
  minutes, not days), so the table holds at most a retention period's
  commands.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable

from eventsourcing.persistence import Cipher
from sqlalchemy import delete, select

from services.gateway.storage import replays
from shared.errors import ValidationFailed

KEPT = replays.c
REUSED_MESSAGE = "该幂等键已用于另一项不同的请求；新的请求请使用新的幂等键"
# at most one sweep per this many seconds per process: a sweep is one DELETE
# over the index on kept_at, cheap, but not worth running on every command
SWEEP_EVERY_SECONDS = 60.0


class KeyReused(ValidationFailed):
    """An Idempotency-Key already used for a different request (422)."""

    def __init__(self):
        super().__init__([{"field": "Idempotency-Key", "message": REUSED_MESSAGE}])


def _digest(*parts: str) -> str:
    joined = "\x1f".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.sha256(joined).hexdigest()


def fingerprint(route: str, body: object) -> str:
    """The request as a retry repeats it: its route and its body, the body's
    keys in a fixed order (a client may serialise them differently)."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False)
    return _digest(route, canonical)


class Replays:
    """The kept answers of one gateway's database (every instance shares
    them: a retry may reach another instance)."""

    def __init__(
        self,
        kernel,
        cipher: Cipher | None,
        retention_seconds: float,
        clock: Callable[[], float] = time.time,
    ):
        self.kernel = kernel
        self.cipher = cipher
        self.retention_seconds = retention_seconds
        self.clock = clock
        self._swept_at = float("-inf")
        kernel.create(replays)

    @staticmethod
    def key_of(key: str, caller: str) -> str:
        return _digest(caller, key)

    def recall(self, key: str, caller: str, request: str) -> tuple[int, str] | None:
        """The answer kept for this caller's key, if one is and it is not
        expired; ``KeyReused`` if the key was used for another ``request``
        (its ``fingerprint``)."""
        now = self.clock()
        rows = self.kernel.query(
            select(KEPT.request, KEPT.status, KEPT.body).where(
                KEPT.key == self.key_of(key, caller),
                KEPT.kept_at > now - self.retention_seconds,
            )
        )
        if not rows:
            return None
        if rows[0]["request"] != request:
            raise KeyReused()
        return rows[0]["status"], self._open(rows[0]["body"])

    def keep(self, key: str, caller: str, request: str, status: int, body: str):
        """Keep an answer; a second instance keeping the same key at the same
        moment leaves the first's (both ran it once, as a race allows)."""
        now = self.clock()
        self.kernel.execute(
            self.kernel.insert(replays)
            .values(
                key=self.key_of(key, caller),
                request=request,
                status=status,
                body=self._seal(body),
                kept_at=now,
            )
            .on_conflict_do_update(
                index_elements=[KEPT.key],
                # an expired answer under the same key gives way to the new one
                set_={
                    "request": request,
                    "status": status,
                    "body": self._seal(body),
                    "kept_at": now,
                },
                where=KEPT.kept_at <= now - self.retention_seconds,
            )
        )
        if now - self._swept_at >= SWEEP_EVERY_SECONDS:
            self.sweep(now)

    def sweep(self, now: float | None = None) -> int:
        """Delete every answer past its retention; how many were."""
        now = self.clock() if now is None else now
        self._swept_at = now
        return self.kernel.execute(
            delete(replays).where(KEPT.kept_at <= now - self.retention_seconds)
        )

    def _seal(self, body: str) -> bytes:
        data = body.encode("utf-8")
        return self.cipher.encrypt(data) if self.cipher else data

    def _open(self, sealed: bytes) -> str:
        data = bytes(sealed)
        return (self.cipher.decrypt(data) if self.cipher else data).decode("utf-8")
