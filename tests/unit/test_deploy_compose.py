"""deploy/docker-compose.yml runs every service of the platform beside RabbitMQ,
PostgreSQL, Prometheus and a provisioned Grafana (parsed, not started)."""

from __future__ import annotations

from pathlib import Path

import yaml

from shared import config
from shared.run import SERVICE_CLASSES

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def platform_services() -> set[str]:
    """What ``make run`` starts by default, and evaluation."""
    default = next(s.default for s in config.SETTINGS if s.name == "QI_SERVICES")
    return {name for name in default.split(",") if name} | {"evaluation"}


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))


def test_every_platform_service_runs_in_a_container_of_its_own():
    services = compose()["services"]
    for name in platform_services():
        assert name in SERVICE_CLASSES or name == "evaluation"
        service = services[name]
        assert service["command"] == [name], name
        env = service["environment"]
        assert (
            env["QI_AMQP_URI"].startswith("amqp://")
            and "@rabbitmq:5672/" in (env["QI_AMQP_URI"])
        )
        assert "@postgres:5432/" in env["QI_DATABASE_URL"], name
        # Prometheus, in another container, must reach /metrics
        assert env["QI_METRICS_ADDRESS"] == "0.0.0.0", name
        # every service encrypts what it stores; compose refuses to start without
        assert env["QI_CIPHER_KEY"].startswith("${QI_CIPHER_KEY:?"), name
        assert set(service["depends_on"]) == {"rabbitmq", "postgres"}, name
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
    assert (DEPLOY / "Dockerfile").read_text().count('"-m", "shared.run"') == 1


def test_infrastructure_and_monitoring_are_there():
    services = compose()["services"]
    assert {"rabbitmq", "postgres", "prometheus", "grafana"} <= set(services)
    rabbit = services["rabbitmq"]
    mounted = {v.split(":")[0] for v in rabbit["volumes"]}
    assert "./rabbitmq/rabbitmq.conf" in mounted
    conf = (DEPLOY / "rabbitmq" / "rabbitmq.conf").read_text()
    assert "default_queue_type = quorum" in conf
    for name in ("prometheus", "grafana"):
        for volume in services[name]["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (DEPLOY / source).exists(), (name, source)


def test_prometheus_scrapes_every_service_by_name():
    scrape = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    (job,) = scrape["scrape_configs"]
    (dns,) = job["dns_sd_configs"]
    assert set(dns["names"]) == platform_services()
    assert dns["port"] == 9102


def test_grafana_provisions_the_dashboard_from_prometheus():
    providers = yaml.safe_load(
        (DEPLOY / "grafana/provisioning/dashboards/qi.yml").read_text()
    )
    assert providers["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    sources = yaml.safe_load(
        (DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text()
    )
    assert sources["datasources"][0]["url"] == "http://prometheus:9090"
