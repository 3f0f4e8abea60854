"""Signed, expiring bearer tokens that can be revoked, and the rate limits
on guessing.

A token is the account's identity (username, role, institution) and its
token version, signed with the gateway's secret by itsdangerous; it expires
after QI_TOKEN_TTL_SECONDS. The role and institution in a token are what
authorisation checks, so a token must not outlive a change of them: each
account has a token version in the gateway's database (``TokenVersions``),
raised when the account is disabled, its role or password changes, or its
holder logs out, and a token is honoured only while it carries the current
version. The check is one primary-key read per authenticated request, in the
database every gateway instance shares, so a revocation holds on every
instance at once; nothing is cached in a process.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import bindparam, delete, func, insert, select

from services.gateway.storage import attempts, token_versions
from shared import config
from shared.audit import Actor

SALT = "qi-onestop.gateway.token"
ATTEMPT = attempts.c
VERSION = token_versions.c
REVOKED = "登录已失效（已退出登录，或账号已停用、角色或密码已更改），请重新登录"


def gateway_secret() -> str:
    """QI_GATEWAY_SECRET, or a random one kept in QI_VAR_DIR for `make run`.

    Every process of one installation reads the same file, so a token issued
    by one gateway instance is honoured by the others.
    """
    configured = config.get("QI_GATEWAY_SECRET")
    if configured:
        return configured
    return config.kept_secret("gateway.secret", lambda: secrets.token_urlsafe(48))


def accepted_secrets() -> list[str]:
    """QI_GATEWAY_ACCEPTED_SECRETS: other keys whose tokens are still honoured
    (never used to sign), for rotating QI_GATEWAY_SECRET without logging
    everyone out; each is held to the rule of the signing key."""
    listed = [s.strip() for s in config.get("QI_GATEWAY_ACCEPTED_SECRETS").split(",")]
    for value in filter(None, listed):
        problem = config.secret_problem("QI_GATEWAY_ACCEPTED_SECRETS", value)
        if problem:
            raise ValueError(problem)
    return [s for s in listed if s]


class TokenError(Exception):
    """No valid token: missing, forged, expired or revoked."""


@dataclass(frozen=True)
class Signed:
    """What a token's signature vouches for: who, and the token version."""

    actor: Actor
    version: int


class Tokens:
    def __init__(self, secret: str, ttl_seconds: float, accepted: tuple[str, ...] = ()):
        # itsdangerous signs with the last key and verifies with any of them
        self.serializer = URLSafeTimedSerializer([*accepted, secret], salt=SALT)
        self.ttl_seconds = ttl_seconds

    def issue(self, actor: Actor, version: int) -> str:
        return self.serializer.dumps(
            {
                "sub": actor.id,
                "role": actor.role,
                "inst": actor.institution,
                "ver": version,
            }
        )

    def verify(self, token: str) -> Signed:
        """The signed claims; a token of a version before revocations existed
        (no ``ver``) is refused like a revoked one."""
        try:
            claims = self.serializer.loads(token, max_age=self.ttl_seconds)
        except SignatureExpired:
            raise TokenError("登录已过期，请重新登录") from None
        except BadSignature:
            raise TokenError("登录凭证无效") from None
        version = claims.get("ver")
        if not isinstance(version, int):
            raise TokenError(REVOKED)
        actor = Actor(id=claims["sub"], role=claims["role"], institution=claims["inst"])
        return Signed(actor, version)


class TokenVersions:
    """Each account's token version, in the gateway's database: a token is
    honoured only while its version is the account's current one, so raising
    it ends every session of the account, on every gateway instance."""

    def __init__(self, kernel):
        self.kernel = kernel
        kernel.create(token_versions)

    def current(self, username: str) -> int:
        """One primary-key read; an account never revoked is at 0."""
        found = self.kernel.scalar(
            select(VERSION.version).where(VERSION.username == username)
        )
        return found or 0

    def revoke(self, username: str) -> None:
        """End every session of the account: its tokens carry an old version."""
        self.kernel.execute(
            self.kernel.insert(token_versions)
            .values(username=username, version=1)
            .on_conflict_do_update(
                index_elements=[VERSION.username],
                set_={"version": VERSION.version + 1},
            )
        )

    def check(self, signed: Signed) -> Actor:
        if signed.version != self.current(signed.actor.id):
            raise TokenError(REVOKED)
        return signed.actor


class RateLimiter:
    """At most ``limit`` attempts per key within ``window`` seconds.

    The attempts are kept in the gateway's database (its kernel store), so
    every gateway instance of an installation counts the same attempts: the
    limit holds however many instances a province runs. They are written
    without waiting for the disk (``transaction(durable=False)``): a machine
    crash may forget the last second's attempts, which only lets those
    callers try again.
    """

    def __init__(self, kernel, name: str, limit: int, window: float, clock=time.time):
        self.kernel = kernel
        self.name = name
        self.limit = limit
        self.window = window
        self.clock = clock
        # attempts past their window are deleted at most this often (per
        # process): the table holds one window's attempts, at most ``limit``
        # per key, whatever the traffic (issue 18)
        self.sweep_every = min(window, 60.0)
        self._swept_at = float("-inf")
        kernel.create(attempts)
        # built once, with the key and moments bound per call: an attempt is
        # counted on every anonymous write, and building the statements each
        # time was most of its cost (issue 22)
        recent = (
            ATTEMPT.limiter == self.name,
            ATTEMPT.attempt_key == bindparam("key"),
            ATTEMPT.at > bindparam("since"),
        )
        self._counting = select(func.count()).select_from(attempts).where(*recent)
        self._first = select(func.min(ATTEMPT.at)).where(*recent)
        self._adding = insert(attempts).values(
            limiter=self.name, attempt_key=bindparam("key"), at=bindparam("at")
        )

    def allow(self, key: str) -> bool:
        """Count one attempt for ``key``; False when it is over the limit."""
        now = self.clock()
        with self.kernel.transaction(durable=False) as conn:
            self._sweep_if_due(conn, now)
            if self._count(conn, key, now) >= self.limit:
                return False  # refused attempts are not kept: a row per allowed
            self._insert(conn, key, now)
        return True

    def exceeded(self, key: str) -> bool:
        with self.kernel.transaction() as conn:
            return self._count(conn, key, self.clock()) >= self.limit

    def record(self, key: str) -> None:
        now = self.clock()
        with self.kernel.transaction(durable=False) as conn:
            self._insert(conn, key, now)
            self._sweep_if_due(conn, now)

    def _sweep_if_due(self, conn, now: float) -> None:
        """Forget attempts whose window has passed, for every key."""
        if now - self._swept_at < self.sweep_every:
            return
        self._swept_at = now
        conn.execute(
            delete(attempts).where(
                ATTEMPT.limiter == self.name, ATTEMPT.at <= now - self.window
            )
        )

    def retry_after(self, key: str) -> int:
        now = self.clock()
        first = self.kernel.scalar(self._first.params(key=key, since=now - self.window))
        if first is None:
            return 0
        return max(1, int(first + self.window - now) + 1)

    def _count(self, conn, key: str, now: float) -> int:
        return conn.execute(
            self._counting, {"key": key, "since": now - self.window}
        ).scalar_one()

    def _insert(self, conn, key: str, now: float) -> None:
        conn.execute(self._adding, {"key": key, "at": now})
