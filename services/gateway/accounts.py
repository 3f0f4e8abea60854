"""Accounts of the people who log in: staff, managers, partners, regulators, ops.

Passwords are kept only as argon2 hashes (argon2-cffi). An account belongs to
one institution, which bounds what its holder may see (7.3.3); regulators and
ops belong to none. Accounts are event-sourced like everything else, so who
granted which role to whom stays auditable.
"""

from __future__ import annotations

import re
from uuid import NAMESPACE_URL, UUID, uuid5

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventsourcing.domain import event
from eventsourcing.utils import get_topic

from shared.application import AuditedAggregate, ServiceApplication
from shared.errors import ConflictError, NotFound, ValidationFailed

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
        return {
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role,
            "role_label": ROLES[self.role],
            "institution": self.institution,
            "active": self.active,
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
        self.kernel.create(
            """CREATE TABLE IF NOT EXISTS gateway_idempotency (
                key TEXT NOT NULL, actor TEXT NOT NULL, route TEXT NOT NULL,
                status INTEGER NOT NULL, body TEXT NOT NULL,
                PRIMARY KEY (key, actor))"""
        )

    # -- idempotency keys of staff commands --------------------------------

    def remembered(self, key: str, actor: str, route: str) -> tuple[int, str] | None:
        """The answer already given to this key, if the command was done."""
        rows = self.kernel.query(
            "SELECT route, status, body FROM gateway_idempotency "
            "WHERE key=%s AND actor=%s",
            (key, actor),
        )
        if not rows:
            return None
        if rows[0]["route"] != route:
            raise ValidationFailed.single("Idempotency-Key", "该幂等键已用于另一项操作")
        return rows[0]["status"], rows[0]["body"]

    def remember(self, key: str, actor: str, route: str, status: int, body: str):
        self.kernel.execute(
            "INSERT INTO gateway_idempotency (key, actor, route, status, body) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (key, actor, route, status, body),
        )

    def open_account(self, form: dict) -> dict:
        fields = _checked(form)
        account = Account(
            fields["username"],
            fields["display_name"],
            fields["role"],
            fields["institution"],
            _hasher.hash(fields["password"]),
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
            _hasher.hash("spend-the-same-time")  # no hint that the name is unknown
            return None
        try:
            _hasher.verify(account.password_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        if not account.active:
            return None
        if _hasher.check_needs_rehash(account.password_hash):
            account.change_password(_hasher.hash(password))
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
        return self._change(
            username, lambda a: a.change_password(_hasher.hash(password))
        )

    def accounts(self) -> list[dict]:
        """Every account, for the admin (few: one per person at a window)."""
        opened = self.recorder.select_notifications(
            start=1, limit=100_000, topics=[get_topic(Account.Opened)]
        )
        found = [
            self.get_existing(n.originator_id, Account, "account").public()
            for n in opened
        ]
        return sorted(found, key=lambda a: a["username"])

    def record_read(self, case_id: str, what: str, as_of: str = "") -> None:
        self.save(CaseRead(case_id, what, as_of))
