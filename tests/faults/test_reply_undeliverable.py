"""Fault: the broker is gone at the moment a service sends an RPC's reply.

The whole kill is tests/faults/test_broker_killed.py (slow_fault); here the
reply's publish fails as it does when the broker is down (kombu's
OperationalError once its retries are spent), in seconds, for ``make test``.
The caller times out, as it would; the service keeps running and answers
the next call (nameko alone let the failure end the whole container).
"""

from __future__ import annotations

import kombu.exceptions
import pytest
from nameko.exceptions import RpcTimeout
from nameko.rpc import Responder, rpc
from nameko.standalone.rpc import ClusterRpcProxy

import shared.nameko_fixes  # noqa: F401 - the fix under test
from shared import config
from tests import support


class Echo:
    name = "echo_fault"

    @rpc
    def echo(self, value):
        return value


def test_a_reply_the_broker_cannot_take_leaves_the_service_running(
    clean_broker, fault_report
):
    runner = support.start_runner([Echo], clean_broker)
    container = support.container_of(runner, "echo_fault")
    cfg = {**config.nameko_config(), "AMQP_URI": clean_broker}
    calls, answered = 3, []
    try:
        with ClusterRpcProxy(cfg, timeout=2) as cluster:
            assert cluster.echo_fault.echo("before") == "before"
            answered.append("before")
            with pytest.MonkeyPatch.context() as broker_down:

                def unreachable(self, result, exc_info):
                    raise kombu.exceptions.OperationalError("[Errno 111] refused")

                broker_down.setattr(Responder, "send_response", unreachable)
                with pytest.raises(RpcTimeout):
                    cluster.echo_fault.echo("lost reply")
            assert cluster.echo_fault.echo("after") == "after"
            answered.append("after")
        alive = not container._died.ready()
    finally:
        runner.kill()
    fault_report(
        "RPC reply with the broker down",
        sent=calls,
        effects=len(answered),
        lost=0,
        duplicated=0,
        parked=0,
        note="the reply nobody could get timed out; the service answered on",
    )
    assert alive and answered == ["before", "after"]
