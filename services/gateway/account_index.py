"""The accounts as they stand, a read model of the gateway's own events: one
row per account (its name, role, institution and whether it is active), so
listing the accounts — the admin's list, a manager's staff and their disabled
accounts on the board (7.4.2, 9.2.2) — is one query instead of loading every
account's event stream.

Fed by ``shared.projection.ProjectionRunner`` from the gateway's notification
log and caught up before each read, so an account disabled, enabled or given
another role shows so on the very next read. Rebuildable from the events at
any time; the password hash stays in the events only.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, MetaData, Table, Text

from shared.projection import Projection, Writes

account_rows = Table(
    "gateway_account_index",
    MetaData(),
    Column("account_id", Text, primary_key=True),
    Column("username", Text, nullable=False, unique=True),
    Column("display_name", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("institution", Text, nullable=False),
    Column("active", Boolean, nullable=False),
)
ACCOUNT = account_rows.c


class AccountIndex(Projection):
    """``account`` is the gateway's ``Account`` aggregate class, whose events
    this projection applies (given, not imported: accounts.py keeps it)."""

    name = "gateway_account_index"
    version = 1
    tables = (account_rows,)

    def __init__(self, account: type):
        self.opened = account.Opened
        self.role_changed = account.RoleChanged
        self.disabled = account.Disabled
        self.enabled = account.Enabled

    def apply(self, event, writes: Writes) -> None:
        key = str(event.originator_id)
        if isinstance(event, self.opened):
            writes.insert(
                account_rows,
                {
                    "account_id": key,
                    "username": event.username,
                    "display_name": event.display_name,
                    "role": event.role,
                    "institution": event.institution,
                    "active": True,
                },
            )
            return
        row = {"account_id": key}
        if isinstance(event, self.role_changed):
            values = {"role": event.role, "institution": event.institution}
            writes.update(account_rows, row, values)
        elif isinstance(event, self.disabled):
            writes.update(account_rows, row, {"active": False})
        elif isinstance(event, self.enabled):
            writes.update(account_rows, row, {"active": True})
