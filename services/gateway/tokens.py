"""Signed, expiring bearer tokens and the rate limits on guessing.

A token is the account's identity (username, role, institution) signed with
the gateway's secret by itsdangerous; it expires after QI_TOKEN_TTL_SECONDS.
The role and institution in a token are what authorisation checks, so a
changed role takes effect at the next login.
"""

from __future__ import annotations

import secrets
import time

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from shared import config
from shared.audit import Actor

SALT = "qi-onestop.gateway.token"


def gateway_secret() -> str:
    """QI_GATEWAY_SECRET, or a random one kept in QI_VAR_DIR for `make run`.

    Every process of one installation reads the same file, so a token issued
    by one gateway instance is honoured by the others.
    """
    configured = config.get("QI_GATEWAY_SECRET")
    if configured:
        return configured
    return config.kept_secret("gateway.secret", lambda: secrets.token_urlsafe(48))


class TokenError(Exception):
    """No valid token: missing, forged, or expired."""


class Tokens:
    def __init__(self, secret: str, ttl_seconds: float):
        self.serializer = URLSafeTimedSerializer(secret, salt=SALT)
        self.ttl_seconds = ttl_seconds

    def issue(self, actor: Actor) -> str:
        return self.serializer.dumps(
            {"sub": actor.id, "role": actor.role, "inst": actor.institution}
        )

    def verify(self, token: str) -> Actor:
        try:
            claims = self.serializer.loads(token, max_age=self.ttl_seconds)
        except SignatureExpired:
            raise TokenError("登录已过期，请重新登录") from None
        except BadSignature:
            raise TokenError("登录凭证无效") from None
        return Actor(id=claims["sub"], role=claims["role"], institution=claims["inst"])


class RateLimiter:
    """At most ``limit`` attempts per key within ``window`` seconds.

    The attempts are kept in the gateway's database (its kernel store), so
    every gateway instance of an installation counts the same attempts: the
    limit holds however many instances a province runs.
    """

    def __init__(self, kernel, name: str, limit: int, window: float, clock=time.time):
        self.kernel = kernel
        self.name = name
        self.limit = limit
        self.window = window
        self.clock = clock
        kernel.create(
            """CREATE TABLE IF NOT EXISTS gateway_attempts (
                limiter TEXT NOT NULL,
                attempt_key TEXT NOT NULL,
                at DOUBLE PRECISION NOT NULL
            )""",
            "CREATE INDEX IF NOT EXISTS gateway_attempts_by_key "
            "ON gateway_attempts (limiter, attempt_key, at)",
        )

    def allow(self, key: str) -> bool:
        """Count one attempt for ``key``; False when it is over the limit."""
        now = self.clock()
        with self.kernel.cursor() as cur:
            if self._count(cur, key, now) >= self.limit:
                return False
            self._insert(cur, key, now)
        return True

    def exceeded(self, key: str) -> bool:
        with self.kernel.cursor() as cur:
            return self._count(cur, key, self.clock()) >= self.limit

    def record(self, key: str) -> None:
        now = self.clock()
        with self.kernel.cursor() as cur:
            self._insert(cur, key, now)
            # forget attempts whose window has passed, for every key
            cur.execute(
                "DELETE FROM gateway_attempts WHERE limiter = %s AND at <= %s",
                (self.name, now - self.window),
            )

    def retry_after(self, key: str) -> int:
        now = self.clock()
        rows = self.kernel.query(
            "SELECT MIN(at) AS first FROM gateway_attempts "
            "WHERE limiter = %s AND attempt_key = %s AND at > %s",
            (self.name, key, now - self.window),
        )
        first = rows[0]["first"] if rows else None
        if first is None:
            return 0
        return max(1, int(first + self.window - now) + 1)

    def _count(self, cur, key: str, now: float) -> int:
        cur.execute(
            "SELECT COUNT(*) AS n FROM gateway_attempts "
            "WHERE limiter = %s AND attempt_key = %s AND at > %s",
            (self.name, key, now - self.window),
        )
        return int(cur.fetchone()["n"])

    def _insert(self, cur, key: str, now: float) -> None:
        cur.execute(
            "INSERT INTO gateway_attempts (limiter, attempt_key, at) "
            "VALUES (%s, %s, %s)",
            (self.name, key, now),
        )
