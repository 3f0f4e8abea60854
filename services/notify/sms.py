"""SMS through a provider adapter: Alibaba Cloud SMS (dysmsapi ``SendSms``),
with its request signing (RPC signature version 1.0, HMAC-SHA1).

Configured by QI_SMS_PROVIDER (``aliyun``; empty: no SMS at all, the default),
QI_SMS_URL (the endpoint, with the AccessKey id and secret as its user and
password), QI_SMS_SIGN_NAME and QI_SMS_TEMPLATE: the code of an approved
template whose variables are ``${subject}`` and ``${link}`` — a short text
that points to the message in full (the progress page, the console). The
message id goes as ``OutId``, so the provider's receipts name it.

The signature: every parameter but ``Signature``, sorted by name, each name
and value percent-encoded (RFC 3986, UTF-8: ``~`` kept, space as ``%20``),
joined ``k=v`` with ``&``; the string to sign is ``GET&%2F&`` followed by
that query, percent-encoded once more; the key is the secret followed by
``&``; the signature is the base64 of the HMAC-SHA1.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import quote, unquote, urlsplit

import requests
from urllib3.exceptions import NewConnectionError

from services.notify.mail import SendFailed
from shared import config

API_VERSION = "2017-05-25"


def encode(value: str) -> str:
    return quote(str(value), safe="~")


def canonical_query(params: dict) -> str:
    return "&".join(f"{encode(k)}={encode(params[k])}" for k in sorted(params))


def signature(secret: str, params: dict, method: str = "GET") -> str:
    to_sign = f"{method}&{encode('/')}&{encode(canonical_query(params))}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1)
    return base64.b64encode(digest.digest()).decode()


def _unsent(exc: requests.RequestException) -> bool:
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError)


class AliyunSms:
    channel = "sms"

    def __init__(
        self,
        url: str,
        sign_name: str,
        template: str,
        timeout: float = 10.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        parts = urlsplit(url)
        self.key_id = unquote(parts.username or "")
        self.secret = unquote(parts.password or "")
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        self.endpoint = f"{parts.scheme}://{host}{port}{parts.path or '/'}"
        self.sign_name = sign_name
        self.template = template
        self.timeout = timeout
        self.clock = clock

    @classmethod
    def from_config(cls) -> AliyunSms | None:
        provider = config.get("QI_SMS_PROVIDER")
        if not provider:
            return None
        if provider != "aliyun":
            raise ValueError(f"QI_SMS_PROVIDER: unknown provider {provider!r}")
        return cls(
            config.get("QI_SMS_URL"),
            config.get("QI_SMS_SIGN_NAME"),
            config.get("QI_SMS_TEMPLATE"),
        )

    def params(self, message, phone: str) -> dict:
        variables = {"subject": message.subject, "link": message.link}
        return {
            "AccessKeyId": self.key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "OutId": str(message.id),
            "PhoneNumbers": phone,
            "RegionId": "cn-hangzhou",
            "SignName": self.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": str(uuid.uuid4()),
            "SignatureVersion": "1.0",
            "TemplateCode": self.template,
            "TemplateParam": json.dumps(variables, ensure_ascii=False),
            "Timestamp": self.clock().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": API_VERSION,
        }

    def send(self, message, phone: str) -> str:
        """The provider's BizId; ``SendFailed`` (``unknown`` when the request
        may have reached the provider) otherwise."""
        params = self.params(message, phone)
        query = f"Signature={encode(signature(self.secret, params))}"
        url = f"{self.endpoint}?{query}&{canonical_query(params)}"
        try:
            response = requests.get(url, timeout=self.timeout)
        except requests.RequestException as exc:
            # not connected: it cannot have been sent; else it may have been
            raise SendFailed(f"SMS request failed: {exc}", not _unsent(exc)) from None
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if response.status_code != 200 or answer.get("Code") != "OK":
            code = answer.get("Code", response.status_code)
            raise SendFailed(f"SMS refused: {code} {answer.get('Message', '')}")
        return str(answer.get("BizId", ""))
