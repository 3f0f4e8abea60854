"""notify's channels without a network: the SMS provider's request signing
(Alibaba Cloud's published example) and the e-mail as composed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default
from urllib.parse import parse_qsl

from services.notify.domain import Message
from services.notify.mail import MailSender, compose
from services.notify.render import Rendered
from services.notify.sms import AliyunSms, canonical_query, signature

# the request of Alibaba Cloud SMS's signature documentation, and its answer
DOCUMENTED = {
    "AccessKeyId": "testId",
    "Action": "SendSms",
    "Format": "XML",
    "OutId": "123",
    "PhoneNumbers": "15300000001",
    "RegionId": "cn-hangzhou",
    "SignName": "阿里云短信测试专用",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
    "SignatureVersion": "1.0",
    "TemplateCode": "SMS_71390007",
    "TemplateParam": '{"customer":"test"}',
    "Timestamp": "2017-07-12T02:42:19Z",
    "Version": "2017-05-25",
}


def message() -> Message:
    return Message.queue(
        "evt-1",
        {
            "kind": "survey_invitation",
            "audience": "customer",
            "link": "https://qi.example.cn/rate?code=QX7K2M9P",
        },
        Rendered("请您对本次服务作出评价", "尊敬的客户：\n\n正文。", "<p>正文。</p>"),
        datetime(2026, 11, 4, tzinfo=UTC),
    )


def test_the_sms_signature_is_the_providers_documented_one():
    assert signature("testSecret", DOCUMENTED) == "zJDF+Lrzhj/ThnlvIToysFRq6t4="
    query = canonical_query({"b": "a b", "a": "~*/"})
    assert query == "a=~%2A%2F&b=a%20b"  # RFC 3986, not form encoding


def test_an_sms_request_names_the_message_and_carries_the_link():
    sms = AliyunSms(
        "http://LTAIid:s%2Fecret@127.0.0.1:9/sms",
        "质信平台",
        "SMS_1",
        clock=lambda: datetime(2026, 11, 4, 1, 2, 3, tzinfo=UTC),
    )
    assert (sms.key_id, sms.secret) == ("LTAIid", "s/ecret")
    assert sms.endpoint == "http://127.0.0.1:9/sms"
    found = message()
    params = sms.params(found, "13912345678")
    assert (
        params["OutId"] == str(found.id)
        and params["Timestamp"] == "2026-11-04T01:02:03Z"
    )
    assert json.loads(params["TemplateParam"]) == {
        "subject": "请您对本次服务作出评价",
        "link": "https://qi.example.cn/rate?code=QX7K2M9P",
    }
    assert dict(parse_qsl(canonical_query(params))) == params


def test_an_e_mail_carries_the_message_id_and_both_parts():
    found = message()
    mail = message_from_bytes(
        compose(found, "li@example.cn", "notice@qi.example.cn").as_bytes(),
        policy=default,
    )
    assert mail["Message-ID"] == f"<{found.id}@qi.example.cn>"
    assert mail["Subject"] == "请您对本次服务作出评价"
    assert mail["To"] == "li@example.cn"
    assert mail.get_body(("plain",)).get_content().startswith("尊敬的客户")
    assert mail.get_body(("html",)).get_content().strip() == "<p>正文。</p>"


def test_the_smtp_url_names_server_security_and_login():
    plain = MailSender("smtp://127.0.0.1:2525", "n@example.cn")
    assert (plain.host, plain.port, plain.tls, plain.starttls) == (
        "127.0.0.1",
        2525,
        False,
        False,
    )
    secure = MailSender("smtps://u%40x:p%2F1@mail.example.cn", "n@example.cn")
    assert (secure.port, secure.tls, secure.user, secure.password) == (
        465,
        True,
        "u@x",
        "p/1",
    )
    assert MailSender("smtp://m?starttls=1", "n@example.cn").starttls
