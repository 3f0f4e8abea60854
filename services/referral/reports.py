"""Reports of completed referrals and their public verification (7.4.4).

A completed referral records the report number, its issue date, the SHA-256
of the e-report file and a verification code. Anyone holding the code can ask
whether the report is valid, replaced by a newer one, or revoked; the answer
names the report, never the customer.
"""

from __future__ import annotations

import re
import secrets
from datetime import date

from shared.errors import ValidationFailed
from shared.validation import Errors, optional_text, require_day, require_text

SHA256 = re.compile(r"^[0-9a-f]{64}$")
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 16
CODE = re.compile(rf"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")


def new_verification_code() -> str:
    """16 characters from 32: 80 random bits, not guessable, easy to read out."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code) -> str | None:
    if not isinstance(code, str):
        return None
    code = code.strip().upper().replace("-", "")
    return code if CODE.match(code) else None


def check(report, today: date) -> dict:
    """The report's number, issue date (not in the future) and file hash."""
    if not isinstance(report, dict):
        raise ValidationFailed.single(
            "report", "请提供报告编号、签发日期和电子报告摘要"
        )
    errors = Errors()
    number = errors.check(
        require_text, report.get("report_no"), "report_no", "报告编号", 64
    )
    issued = errors.check(require_day, report.get("issued_on"), "issued_on", "签发日期")
    if issued is not None and issued > today:
        errors.add("issued_on", "签发日期不能晚于今天")
    digest = str(report.get("sha256", "")).strip().lower()
    if not SHA256.match(digest):
        errors.add("sha256", "应为电子报告文件的SHA-256摘要（64位十六进制）")
    conclusion = errors.check(
        optional_text, report.get("conclusion"), "conclusion", "结论摘要", 2000
    )
    errors.raise_if_any()
    return {
        "report_no": number,
        "issued_on": issued.isoformat(),
        "sha256": digest,
        "conclusion": conclusion,
    }
