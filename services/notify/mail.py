"""E-mail over real SMTP (QI_SMTP_URL): ``smtp://[user:password@]host[:port]``
(``?starttls=1`` to upgrade), or ``smtps://`` for TLS from the start;
empty: no e-mail (the default). The sender is QI_MAIL_FROM.

Each message goes with ``Message-ID: <message id@sender's domain>``, the
message's stable id: if a copy is ever sent twice (see ``domain``), both carry
the same Message-ID, so the receiving side can tell them apart. A failure
before the message's data was handed over (no connection, a refused sender or
recipient) means it was not sent; a failure while handing it over, before
the server's answer, means it may have been (``SendFailed.unknown``).
"""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr
from urllib.parse import parse_qs, unquote, urlsplit

from services.notify.render import PLATFORM
from shared import config


class SendFailed(Exception):
    """A delivery failed; ``unknown``: the recipient may have it all the same."""

    def __init__(self, error: str, unknown: bool = False):
        super().__init__(error)
        self.unknown = unknown


def compose(message, to: str, sender: str) -> EmailMessage:
    mail = EmailMessage()
    domain = sender.rsplit("@", 1)[-1] or "qi-onestop"
    mail["Message-ID"] = f"<{message.id}@{domain}>"
    mail["Date"] = format_datetime(datetime.now(UTC))
    mail["From"] = formataddr((PLATFORM, sender))
    mail["To"] = to
    mail["Subject"] = message.subject
    mail["X-QI-Message-Kind"] = message.kind
    mail.set_content(message.text)
    if message.html:
        mail.add_alternative(message.html, subtype="html")
    return mail


class MailSender:
    channel = "email"

    def __init__(self, url: str, sender: str, timeout: float = 30.0):
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError("QI_SMTP_URL: smtp://… or smtps://…")
        self.tls = parts.scheme == "smtps"
        self.starttls = parse_qs(parts.query).get("starttls", ["0"])[0] == "1"
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (465 if self.tls else 25)
        self.user = unquote(parts.username or "")
        self.password = unquote(parts.password or "")
        self.sender = sender
        self.timeout = timeout

    @classmethod
    def from_config(cls) -> MailSender | None:
        url = config.get("QI_SMTP_URL")
        return cls(url, config.get("QI_MAIL_FROM")) if url else None

    def _connect(self) -> smtplib.SMTP:
        kind = smtplib.SMTP_SSL if self.tls else smtplib.SMTP
        smtp = kind(self.host, self.port, timeout=self.timeout)
        if self.starttls:
            smtp.starttls()
        if self.user:
            smtp.login(self.user, self.password)
        return smtp

    def send(self, message, to: str) -> str:
        """The server's answer to the data; ``SendFailed`` otherwise."""
        mail = compose(message, to, self.sender)
        try:
            smtp = self._connect()
        except (OSError, smtplib.SMTPException) as exc:
            raise SendFailed(f"SMTP server unreachable: {exc}") from None
        try:
            smtp.ehlo_or_helo_if_needed()
            code, answer = smtp.mail(self.sender)
            if code != 250:
                raise SendFailed(f"SMTP refused the sender: {code} {answer!r}")
            code, answer = smtp.rcpt(to)
            if code not in (250, 251):
                raise SendFailed(f"SMTP refused the recipient: {code} {answer!r}")
            try:
                code, answer = smtp.data(mail.as_bytes(policy=SMTP))  # CRLF
            except smtplib.SMTPDataError as exc:
                raise SendFailed(f"SMTP refused the data: {exc}") from None
            except (OSError, smtplib.SMTPException) as exc:
                raise SendFailed(f"SMTP broke off while sending: {exc}", True) from None
            if code != 250:
                raise SendFailed(f"SMTP refused the message: {code} {answer!r}")
            return answer.decode("utf-8", "replace")[:200]
        except (OSError, smtplib.SMTPException) as exc:
            raise SendFailed(f"SMTP failed before sending: {exc}") from None
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
