"""Signed, expiring bearer tokens and the rate limits on guessing.

A token is the account's identity (username, role, institution) signed with
the gateway's secret by itsdangerous; it expires after QI_TOKEN_TTL_SECONDS.
The role and institution in a token are what authorisation checks, so a
changed role takes effect at the next login.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from pathlib import Path

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
    path = Path(config.get("QI_VAR_DIR")) / "gateway.secret"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(path, "x", encoding="ascii") as fresh:
            fresh.write(secrets.token_urlsafe(48))
        path.chmod(0o600)
    except FileExistsError:
        pass
    return path.read_text(encoding="ascii").strip()


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

    Kept in the gateway process: with several gateway instances each counts
    on its own, so the effective limit is ``limit`` times the instances.
    """

    def __init__(self, limit: int, window: float, clock=time.monotonic):
        self.limit = limit
        self.window = window
        self.clock = clock
        self.attempts: dict[str, deque] = {}
        self.lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Count one attempt for ``key``; False when it is over the limit."""
        if self.exceeded(key):
            return False
        self.record(key)
        return True

    def exceeded(self, key: str) -> bool:
        now = self.clock()
        with self.lock:
            seen = self.attempts.get(key)
            while seen and seen[0] <= now - self.window:
                seen.popleft()
            return bool(seen) and len(seen) >= self.limit

    def record(self, key: str) -> None:
        with self.lock:
            self.attempts.setdefault(key, deque()).append(self.clock())
            if len(self.attempts) > 100_000:  # forget idle keys, bound memory
                for idle in [k for k, v in self.attempts.items() if not v]:
                    del self.attempts[idle]

    def retry_after(self, key: str) -> int:
        seen = self.attempts.get(key)
        if not seen:
            return 0
        return max(1, int(seen[0] + self.window - self.clock()) + 1)
