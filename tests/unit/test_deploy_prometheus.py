"""Prometheus configuration, alert rules and their unit tests pass promtool;
the alerts ops asked for exist and are each tested; the dashboard shows only
series that exist.

promtool is Debian's ``prometheus`` package (.ci/run installs it). Without it
these tests fail, naming the install, rather than skip: a skip would let a
broken rule file pass ``make test`` unnoticed.
"""

from __future__ import annotations

import json
import re
import subprocess

import yaml

from tests.support import promtool
from tests.unit.test_deploy_compose import DEPLOY

RULES = DEPLOY / "prometheus" / "rules" / "qi.yml"
RULE_TESTS = DEPLOY / "prometheus" / "tests" / "qi_test.yml"
# relay stalled, parked messages, SLA breaches, error rate, instance down,
# refused (forged) messages
REQUIRED_ALERTS = {
    "QiRelayStalled",
    "QiRelayNotRunning",
    "QiMessagesParked",
    "QiSlaBreached",
    "QiRpcErrorRate",
    "QiHttpErrorRate",
    "QiInstanceDown",
    "QiServiceMissing",
    # a message refused at the trust boundary: forged, unsigned, misrouted
    "QiMessagesRejected",
}


def run_promtool(*args: str) -> str:
    done = subprocess.run(
        [promtool(), *args], capture_output=True, text=True, timeout=60
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output


def alerts() -> dict[str, dict]:
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    return {r["alert"]: r for g in groups for r in g["rules"] if "alert" in r}


def test_both_prometheus_configurations_are_valid():
    for name in ("prometheus.yml", "prometheus-k8s.yml"):
        assert "SUCCESS" in run_promtool(
            "check", "config", "--syntax-only", str(DEPLOY / "prometheus" / name)
        )


def test_the_rules_are_valid_and_their_unit_tests_pass():
    assert "SUCCESS" in run_promtool("check", "rules", str(RULES))
    assert "SUCCESS" in run_promtool("test", "rules", str(RULE_TESTS))


def test_the_required_alerts_exist_and_each_is_unit_tested():
    assert REQUIRED_ALERTS <= set(alerts())
    tested = {
        case["alertname"]
        for test in yaml.safe_load(RULE_TESTS.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert set(alerts()) <= tested
    for name, rule in alerts().items():
        assert rule["labels"]["severity"] in {"warning", "critical"}, name
        assert rule["annotations"]["summary"], name


def test_the_dashboard_uses_only_recorded_or_exported_series():
    dashboard = json.loads(
        (DEPLOY / "grafana" / "dashboards" / "qi-onestop.json").read_text()
    )
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    recorded = {r["record"] for g in groups for r in g["rules"] if "record" in r}
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    assert len(exprs) >= 10
    used = {name for e in exprs for name in re.findall(r"\bqi:[a-z_:0-9]+", e)}
    assert used and used <= recorded, used - recorded
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
