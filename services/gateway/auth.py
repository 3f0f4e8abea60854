"""The gateway's login machinery as a nameko dependency, and demo accounts."""

from __future__ import annotations

import json
import logging
from contextlib import contextmanager
from pathlib import Path

from nameko.extensions import DependencyProvider

from services.gateway.accounts import GatewayApplication
from services.gateway.tokens import RateLimiter, Tokens, gateway_secret
from shared import audit, config
from shared.audit import Actor, AuditContext
from shared.errors import ConflictError, ValidationFailed
from shared.persistence import KernelStore

log = logging.getLogger(__name__)


class AuthTools:
    """Tokens and rate limits shared by every worker of one gateway process."""

    def __init__(self):
        self.tokens = Tokens(gateway_secret(), config.get_float("QI_TOKEN_TTL_SECONDS"))
        # the gateway's database, where every instance counts the same attempts
        self.kernel = KernelStore("gateway")
        self.logins = RateLimiter(
            self.kernel, "login", config.get_int("QI_LOGIN_ATTEMPTS"), 300
        )
        self.progress_queries = RateLimiter(
            self.kernel,
            "progress",
            config.get_int("QI_PROGRESS_QUERIES_PER_MINUTE"),
            60,
        )

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
