"""deploy/docker-compose.yml runs every service of the platform beside RabbitMQ,
PostgreSQL, Prometheus and a provisioned Grafana (parsed, not started)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from shared import config
from shared.run import SERVICE_CLASSES

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


# settings compose passes through with a default: none of them a secret
OPTIONAL = {
    "QI_PUBLIC_BASE_URL",
    "QI_SMTP_URL",
    "QI_MAIL_FROM",
    "QI_SMS_PROVIDER",
    "QI_SMS_URL",
    "QI_SMS_SIGN_NAME",
    "QI_SMS_TEMPLATE",
}


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
        # RabbitMQ is there once the service's broker user is
        assert set(service["depends_on"]) == {"broker-users", "postgres"}, name
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
        # its own image: the kernel, the contracts and its folder (Dockerfile)
        assert service["build"]["args"] == {"SERVICE": name}, name
        assert service["image"] == f"qi-onestop-{name}:latest", name
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


def test_compose_refuses_to_start_without_each_secret_and_checks_them_all():
    """No secret has a default: each is ``${VAR:?…}``, and check-secrets
    (placeholder, fewer than 32 characters) names every one of them."""
    lines = (DEPLOY / "docker-compose.yml").read_text(encoding="utf-8").splitlines()
    text = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    # defaults only for notify's optional settings (empty: no e-mail or SMS)
    defaults = {name for name, _ in re.findall(r"\$\{([A-Z_]+):?-([^}]*)\}", text)}
    assert defaults <= OPTIONAL, defaults - OPTIONAL
    assert "dev-only" not in text and "CHANGE-ME" not in text
    required = set(re.findall(r"\$\{([A-Z_]+):\?", text))
    checker = compose()["services"]["check-secrets"]
    assert checker["entrypoint"][-1] == "check-secrets"
    assert set(checker["command"]) == required
    assert set(checker["environment"]) == required
    for name in ("rabbitmq", "postgres", "grafana", "broker-users"):
        depends = compose()["services"][name]["depends_on"]
        assert "check-secrets" in depends or "rabbitmq" in depends, name


def test_each_service_is_its_own_broker_user_and_holds_only_its_own_keys():
    from shared import trust

    services = compose()["services"]
    publishers = set(trust.publishers())
    for name in platform_services():
        env = services[name]["environment"]
        assert env["QI_AMQP_URI"].startswith(f"amqp://qi-{name}:${{"), name
        keys = {k for k in env if k.endswith("_SIGNING_KEY")}
        assert keys == (
            {f"QI_{name.upper()}_SIGNING_KEY"}
            & {f"QI_{p.upper()}_SIGNING_KEY" for p in publishers}
        ), name
        assert ("QI_GATEWAY_SECRET" in env) == (name == "gateway"), name
        assert env["QI_SIGNING_PUBLIC_KEYS"].startswith("${QI_SIGNING_PUBLIC_KEYS:?")
    users = services["broker-users"]
    assert users["entrypoint"][:4] == ["python", "-m", "shared.trust", "apply-users"]
    assert set(users["environment"]) == {"QI_RABBITMQ_PASSWORD"} | {
        f"QI_RABBITMQ_{name.upper()}_PASSWORD" for name in platform_services()
    }


def test_no_management_ui_is_published_and_guest_stays_on_loopback():
    services = compose()["services"]
    assert "ports" not in services["rabbitmq"]
    conf = (DEPLOY / "rabbitmq" / "rabbitmq.conf").read_text()
    assert "loopback_users" not in conf.replace("loopback_users keeps", "")
    assert services["grafana"]["environment"]["GF_SECURITY_ADMIN_PASSWORD"].startswith(
        "${QI_GRAFANA_PASSWORD:?"
    )
    override = yaml.safe_load(
        (DEPLOY / "docker-compose.management.yml").read_text(encoding="utf-8")
    )
    assert override["services"]["rabbitmq"]["ports"] == ["127.0.0.1:15672:15672"]
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "QI_REQUIRE_SECRETS=1" in dockerfile
