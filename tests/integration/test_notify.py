"""notify with intake, catalog and evaluation over real RabbitMQ, databases
and a real SMTP server (aiosmtpd on a free 127.0.0.1 port): the one-time
materials notice and the survey invitation reach the customer's mailbox
(7.4.3, 9.2.1), an SMS goes through the provider's signed API, and a message
is sent at most once however often its event is delivered (9.4)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, urlsplit

import eventlet
import pytest
from kombu import Connection, Producer
from nameko.standalone.rpc import ClusterRpcProxy

from services.catalog.contract import institution_id
from services.catalog.service import CatalogService
from services.evaluation.service import EvaluationService
from services.intake.service import IntakeService
from services.notify.application import NotifyApplication
from services.notify.contract import message_id
from services.notify.dispatch import Dispatcher
from services.notify.mail import MailSender
from services.notify.service import NotifyService
from shared import rpc, topology  # noqa: F401 - rpc: our errors cross RPC
from shared.envelope import Envelope
from tests import support
from tests.smtp_sink import SmtpSink

STAFF = {
    "actor": {"id": "staff-a", "role": "staff", "institution": "jsqi"},
    "channel": "window",
}
FORM = {
    "applicant": "江苏某检测科技有限公司",
    "contact_phone": "13912345678",
    "contact_email": "li.ming@example.cn",
    "service_item_code": "6.3",
    "description": "电线电缆阻燃性能检测",
    "channel": "window",
}
KEY_ID, SECRET = "LTAI-test", "s3cret/key"


@pytest.fixture
def sink(tmp_path):
    server = SmtpSink(tmp_path / "mail", support.free_port()).start()
    yield server
    server.kill()


@pytest.fixture
def platform(databases, runner_factory, clean_broker, sink, monkeypatch):
    """intake, catalog, evaluation and notify; e-mail to the sink."""
    monkeypatch.setenv("QI_SMTP_URL", sink.url)
    monkeypatch.setenv("QI_NOTIFY_POLL_SECONDS", "0.1")
    monkeypatch.setenv("QI_NOTIFY_RETRY_SECONDS", "0.2")
    monkeypatch.setenv("QI_PUBLIC_BASE_URL", "https://qi.example.cn")

    runners = []

    def start(*extra, **env):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        runners.append(runner_factory(IntakeService, CatalogService, *extra))
        return runners[-1]

    with ClusterRpcProxy({"AMQP_URI": clean_broker}, timeout=20) as proxies:
        yield start, proxies
    for runner in runners:  # before the databases go: the sender polls them
        runner.kill()


def registered(proxies, **form) -> dict:
    demand = proxies.intake.register_demand({**FORM, **form}, audit_data=STAFF)
    proxies.intake.take(demand["id"], "staff-a", audit_data=STAFF)
    return demand


def test_the_materials_notice_reaches_the_customers_mailbox_printable(platform, sink):
    start, proxies = platform
    start(NotifyService)
    demand = registered(proxies)
    proxies.intake.notify_materials(demand["id"], "staff-a", [], audit_data=STAFF)
    (mail,) = support.wait_for(lambda: sink.to("li.ming@example.cn"), timeout=20)

    materials = proxies.catalog.item("6.3")["materials"]
    assert mail["Subject"] == f"材料一次性告知书：请补充 {len(materials)} 项材料"
    text = mail.get_body(("plain",)).get_content()
    for number, material in enumerate(materials, start=1):
        assert f"{number}. {material}（未提供）" in text
    assert proxies.catalog.guide()["service_phone"] in text
    code = demand["progress_code"]
    assert f"https://qi.example.cn/progress?code={code}" in text
    html = mail.get_body(("html",)).get_content()
    assert "<h1>材料一次性告知书</h1>" in html and "@media print" in html

    (shown,) = proxies.notify.messages_for_progress_code(code)
    assert mail["Message-ID"] == f"<{shown['id']}@qi-onestop.example.cn>"
    assert shown["kind"] == "materials_notice" and shown["status"] == "sent"
    assert shown["deliveries"]["email"]["to"] == "l***@example.cn"
    assert shown["text"] == text.strip()
    # nothing of the customer crossed the broker: notify read it from intake
    assert proxies.notify.inbox({"role": "staff", "institution": "jsqi"})["total"] == 0


def test_without_smtp_the_message_still_lands_on_the_progress_page(
    platform, sink, monkeypatch
):
    start, proxies = platform
    monkeypatch.setenv("QI_SMTP_URL", "")
    start(NotifyService)
    demand = registered(proxies)
    proxies.intake.notify_materials(demand["id"], "staff-a", [], audit_data=STAFF)
    code = demand["progress_code"]
    (shown,) = support.wait_for(
        lambda: [
            m
            for m in proxies.notify.messages_for_progress_code(code)
            if m["status"] == "inbox"
        ],
        timeout=20,
    )
    assert shown["deliveries"] == {} and shown["subject"].startswith("材料一次性告知书")
    assert sink.messages() == []


def test_the_survey_invitation_links_to_the_rating_page_by_code(platform, sink):
    start, proxies = platform
    start(EvaluationService, NotifyService)
    demand = registered(proxies)
    proxies.intake.decide(
        demand["id"],
        "staff-a",
        "answered",
        {"answer": "可按GB/T 19666检测"},
        audit_data=STAFF,
    )
    (mail,) = support.wait_for(lambda: sink.to("li.ming@example.cn"), timeout=30)
    assert mail["Subject"] == "请您对本次服务作出评价"
    link = f"https://qi.example.cn/rate?code={demand['progress_code']}"
    assert link in mail.get_body(("plain",)).get_content()
    (survey,) = proxies.evaluation.surveys_for_code(demand["progress_code"])
    assert survey["status"] == "issued"


def test_an_sms_goes_through_the_providers_signed_api(platform, sink):
    provider = SmsProvider()
    start, proxies = platform
    start(
        NotifyService,
        QI_SMTP_URL="",
        QI_SMS_PROVIDER="aliyun",
        QI_SMS_URL=provider.url(quote(SECRET, safe="")),
        QI_SMS_SIGN_NAME="质信平台",
        QI_SMS_TEMPLATE="SMS_0001",
    )
    try:
        demand = registered(proxies)
        proxies.intake.notify_materials(demand["id"], "staff-a", [], audit_data=STAFF)
        (request,) = support.wait_for(lambda: provider.accepted, timeout=20)
        (shown,) = proxies.notify.messages_for_progress_code(demand["progress_code"])
        assert request["PhoneNumbers"] == "13912345678"
        assert request["OutId"] == shown["id"]
        assert json.loads(request["TemplateParam"])["link"].endswith(
            f"/progress?code={demand['progress_code']}"
        )
        support.wait_for(lambda: _status(proxies, shown["id"]) == "sent", timeout=10)
        assert provider.refused == []
    finally:
        provider.stop()


def test_a_wrongly_signed_request_is_refused_and_tried_again(platform, sink):
    provider = SmsProvider()
    start, proxies = platform
    start(
        NotifyService,
        QI_SMTP_URL="",
        QI_SMS_PROVIDER="aliyun",
        QI_SMS_URL=provider.url("wrong"),
        QI_SMS_SIGN_NAME="质信平台",
        QI_SMS_TEMPLATE="SMS_0001",
        QI_NOTIFY_RETRY_SECONDS="0.2",
        QI_NOTIFY_ATTEMPTS="2",
    )
    try:
        demand = registered(proxies)
        proxies.intake.notify_materials(demand["id"], "staff-a", [], audit_data=STAFF)
        support.wait_for(lambda: len(provider.refused) >= 2, timeout=20)
        (shown,) = proxies.notify.messages_for_progress_code(demand["progress_code"])
        support.wait_for(lambda: _status(proxies, shown["id"]) == "parked", timeout=10)
        assert provider.accepted == []
        (parked,) = proxies.notify.undelivered()
        assert parked["deliveries"]["sms"]["attempts"] == 2
        assert (
            "SignatureDoesNotMatch"
            in proxies.notify.message(shown["id"])["history"][-1]["error"]
        )
    finally:
        provider.stop()


def test_a_redelivered_event_and_a_restart_send_nothing_twice(
    platform, sink, clean_broker
):
    start, proxies = platform
    runner = start(NotifyService)
    demand = registered(proxies)
    survey = survey_issued(demand["id"], position=900_001)
    for _ in range(3):  # the broker delivers it again and again
        publish(clean_broker, survey)
    (mail,) = support.wait_for(lambda: sink.to("li.ming@example.cn"), timeout=20)
    wanted = message_id(survey["event_id"], "survey_invitation", "customer")
    assert mail["Message-ID"] == f"<{wanted}@qi-onestop.example.cn>"

    support.wait_for(lambda: _status(proxies, str(wanted)) == "sent", timeout=10)
    runner.kill()  # a restart: the new instance finds it sent
    start(NotifyService)
    publish(clean_broker, survey)
    eventlet.sleep(1.5)
    assert sink.message_ids() == {mail["Message-ID"]: 1}
    history = [h["event"] for h in proxies.notify.message(str(wanted))["history"]]
    assert history == ["Queued", "Routed", "AttemptStarted", "Sent"]


def test_an_overdue_referral_reaches_the_partner_and_the_managers(
    platform, sink, clean_broker, tmp_path
):
    book = tmp_path / "addresses.json"
    code = "91320000LAB00001X9"
    lab_id = str(institution_id(code))
    book.write_text(
        json.dumps(
            {
                lab_id: {"partner": "desk@lab-a.example.cn"},
                "jsqi": {"manager": {"email": "zhao@jsqi.example.cn"}},
            }
        ),
        encoding="utf-8",
    )
    start, proxies = platform
    start(NotifyService, QI_NOTIFY_ADDRESSES=str(book))
    lab = proxies.catalog.register_institution(
        {"code": code, "name": "A检测中心", "kind": "lab"},
        audit_data={"actor": {"id": "admin-1", "role": "admin"}},
    )
    assert lab["id"] == lab_id
    escalated = {
        "referral_id": "r-9",
        "demand_id": "d-9",
        "kind": "demand",
        "item_code": "6.3",
        "institution_id": lab["id"],
        "origin_institution": "jsqi",
        "reason": "acceptance_overdue",
        "due": "2026-11-05T17:30:00+08:00",
        "detail": "",
    }
    publish(clean_broker, envelope_of("referral", "ReferralEscalated", escalated, 7))
    support.wait_for(lambda: len(sink.messages()) == 2, timeout=20)
    (partner,) = sink.to("desk@lab-a.example.cn")
    (manager,) = sink.to("zhao@jsqi.example.cn")
    assert partner["Subject"] == "转办已超期：服务事项 6.3"
    assert "A检测中心：" in partner.get_body(("plain",)).get_content()
    assert manager["Subject"] == "转办需督办：超过签收期限未签收"
    inbox = proxies.notify.inbox(
        {"id": "p-1", "role": "partner", "institution": lab["id"]}
    )
    assert [m["kind"] for m in inbox["items"]] == ["referral_overdue"]
    boss = proxies.notify.inbox(
        {"id": "zhao", "role": "manager", "institution": "jsqi"}
    )
    assert [m["kind"] for m in boss["items"]] == ["escalation"]
    staff = proxies.notify.inbox({"id": "wang", "role": "staff", "institution": "jsqi"})
    other = proxies.notify.inbox({"id": "x", "role": "partner", "institution": "jsqi"})
    assert staff["total"] == other["total"] == 0


def test_two_senders_at_once_send_each_message_once(databases, sink, monkeypatch):
    """Two instances' rounds over the same messages, at the same moment: each
    delivery is claimed by one of them (the version), and sent once."""
    first, second = NotifyApplication(), NotifyApplication()
    try:
        directory = CustomerDirectory()
        for n in range(20):
            first.on_event(
                Envelope.from_dict(survey_issued(f"demand-{n}", 800_000 + n)),
                directory,
            )
        senders = {"email": MailSender(sink.url, "notice@qi.example.cn")}
        rounds = [
            eventlet.spawn(Dispatcher(app, senders, directory).round)
            for app in (first, second, first, second)
        ]
        assert sum(r.wait() for r in rounds) >= 20
        counts = sink.message_ids()
        assert len(counts) == 20 and set(counts.values()) == {1}
    finally:
        first.close()
        second.close()


# -- helpers ---------------------------------------------------------------------


def _status(proxies, message_id_: str) -> str:
    return proxies.notify.message(message_id_)["status"]


def envelope_of(source: str, event_type: str, data: dict, position: int) -> dict:
    case = data.get("demand_id", "")
    return Envelope(
        event_id=f"{event_type}-{case}-{position}",
        type=event_type,
        schema_version=1,
        occurred_at="2026-11-20T10:00:00+08:00",
        source=source,
        position=position,
        aggregate_id=f"{event_type}-{case}",
        aggregate_version=1,
        correlation_id=case,
        causation_id="",
        actor={"id": f"service:{source}", "role": "system", "institution": ""},
        channel="internal",
        data=data,
    ).to_dict()


def survey_issued(demand_id: str, position: int) -> dict:
    data = {
        "survey_id": f"survey-{demand_id}",
        "demand_id": demand_id,
        "referral_id": "",
        "institution_id": "jsqi",
        "ended_at": "2026-11-20T10:00:00+08:00",
        "due_at": "2026-11-27T17:30:00+08:00",
    }
    return envelope_of("evaluation", "SurveyIssued", data, position)


def publish(amqp_uri: str, body: dict) -> None:
    with Connection(amqp_uri) as conn:
        exchange = topology.event_exchange(body["source"])
        Producer(conn.channel()).publish(
            support.signed(body),
            exchange=exchange,
            routing_key=body["type"],
            declare=[exchange],
            serializer="json",
        )


class CustomerDirectory:
    """intake's answer for any demand: a customer with an e-mail."""

    front_door = "jsqi"

    def customer(self, demand_id):
        return {
            "progress_code": "QX7K2M9P",
            "contact_phone": "025-83210101",
            "contact_email": f"{demand_id}@example.cn",
        }

    def institution(self, institution_id):
        return None


class SmsProvider:
    """A local stand-in for Alibaba Cloud SMS that checks each request's
    signature as the provider documents it, independently of notify's code."""

    def __init__(self):
        self.accepted: list[dict] = []
        self.refused: list[dict] = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                params = dict(parse_qsl(urlsplit(self.path).query))
                given = params.pop("Signature", "")
                ok = params.get("AccessKeyId") == KEY_ID and hmac.compare_digest(
                    given, expected_signature(params)
                )
                (provider.accepted if ok else provider.refused).append(params)
                answer = (
                    {"Code": "OK", "BizId": "900619746936498440^0"}
                    if ok
                    else {"Code": "SignatureDoesNotMatch", "Message": "bad"}
                )
                body = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, secret: str) -> str:
        return f"http://{KEY_ID}:{secret}@127.0.0.1:{self.port}/"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def expected_signature(params: dict) -> str:
    def encode(value):
        return quote(value, safe="~")

    query = "&".join(f"{encode(k)}={encode(params[k])}" for k in sorted(params))
    to_sign = "GET&%2F&" + encode(query)
    digest = hmac.new(f"{SECRET}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()
