"""RED of HTTP routes and RPC methods, as ``ServiceMetrics`` records them around
real nameko workers: by route template (never the requested path) and status,
by RPC method and outcome (ok, refused, error)."""

from __future__ import annotations

import pytest
import requests
from nameko.rpc import rpc
from nameko.standalone.rpc import ClusterRpcProxy
from nameko.web.handlers import http
from prometheus_client import REGISTRY, generate_latest
from werkzeug.wrappers import Response

from shared import rpc as _registered_errors  # noqa: F401
from shared.errors import ValidationFailed
from shared.metrics import counter
from shared.rpc_metrics import ServiceMetrics
from tests import support

ROUTE = "/probe/things/<string:thing_id>"


class ProbeService:
    """What the gateway gets by holding one ``ServiceMetrics``."""

    name = "probe"
    service_metrics = ServiceMetrics()

    @http("GET", ROUTE, expected_exceptions=ValidationFailed)
    def thing(self, request, thing_id):
        if thing_id == "bad":
            raise ValidationFailed.single("thing_id", "不对")
        if thing_id == "boom":
            raise RuntimeError("unexpected")
        if thing_id == "gone":
            return Response("{}", status=404, mimetype="application/json")
        return "{}"

    @rpc(expected_exceptions=ValidationFailed)
    def check(self, value):
        if value == "bad":
            raise ValidationFailed.single("value", "不对")
        if value == "boom":
            raise RuntimeError("unexpected")
        return value


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_http_routes_are_counted_by_template_status_and_timed(runner_factory):
    port = support.free_port()
    runner_factory(ProbeService, http_port=port)
    before = {
        status: sample(
            "qi_probe_http_requests_total", route=ROUTE, method="GET", status=status
        )
        for status in ("200", "400", "404", "500")
    }
    timed_before = sample(
        "qi_probe_http_request_seconds_count", route=ROUTE, method="GET"
    )
    for thing, status in (("a-7", 200), ("b-9", 200), ("gone", 404), ("bad", 400)):
        got = requests.get(f"http://127.0.0.1:{port}/probe/things/{thing}", timeout=5)
        assert got.status_code == status
    assert (
        requests.get(
            f"http://127.0.0.1:{port}/probe/things/boom", timeout=5
        ).status_code
        == 500
    )

    def counted(status):
        total = sample(
            "qi_probe_http_requests_total", route=ROUTE, method="GET", status=status
        )
        return total - before[status]

    # counted when the worker ends, just after the answer left
    support.wait_for(
        lambda: [counted(s) for s in ("200", "400", "404", "500")] == [2, 1, 1, 1]
    )
    timed = sample("qi_probe_http_request_seconds_count", route=ROUTE, method="GET")
    assert timed - timed_before == 5
    text = generate_latest().decode()
    assert "a-7" not in text and "b-9" not in text
    assert support.promtool_check_metrics(text) == ""


def test_rpc_methods_are_counted_by_outcome(runner_factory, clean_broker):
    runner_factory(ProbeService)

    def outcome(name):
        return sample("qi_probe_rpc_requests_total", method="check", outcome=name)

    before = {name: outcome(name) for name in ("ok", "refused", "error")}
    with ClusterRpcProxy({"AMQP_URI": clean_broker}, timeout=10) as cluster:
        assert cluster.probe.check("fine") == "fine"
        with pytest.raises(ValidationFailed):
            cluster.probe.check("bad")
        with pytest.raises(Exception) as caught:
            cluster.probe.check("boom")
        assert "unexpected" in str(caught.value)
    # counted when the worker ends, just after the reply left
    support.wait_for(
        lambda: (
            {name: outcome(name) - before[name] for name in before}
            == {"ok": 1, "refused": 1, "error": 1}
        )
    )
    assert sample("qi_probe_rpc_seconds_count", method="check") >= 3


def test_business_figures_refuse_ids_and_personal_data_as_labels():
    with pytest.raises(ValueError, match="demand_id"):
        counter("probe", "demands_seen", "Demands seen.", ("demand_id",))
    with pytest.raises(ValueError, match="phone"):
        counter("probe", "calls", "Calls.", ("phone",))
    figure = counter("probe", "referrals_opened", "Referrals opened.", ("state",))
    assert figure is counter(
        "probe", "referrals_opened", "Referrals opened.", ("state",)
    )
    figure.labels(state="open").inc()
    assert sample("qi_probe_referrals_opened_total", state="open") == 1
