"""Accounts of the people who log in: staff, managers, partners, regulators, ops.

Passwords are kept only as argon2 hashes (argon2-cffi), hashed and checked
in an OS thread of eventlet's pool (``off_loop``), not on the event loop every
service of the process shares. An account belongs to
one institution, which bounds what its holder may see (7.3.3); regulators and
ops belong to none. Accounts are event-sourced like everything else, so who
granted which role to whom stays auditable.
"""

from __future__ import annotations

import os
import re
import threading
from uuid import NAMESPACE_URL, UUID, uuid5

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventlet import tpool
from eventlet.semaphore import Semaphore
from eventsourcing.domain import event
from sqlalchemy import select, text

from services.gateway.access import TooManyAttempts
from services.gateway.account_index import ACCOUNT, AccountIndex
from services.gateway.replays import Replays
from services.gateway.storage import LEGACY_IDEMPOTENCY
from shared import config
from shared.application import AuditedAggregate, ServiceApplication
from shared.errors import ConflictError, NotFound, ValidationFailed
from shared.projection import ProjectionRunner

ROLES = {
    "staff": "服务人员",
    "manager": "服务管理人员",
    "institution_admin": "机构管理员",
    "partner": "合作机构人员",
    "complaint_handler": "投诉处理人员",
    "regulator": "监管人员",
    "ops": "运维人员",
    "admin": "平台管理员",
}
# roles whose holder acts for one institution
INSTITUTION_ROLES = {
    "staff",
    "manager",
    "institution_admin",
    "partner",
    "complaint_handler",
}
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,31}$")
MIN_PASSWORD = 10

_hasher = PasswordHasher()
# Each argon2 run takes a core for ~0.1 s. One core is always left to the
# event loop and the services beside it (on two cores, one hash at a time):
# with a hash per core, a storm of logins held both and other routes' p99
# rose to 64 ms (bench/login_storm.py).
HASHING_AT_ONCE = max(1, (os.cpu_count() or 2) - 1)
_hashing = Semaphore(HASHING_AT_ONCE)
# Hashes running or waiting, at most: each holds one of the process's
# QI_MAX_WORKERS request workers meanwhile, so a login storm may take only a
# third of them and the other routes keep the rest; a login past that is
# answered 429 at once (Retry-After: 1), not queued.
HASHING_IN_FLIGHT = max(HASHING_AT_ONCE, config.get_int("QI_MAX_WORKERS") // 3)
_in_flight = [0]
BUSY = "登录的人较多，请稍候几秒再试"
# How much lower than the event loop a hashing thread runs (Linux nice is per
# thread): when the cores are busy, the loop serving other routes goes first.
HASHING_NICENESS = 10
_lowered = threading.local()


def _in_hashing_thread(work, *args):
    if not getattr(_lowered, "done", False):
        _lowered.done = True
        try:  # who=0 is the calling thread on Linux; elsewhere, as it is
            os.setpriority(os.PRIO_PROCESS, 0, HASHING_NICENESS)
        except (AttributeError, OSError):
            pass
    return work(*args)


def off_loop(work, *args):
    """``work(*args)`` in an OS thread of eventlet's pool: argon2-cffi
    releases the GIL while it hashes, so the event loop keeps serving other
    requests meanwhile instead of stalling ~0.1 s per login. Past
    HASHING_IN_FLIGHT, TooManyAttempts: the caller tries again in a moment."""
    if hashing_busy():
        raise TooManyAttempts(1, BUSY)
    _in_flight[0] += 1
    try:
        with _hashing:
            return tpool.execute(_in_hashing_thread, work, *args)
    finally:
        _in_flight[0] -= 1


def hashing_busy() -> bool:
    """Whether a login now would be refused for the hashes in flight: the
    login checks it first, before it reads anything (a refusal stays cheap)."""
    return _in_flight[0] >= HASHING_IN_FLIGHT


def hash_password(password: str) -> str:
    return off_loop(_hasher.hash, password)


def password_matches(hashed: str, password: str) -> bool:
    try:
        return off_loop(_hasher.verify, hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def account_id(username: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"qi-onestop:account:{username}")


class Account(AuditedAggregate):
    @staticmethod
    def create_id(username: str) -> UUID:
        return account_id(username)

    @event("Opened")
    def __init__(
        self, username: str, display_name: str, role: str, institution: str, hash: str
    ):
        self.username = username
        self.display_name = display_name
        self.role = role
        self.institution = institution
        self.password_hash = hash
        self.active = True

    @event("PasswordChanged")
    def change_password(self, hash: str) -> None:
        self.password_hash = hash

    @event("RoleChanged")
    def change_role(self, role: str, institution: str) -> None:
        self.role = role
        self.institution = institution

    @event("Disabled")
    def disable(self, reason: str) -> None:
        self.active = False

    @event("Enabled")
    def enable(self) -> None:
        self.active = True

    def public(self) -> dict:
        return public_account(vars(self))


def public_account(fields) -> dict:
    """What is shown of an account, from its aggregate's attributes or its
    row in the accounts' read model: never the password hash."""
    return {
        "username": fields["username"],
        "display_name": fields["display_name"],
        "role": fields["role"],
        "role_label": ROLES[fields["role"]],
        "institution": fields["institution"],
        "active": bool(fields["active"]),
    }


def _checked(form: object) -> dict:
    """The fields of a new account, each checked; errors name the field."""
    if not isinstance(form, dict):
        raise ValidationFailed.single("body", "请求内容应为 JSON 对象")
    errors = []
    username = form.get("username")
    if not isinstance(username, str) or not USERNAME.match(username):
        errors.append(
            {"field": "username", "message": "用户名为3到32位小写字母、数字或 ._-"}
        )
    display_name = form.get("display_name", "")
    if not isinstance(display_name, str) or not 0 < len(display_name.strip()) <= 40:
        errors.append({"field": "display_name", "message": "请填写姓名（40字以内）"})
    role = form.get("role")
    if role not in ROLES:
        errors.append({"field": "role", "message": "角色应为：" + "、".join(ROLES)})
    institution = form.get("institution", "")
    if not isinstance(institution, str) or len(institution) > 64:
        errors.append({"field": "institution", "message": "机构编码有误"})
    elif role in INSTITUTION_ROLES and not institution.strip():
        errors.append({"field": "institution", "message": "该角色须属于一个机构"})
    elif role in ROLES and role not in INSTITUTION_ROLES and institution:
        errors.append({"field": "institution", "message": "该角色不属于任何机构"})
    password = form.get("password")
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= 128:
        errors.append(
            {"field": "password", "message": f"密码为{MIN_PASSWORD}到128个字符"}
        )
    if errors:
        raise ValidationFailed(errors)
    return {
        "username": username,
        "display_name": display_name.strip(),
        "role": role,
        "institution": institution.strip(),
        "password": password,
    }


class CaseRead(AuditedAggregate):
    """A regulator's (or anyone's) read of a case's audit: itself audited.

    One aggregate per read; its audit stamp carries the reader and, as the
    correlation id, the case, so the read shows in the case's own history.
    """

    @event("Recorded")
    def __init__(self, case_id: str, what: str, as_of: str):
        self.case_id = case_id
        self.what = what
        self.as_of = as_of


class GatewayApplication(ServiceApplication):
    """The gateway's own event store: accounts, roles, and audit reads."""

    name = "gateway"

    def __init__(self, url: str | None = None, env: dict | None = None):
        super().__init__(url, env)
        # answers kept under Idempotency-Keys, encrypted with the events' key
        self.replays = Replays(
            self.kernel,
            self.mapper.cipher,
            config.get_float("QI_IDEMPOTENCY_RETENTION_HOURS") * 3600,
        )
        # whole answers kept in the clear, forever, by earlier versions
        with self.kernel.transaction() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {LEGACY_IDEMPOTENCY}"))
        # the accounts as they stand, for listing them (account_index.py)
        self.account_index = ProjectionRunner(self, AccountIndex(Account))

    def open_account(self, form: dict) -> dict:
        fields = _checked(form)
        account = Account(
            fields["username"],
            fields["display_name"],
            fields["role"],
            fields["institution"],
            hash_password(fields["password"]),
        )
        if not self.save_if_new(account):
            raise ConflictError(f"用户名 {fields['username']} 已存在")
        return account.public()

    def account(self, username: str) -> Account | None:
        if not isinstance(username, str) or not USERNAME.match(username):
            return None
        try:
            return self.get_existing(account_id(username), Account, "account")
        except NotFound:
            return None

    def authenticate(self, username: str, password: str) -> Account | None:
        """The account if the password is right and the account active."""
        account = self.account(username)
        if account is None:
            hash_password("spend-the-same-time")  # no hint that the name is unknown
            return None
        if not password_matches(account.password_hash, password):
            return None
        if not account.active:
            return None
        if _hasher.check_needs_rehash(account.password_hash):
            account.change_password(hash_password(password))
            self.retry_on_conflict(lambda: self.save(account))
        return account

    def _change(self, username: str, change) -> dict:
        def attempt():
            account = self.account(username)
            if account is None:
                raise NotFound("account")
            change(account)
            self.save(account)
            return account.public()

        return self.retry_on_conflict(attempt)

    def disable(self, username: str, reason: str) -> dict:
        if not isinstance(reason, str) or not reason.strip():
            raise ValidationFailed.single("reason", "请写明停用原因")
        return self._change(username, lambda a: a.disable(reason.strip()))

    def enable(self, username: str) -> dict:
        return self._change(username, lambda a: a.enable())

    def set_password(self, username: str, password: str) -> dict:
        if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= 128:
            raise ValidationFailed.single(
                "password", f"密码为{MIN_PASSWORD}到128个字符"
            )
        hashed = hash_password(password)
        return self._change(username, lambda a: a.change_password(hashed))

    def change_role(self, username: str, role: str, institution: str) -> dict:
        """A new role (and the institution it acts for), checked as a new
        account's are."""
        institution = institution or ""
        if role not in ROLES:
            raise ValidationFailed.single("role", "角色应为：" + "、".join(ROLES))
        if not isinstance(institution, str) or len(institution) > 64:
            raise ValidationFailed.single("institution", "机构编码有误")
        institution = institution.strip()
        if role in INSTITUTION_ROLES and not institution:
            raise ValidationFailed.single("institution", "该角色须属于一个机构")
        if role not in INSTITUTION_ROLES and institution:
            raise ValidationFailed.single("institution", "该角色不属于任何机构")
        return self._change(username, lambda a: a.change_role(role, institution))

    def accounts(self) -> list[dict]:
        """Every account, for the admin, and a manager's staff (few: one per
        person at a window), from the accounts' read model caught up first: a
        change of an account shows on the next read."""
        self.account_index.catch_up()
        rows = self.kernel.query(
            select(
                ACCOUNT.username,
                ACCOUNT.display_name,
                ACCOUNT.role,
                ACCOUNT.institution,
                ACCOUNT.active,
            )
        )
        # sorted here, by code point as before: a database's collation may
        # order "a.b" and "a_b" otherwise
        rows.sort(key=lambda row: row["username"])
        return [public_account(row) for row in rows]

    def record_read(self, case_id: str, what: str, as_of: str = "") -> None:
        self.save(CaseRead(case_id, what, as_of))
