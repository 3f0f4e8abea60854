"""deploy/k8s: a Deployment per service with replicas and probes, its settings
from a ConfigMap and a Secret, metrics discoverable per replica, RabbitMQ with
quorum queues; every generated ConfigMap's file exists (parsed, not applied)."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.unit.test_deploy_compose import DEPLOY, platform_services


def manifests() -> list[dict]:
    docs = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    return docs


def of_kind(kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in manifests() if d["kind"] == kind}


def test_a_deployment_per_service_with_replicas_probes_config_and_secret():
    deployments = of_kind("Deployment")
    config_maps, secrets = of_kind("ConfigMap"), of_kind("Secret")
    for name in platform_services():
        deployment = deployments[name]
        assert deployment["spec"]["replicas"] >= 2, name
        pod = deployment["spec"]["template"]
        assert pod["metadata"]["annotations"]["prometheus.io/port"] == "9102"
        (container,) = pod["spec"]["containers"]
        assert container["args"] == [name]
        # the image built with --build-arg SERVICE=<name> (deploy/Dockerfile)
        image = container["image"].rsplit("/", 1)[-1].split(":")[0]
        assert image == f"qi-onestop-{name}", name
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            assert container[probe]["httpGet"]["path"], (name, probe)
        sources = container["envFrom"]
        assert {s["configMapRef"]["name"] for s in sources if "configMapRef" in s} <= (
            set(config_maps)
        )
        assert {s["secretRef"]["name"] for s in sources if "secretRef" in s} <= set(
            secrets
        )
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports["metrics"] == 9102
    ready = deployments["gateway"]["spec"]["template"]["spec"]["containers"][0]
    assert ready["readinessProbe"]["httpGet"]["path"] == "/healthz"


def test_settings_are_in_the_config_map_and_credentials_in_the_secret():
    settings = of_kind("ConfigMap")["qi-config"]["data"]
    assert settings["QI_METRICS_ADDRESS"] == "0.0.0.0"
    assert "QI_DATABASE_URL" not in settings and "QI_AMQP_URI" not in settings
    secret = of_kind("Secret")["qi-secrets"]["stringData"]
    # filled in before applying: a service refuses to start with one empty
    assert set(secret) == {"QI_DATABASE_URL", "QI_CIPHER_KEY"}
    assert settings["QI_REQUIRE_SECRETS"] == "1"
    assert "QI_SIGNING_PUBLIC_KEYS" in settings
    for name in platform_services():  # a bounded connection pool per replica
        assert int(settings[f"{name.upper()}_POSTGRES_POOL_SIZE"]) <= 5


def test_every_replica_is_scraped_through_a_headless_service():
    services = of_kind("Service")
    scrape = yaml.safe_load((DEPLOY / "prometheus" / "prometheus-k8s.yml").read_text())
    names = set(scrape["scrape_configs"][0]["dns_sd_configs"][0]["names"])
    for name in platform_services():
        headless = services[f"{name}-metrics"]
        assert headless["spec"]["clusterIP"] == "None"
        assert headless["spec"]["publishNotReadyAddresses"] is True
        assert f"{name}-metrics.qi-onestop.svc.cluster.local" in names


def test_rabbitmq_runs_three_nodes_with_quorum_queues():
    (cluster,) = of_kind("RabbitmqCluster").values()
    assert cluster["spec"]["replicas"] == 3
    assert (
        "default_queue_type = quorum" in cluster["spec"]["rabbitmq"]["additionalConfig"]
    )


def test_the_kustomization_lists_every_manifest_and_generated_file():
    kustomization = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())
    listed = {Path(r).name for r in kustomization["resources"]}
    assert listed == {p.name for p in (DEPLOY / "k8s").glob("*.yaml")}
    for generator in kustomization["configMapGenerator"]:
        for entry in generator["files"]:
            assert (DEPLOY / entry.split("=")[-1]).is_file(), entry
    mounted = {
        v["configMap"]["name"]
        for d in of_kind("Deployment").values()
        for v in d["spec"]["template"]["spec"].get("volumes", [])
        if "configMap" in v
    }
    generated = {g["name"] for g in kustomization["configMapGenerator"]}
    assert mounted <= generated | set(of_kind("ConfigMap"))


def test_no_placeholder_is_left_to_be_taken_for_a_secret():
    """A placeholder in a manifest is public: the values are empty instead,
    and the services (QI_REQUIRE_SECRETS) and Grafana's init refuse to start."""
    for path in [*(DEPLOY / "k8s").glob("*.yaml"), DEPLOY / "docker-compose.yml"]:
        assert "change-me" not in path.read_text(encoding="utf-8").lower(), path
    for name, secret in of_kind("Secret").items():
        if name.endswith("-username"):
            continue
        assert all(v == "" for v in secret["stringData"].values()), name
    grafana = of_kind("Deployment")["grafana"]["spec"]["template"]["spec"]
    (check,) = grafana["initContainers"]
    assert check["command"][-2:] == ["check-secrets", "GF_SECURITY_ADMIN_PASSWORD"]


def test_each_service_is_its_own_broker_user_with_only_its_own_secrets():
    from shared import trust

    users, permissions = of_kind("User"), of_kind("Permission")
    secrets = of_kind("Secret")
    publishers = set(trust.publishers())
    for name in platform_services():
        user = f"qi-{name}"
        assert users[user]["spec"]["rabbitmqClusterReference"] == {"name": "rabbitmq"}
        spec = permissions[user]["spec"]
        assert spec["vhost"] == "qi" and spec["userReference"] == {"name": user}
        assert spec["permissions"] == trust.permissions(name), name
        (container,) = of_kind("Deployment")[name]["spec"]["template"]["spec"][
            "containers"
        ]
        env = {e["name"]: e for e in container["env"]}
        password = env["QI_RABBITMQ_PASSWORD"]["valueFrom"]["secretKeyRef"]
        assert password == {"name": f"{user}-user-credentials", "key": "password"}
        assert env["QI_AMQP_URI"]["value"].startswith(
            f"amqp://{user}:$(QI_RABBITMQ_PASSWORD)@"
        )
        own = {s["secretRef"]["name"] for s in container["envFrom"] if "secretRef" in s}
        assert own == {"qi-secrets", f"qi-{name}-secrets"}, name
        held = set(secrets[f"qi-{name}-secrets"]["stringData"])
        if name in publishers:
            assert held == {f"QI_{name.upper()}_SIGNING_KEY"}, name
        else:
            assert f"QI_{name.upper()}_SIGNING_KEY" not in held, name
        assert ("QI_GATEWAY_SECRET" in held) == (name == "gateway"), name


def test_the_broker_users_manifest_is_generated_from_the_permissions():
    from shared import trust

    text = (DEPLOY / "k8s" / "broker-users.yaml").read_text(encoding="utf-8")
    assert text == trust.k8s_users(), (
        "regenerate: python -m shared.trust k8s-users > deploy/k8s/broker-users.yaml"
    )
