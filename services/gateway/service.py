"""The HTTP front door: the JSON API under /api/v1 (services/gateway/api) and
the console's pages (services/gateway/pages).

Thin: each route and page runs one use case (services/gateway/usecases),
which checks who is calling and whose object it touches, makes the RPC calls
with the caller's identity as audit data — so every event the services
store names the person, role, institution and channel — and masks what the
caller need not see.
"""

from __future__ import annotations

from services.gateway.access import ANONYMOUS, TooManyAttempts, client_address
from services.gateway.accounts import GatewayApplication
from services.gateway.api import ROUTES
from services.gateway.auth import Auth, AuthTools, SeededApplication
from services.gateway.pages.routes import PagesRoutes
from services.gateway.tokens import TokenError
from shared.audit import Actor
from shared.rpc import BoundedRpcProxy
from shared.rpc_metrics import ServiceMetrics


class GatewayService(*ROUTES, PagesRoutes):
    name = "gateway"

    # RED of every HTTP route and the process's kernel figures (issue 11)
    service_metrics = ServiceMetrics()

    # each call gives up after QI_RPC_TIMEOUT_SECONDS (503, not a hang)
    intake = BoundedRpcProxy("intake")
    referral = BoundedRpcProxy("referral")
    catalog = BoundedRpcProxy("catalog")
    complaints = BoundedRpcProxy("complaints")
    evaluation = BoundedRpcProxy("evaluation")
    # pinged by /healthz, asked for what it parked, the inbox and the
    # customer's messages
    notify = BoundedRpcProxy("notify")

    app: GatewayApplication = SeededApplication(GatewayApplication)
    auth: AuthTools = Auth()

    # -- who is calling -----------------------------------------------------

    def caller(self, request) -> Actor:
        """The caller from the bearer token (signature, expiry and the
        account's token version checked); an anonymous customer without one."""
        header = request.headers.get("Authorization", "")
        if not header:
            return ANONYMOUS
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise TokenError("登录凭证格式应为 Bearer <token>")
        return self.auth.identify(token.strip())

    def client(self, request) -> str:
        """The client's address, behind QI_TRUSTED_PROXIES too."""
        return client_address(
            request.remote_addr,
            request.headers.get("X-Forwarded-For", ""),
            self.auth.trusted_proxies,
        )

    def count_guess(self, request, kind: str) -> None:
        """A look-up by a code (progress, complaint, report, survey) counts
        against the client's guesses; too many are refused for a while."""
        key = f"{kind}:{self.client(request)}"
        if not self.auth.progress_queries.allow(key):
            raise TooManyAttempts(self.auth.progress_queries.retry_after(key))

    def count_anonymous_write(self, request) -> None:
        """A write without a login (a demand, a complaint, a rating) counts
        against the client's address: a script filing thousands is refused
        for a while (429), a customer or a front desk never is
        (QI_ANONYMOUS_WRITES_PER_HOUR)."""
        key = f"write:{self.client(request)}"
        if not self.auth.anonymous_writes.allow(key):
            raise TooManyAttempts(self.auth.anonymous_writes.retry_after(key))
