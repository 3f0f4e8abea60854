"""The qualification rule of 4.1, shared by catalog (who is qualified) and
referral (to whom a case may go): one implementation, one answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

STATUS_LABELS = {
    "valid": "有效",
    "suspended": "暂停",
    "revoked": "撤销",
    "expired": "过期",
    "not_yet_valid": "未生效",
}


def covers(scope_codes, item_code: str) -> bool:
    """A scope entry covers itself and its sub-items: "6.3" covers "6.3.2"."""
    return any(item_code == c or item_code.startswith(c + ".") for c in scope_codes)


@dataclass(frozen=True)
class QualificationView:
    """A qualification as it stands, with its status history (effective dates)."""

    kind: str
    cert_no: str
    scope_codes: tuple[str, ...]
    scope_text: str
    valid_from: date
    valid_to: date
    history: tuple[tuple[date, str], ...]

    @classmethod
    def from_state(cls, state: dict) -> QualificationView:
        return cls(
            kind=state.get("kind", ""),
            cert_no=state["cert_no"],
            scope_codes=tuple(state["scope_codes"]),
            scope_text=state.get("scope_text", ""),
            valid_from=date.fromisoformat(state["valid_from"]),
            valid_to=date.fromisoformat(state["valid_to"]),
            history=tuple(
                (date.fromisoformat(d), s) for d, s in state.get("history", [])
            ),
        )

    def status_on(self, day: date) -> str:
        """valid / suspended / revoked / expired / not_yet_valid on ``day``.

        Both ends of the validity range are included: a certificate valid to
        31 May still counts on 31 May, and no longer on 1 June. A revocation
        is final from its effective date.
        """
        status = "valid"
        for effective_on, changed_to in sorted(self.history):
            if effective_on <= day:
                status = changed_to
        if status == "revoked":
            return "revoked"
        if day < self.valid_from:
            return "not_yet_valid"
        if day > self.valid_to:
            return "expired"
        return status

    def qualifies(self, item_code: str, day: date) -> bool:
        return covers(self.scope_codes, item_code) and self.status_on(day) == "valid"
