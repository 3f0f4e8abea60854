"""The gateway's login machinery as a nameko dependency, and demo accounts."""

from __future__ import annotations

import json
import logging
from contextlib import contextmanager
from pathlib import Path

from nameko.extensions import DependencyProvider

from services.gateway.access import trusted_networks
from services.gateway.accounts import GatewayApplication
from services.gateway.tokens import (
    RateLimiter,
    Tokens,
    TokenVersions,
    accepted_secrets,
    gateway_secret,
)
from shared import audit, config
from shared.audit import Actor, AuditContext
from shared.errors import ConflictError, ValidationFailed
from shared.persistence import KernelStore
from shared.providers import Application

log = logging.getLogger(__name__)


class AuthTools:
    """Tokens, their revocation and the rate limits, shared by every worker
    of one gateway process; what must hold across instances is in the
    gateway's database."""

    def __init__(self):
        self.tokens = Tokens(
            gateway_secret(),
            config.get_float("QI_TOKEN_TTL_SECONDS"),
            tuple(accepted_secrets()),
        )
        # the gateway's database, where every instance counts the same attempts
        # and reads the same token versions
        self.kernel = KernelStore("gateway")
        self.versions = TokenVersions(self.kernel)
        # failed logins of one name from one address, and of one address
        # whatever the names: a stranger guessing `admin` locks out only
        # himself, never the admin at another address
        self.logins = RateLimiter(
            self.kernel, "login", config.get_int("QI_LOGIN_ATTEMPTS"), 300
        )
        self.login_addresses = RateLimiter(
            self.kernel,
            "login-address",
            config.get_int("QI_LOGIN_ADDRESS_ATTEMPTS"),
            300,
        )
        self.progress_queries = RateLimiter(
            self.kernel,
            "progress",
            config.get_int("QI_PROGRESS_QUERIES_PER_MINUTE"),
            60,
        )
        self.trusted_proxies = trusted_networks(config.get("QI_TRUSTED_PROXIES"))
        # writes without a login (a demand, a complaint, a rating), per address
        self.anonymous_writes = RateLimiter(
            self.kernel,
            "anonymous-write",
            config.get_int("QI_ANONYMOUS_WRITES_PER_HOUR"),
            3600,
        )

    def identify(self, token: str) -> Actor:
        """The caller a token names, if its signature holds, it has not
        expired and its account's sessions were not ended since it was issued
        (TokenError otherwise)."""
        return self.versions.check(self.tokens.verify(token))

    def issue(self, actor: Actor, version: int) -> str:
        """A token of ``version``, read before the password was checked: if
        the account changes in between, the token is born revoked."""
        return self.tokens.issue(actor, version)

    def end_sessions(self, username: str) -> None:
        """Every token of the account stops working, on every instance."""
        self.versions.revoke(username)

    @staticmethod
    @contextmanager
    def as_caller(actor: Actor, channel: str):
        """Events the gateway stores itself (accounts) name who asked."""
        with audit.audit_scope(AuditContext(actor=actor, channel=channel)):
            yield


class Auth(DependencyProvider):
    def setup(self) -> None:
        self.tools = AuthTools()

    def stop(self) -> None:
        self.tools.kernel.close()

    def kill(self) -> None:
        self.stop()

    def get_dependency(self, worker_ctx) -> AuthTools:
        return self.tools


class SeededApplication(Application):
    """The gateway's application, with QI_SEED_ACCOUNTS opened while the
    service is set up, before any entrypoint starts: nameko starts the HTTP
    server and the providers together, and the seed's password hashes run
    off the event loop, so seeding at start would let /healthz answer, and a
    login fail, before the demo accounts exist."""

    def setup(self) -> None:
        super().setup()
        seed_accounts(self.app)


def seed_accounts(app: GatewayApplication) -> None:
    """Open the accounts listed in QI_SEED_ACCOUNTS that do not exist yet."""
    path = config.get("QI_SEED_ACCOUNTS")
    if not path:
        return
    listed = json.loads(Path(path).read_text(encoding="utf-8"))["accounts"]
    seeder = Actor(id="seed", role="system")
    opened = 0
    with audit.audit_scope(AuditContext(actor=seeder, channel="internal")):
        for form in listed:
            if app.account(form["username"]) is not None:
                continue
            try:
                app.open_account(form)
                opened += 1
            except ConflictError:  # another gateway instance got there first
                pass
            except ValidationFailed as exc:
                name = form.get("username")
                raise ValueError(f"{path}: account {name}: {exc}") from None
    if opened:
        log.info("opened %d accounts listed in %s", opened, path)
