"""Logging in and out, the caller's identity, and the accounts the platform's
admin keeps (argon2 hashes, signed expiring tokens that can be revoked;
7.3.3)."""

from __future__ import annotations

from services.gateway.access import ADMINS, TooManyAttempts, Unauthenticated
from services.gateway.accounts import BUSY, ROLES, hashing_busy
from services.gateway.tokens import TokenError
from services.gateway.usecases.operation import use_case
from services.gateway.usecases.owners import ACCOUNT, OWN_ACCOUNT, PLATFORM, PUBLIC
from shared.audit import Actor


def authenticate(gw, client: str, username: str, password: str):
    """The account if the password is right, else None (the API's login and
    the login page).

    Failures count per name from this address and per address whatever the
    names, and too many are refused for a while (429). A name is never locked
    from every address: whoever guesses `admin` from one address slows down
    only there, while the admin logs in from another."""
    if hashing_busy():  # refused before any read: a storm stays cheap
        raise TooManyAttempts(1, BUSY)
    limits = (
        (gw.auth.logins, f"user:{username}|addr:{client}"),
        (gw.auth.login_addresses, f"addr:{client}"),
    )
    for limiter, key in limits:
        if limiter.exceeded(key):
            raise TooManyAttempts(limiter.retry_after(key))
    account = gw.app.authenticate(username, password)
    if account is None:
        for limiter, key in limits:
            limiter.record(key)
    return account


def end_own_sessions(gw, token: str) -> str | None:
    """End every session of the account a token names (the console's logout);
    the account's name, or None when the token no longer worked anyway."""
    if not token:
        return None
    try:
        username = gw.auth.identify(token).id
    except TokenError:
        return None
    gw.auth.end_sessions(username)
    return username


def _ending_sessions(gw, username: str, change):
    """An account change that ends the account's sessions, once it is saved
    (bad input changes nothing, sessions included). A login racing with it
    read the token version before the old account, so its token is of an old
    version too; should the revocation itself fail, the admin's request fails
    and repeating it revokes."""
    changed = change()
    gw.auth.end_sessions(username)
    return changed


@use_case(roles=None, owner=PUBLIC)
def document(gw, actor: Actor, _) -> None:
    """The API's own description (OpenAPI, the docs page): public, nobody's."""
    return None


@use_case(roles=None, owner=PUBLIC)
def login(gw, actor: Actor, _, *, client: str, username: str, password: str):
    """Username and password → a signed token that expires; None: refused."""
    # read before the password check: a change meanwhile revokes the token
    version = gw.auth.versions.current(username)
    account = authenticate(gw, client, username, password)
    if account is None:
        return None
    signed = Actor(account.username, account.role, account.institution)
    return {
        "token": gw.auth.issue(signed, version),
        "token_type": "Bearer",
        "expires_in": int(gw.auth.tokens.ttl_seconds),
        "account": account.public(),
    }


@use_case(roles=None, owner=PUBLIC)
def logout(gw, actor: Actor, _, *, token: str) -> dict:
    """The bearer token's account logs out: every token of it stops working
    at once, on every gateway instance (its holder logs in again)."""
    if not token:
        raise Unauthenticated("请先登录")
    username = gw.auth.identify(token).id
    gw.auth.end_sessions(username)
    return {"username": username, "logged_out": True}


@use_case(roles=frozenset(ROLES), owner=OWN_ACCOUNT)
def me(gw, actor: Actor, _) -> dict:
    return {"username": actor.id, "role": actor.role, "institution": actor.institution}


@use_case(roles=ADMINS, owner=PLATFORM)
def accounts(gw, actor: Actor, _) -> list[dict]:
    return gw.app.accounts()


@use_case(roles=ADMINS, owner=PLATFORM)
def open_account(gw, actor: Actor, _, *, form: dict) -> dict:
    with gw.auth.as_caller(actor, "internal"):
        return gw.app.open_account(form)


@use_case(roles=ADMINS, owner=ACCOUNT)
def disable_account(gw, actor: Actor, _, *, username: str, reason: str) -> dict:
    """Disabled, and every session of the account ended at once."""
    with gw.auth.as_caller(actor, "internal"):
        return _ending_sessions(gw, username, lambda: gw.app.disable(username, reason))


@use_case(roles=ADMINS, owner=ACCOUNT)
def enable_account(gw, actor: Actor, _, *, username: str) -> dict:
    """Enabled again; its holder logs in anew (old tokens stay ended)."""
    with gw.auth.as_caller(actor, "internal"):
        return gw.app.enable(username)


@use_case(roles=ADMINS, owner=ACCOUNT)
def change_role(
    gw, actor: Actor, _, *, username: str, role: str, institution: str | None
) -> dict:
    """A new role (and institution): tokens carrying the old one end at once."""
    with gw.auth.as_caller(actor, "internal"):
        return _ending_sessions(
            gw,
            username,
            lambda: gw.app.change_role(username, role, institution or ""),
        )


@use_case(roles=ADMINS, owner=ACCOUNT)
def set_password(gw, actor: Actor, _, *, username: str, password: str) -> dict:
    """A new password set by the admin (a reset): every session ends."""
    with gw.auth.as_caller(actor, "internal"):
        return _ending_sessions(
            gw, username, lambda: gw.app.set_password(username, password)
        )
