"""docker-compose.yml and every Kubernetes manifest are valid against their schemas (offline), and
say what issue 9 demands: 48 check-in partitions, two checkin replicas, health checks everywhere,
apps that wait for them, required secrets as ``${VAR:?}``, probes on readyz/healthz, no secret values.
"""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path
from typing import Any
from unittest import mock

import jsonschema  # type: ignore[import-untyped]
import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml  # type: ignore[import-untyped]

from services.dev import SERVICES
from shared.events import CHECKINS_TOPIC, REGISTRY_TOPIC, STATUS_COMMANDS_TOPIC, STATUS_TOPIC, dlq
from shared.settings import InfraSettings
from shared.topics import every_topic

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = ROOT / "docker-compose.yml"
COMPOSE_SCHEMA = ROOT / "deploy" / "schemas" / "compose-spec.json"
K8S = ROOT / "deploy" / "k8s"
# The oldest Kubernetes still in mainstream support when this was written; manifests that validate
# against it (strict: unknown fields rejected) also apply on newer clusters.
K8S_VERSION = "1.32.0"
REQUIRED_SECRETS = ("VENUECODE_JWT_PRIVATE_KEY", "VENUECODE_TOKEN_PRIVATE_KEY", "VENUECODE_PII_KEY")
KAFKA_NODES = ("kafka-1", "kafka-2", "kafka-3")
READMODEL = "checkin-readmodel"
INFRASTRUCTURE = (*KAFKA_NODES, "postgres", "redis")
JOBS = ("kafka-topics", "migrate")
# Variables the image itself reads (deploy/docker-entrypoint.sh), not InfraSettings.
IMAGE_VARIABLES = {"VENUECODE_SERVICE", "VENUECODE_PORT", "VENUECODE_WORKERS"}
PARTITIONS = {
    CHECKINS_TOPIC: 48,
    REGISTRY_TOPIC: 6,
    STATUS_TOPIC: 12,
    STATUS_COMMANDS_TOPIC: 12,
    **{dlq(name): 3 for name in (CHECKINS_TOPIC, REGISTRY_TOPIC, STATUS_TOPIC, STATUS_COMMANDS_TOPIC)},
}


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def _manifests() -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        found.extend((path.name, doc) for doc in yaml.safe_load_all(path.read_text()) if doc)
    return found


def _of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for _, doc in _manifests() if doc["kind"] == kind}


def _topics_of(environment: dict[str, str]) -> tuple[dict[str, int], int, int]:
    """What `venuecode topics create` makes under these variables: partitions per topic,
    replication factor and min.insync.replicas (read by the settings themselves)."""
    kafka_variables = {k: v for k, v in environment.items() if k.startswith("VENUECODE_KAFKA_")}
    with mock.patch.dict(os.environ, kafka_variables):
        kafka = InfraSettings().kafka
    return (
        {name: kafka.partitions_of(name) for name in every_topic()},
        kafka.replication_factor,
        kafka.min_insync_replicas,
    )


# ---- docker-compose.yml ----


def test_compose_is_valid_against_the_compose_spec() -> None:
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(_compose())]
    assert errors == []
    # The schema really is strict: a misspelt key is an error, so the check above means something.
    broken = copy.deepcopy(_compose())
    broken["services"]["checkin"]["helthcheck"] = broken["services"]["checkin"].pop("healthcheck")
    assert not validator.is_valid(broken)


def test_compose_runs_kafka_in_kraft_mode_postgres_16_and_redis_7() -> None:
    services = _compose()["services"]
    ids = set()
    for name in KAFKA_NODES:
        kafka = services[name]
        assert kafka["image"].startswith("apache/kafka:")
        assert "controller" in kafka["environment"]["KAFKA_PROCESS_ROLES"]
        assert "broker" in kafka["environment"]["KAFKA_PROCESS_ROLES"]
        assert not any("ZOOKEEPER" in key for key in kafka["environment"])
        assert kafka["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
        voters = kafka["environment"]["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")
        assert len(voters) == 3
        ids.add(kafka["environment"]["KAFKA_NODE_ID"])
    assert len(ids) == 3
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")


def test_compose_topic_job_creates_every_topic_with_its_partitions() -> None:
    services = _compose()["services"]
    job = services["kafka-topics"]
    assert job["command"] == ["topics", "create"]
    assert job["build"]["dockerfile"] == "deploy/Dockerfile"
    assert _topics_of(job["environment"]) == (PARTITIONS, 3, 2)
    for name in KAFKA_NODES:
        assert job["depends_on"][name]["condition"] == "service_healthy"
    for name in SERVICES:  # every service runs with the same topic settings as the job
        assert _topics_of(services[name]["environment"]) == (PARTITIONS, 3, 2)
    migrate = services["migrate"]
    assert migrate["command"] == ["migrate"]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_compose_runs_the_four_services_and_checkin_twice() -> None:
    services = _compose()["services"]
    for service in SERVICES:
        assert services[service]["environment"]["VENUECODE_SERVICE"] == service
        assert services[service]["build"]["dockerfile"] == "deploy/Dockerfile"
    assert services["checkin"]["deploy"]["replicas"] == 2
    assert {"registry", "status", "tracing"}.isdisjoint(
        name for name, s in services.items() if s.get("deploy", {}).get("replicas", 1) != 1
    )


def test_compose_health_checks_and_start_order() -> None:
    services = _compose()["services"]
    for name in (*INFRASTRUCTURE, *SERVICES, "gateway"):
        check = services[name].get("healthcheck")
        assert check, f"{name} has no health check"
        assert not check.get("disable", False)
        assert check["test"][0] in {"CMD", "CMD-SHELL"}
    for name in SERVICES:
        depends = services[name]["depends_on"]
        for infra in INFRASTRUCTURE:
            assert depends[infra]["condition"] == "service_healthy", f"{name} -> {infra}"
        for job in JOBS:
            assert depends[job]["condition"] == "service_completed_successfully", f"{name} -> {job}"
        check = " ".join(services[name]["healthcheck"]["test"])
        assert "healthcheck" in check  # the image's script: GET /api/<service>/healthz
    for name in SERVICES:
        assert services["gateway"]["depends_on"][name]["condition"] == "service_healthy"
    assert "8080" in services["gateway"]["ports"][0]


def test_compose_requires_every_secret_and_runs_in_production() -> None:
    services = _compose()["services"]
    for name in (*SERVICES, "migrate"):
        environment = services[name]["environment"]
        assert environment["VENUECODE_ENV"] == "production"
        for secret in REQUIRED_SECRETS:
            assert re.fullmatch(rf"\$\{{{secret}:\?[^}}]*\}}", environment[secret]), environment[secret]
        assert ":?" in environment["VENUECODE_POSTGRES_URL"]  # the database password too
    assert ":?" in services["postgres"]["environment"]["POSTGRES_PASSWORD"]


def test_compose_sets_only_settings_that_exist() -> None:
    """A misspelt VENUECODE_ variable would be ignored silently (extra="ignore"): refuse it here."""
    known = {f"VENUECODE_{name.upper()}" for name in InfraSettings.model_fields} | IMAGE_VARIABLES
    for name in (*SERVICES, "migrate"):
        variables = {k for k in _compose()["services"][name]["environment"] if k.startswith("VENUECODE_")}
        assert variables <= known, variables - known


# ---- Kubernetes ----


@pytest.mark.parametrize(("filename", "doc"), _manifests(), ids=lambda v: v if isinstance(v, str) else "")
def test_manifest_is_valid_kubernetes(filename: str, doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    assert listed == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert all(doc["metadata"].get("namespace", "venuecode") == "venuecode" for _, doc in _manifests())


def test_deployments_probe_readyz_and_healthz_with_resources() -> None:
    deployments = _of_kind("Deployment")
    assert set(deployments) == {*SERVICES, "gateway", READMODEL}
    for name in (*SERVICES, READMODEL):
        (container,) = deployments[name]["spec"]["template"]["spec"]["containers"]
        service = name.removesuffix("-readmodel")
        assert container["readinessProbe"]["httpGet"]["path"] == f"/api/{service}/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == f"/api/{service}/healthz"
        env = {e["name"]: e for e in container["env"]}
        assert env["VENUECODE_SERVICE"]["value"] == service
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        for container in pod["containers"]:
            assert container["resources"]["requests"], name
            assert container["resources"]["limits"], name
            assert container["securityContext"]["allowPrivilegeEscalation"] is False


def test_secrets_are_referenced_never_written() -> None:
    assert _of_kind("Secret") == {}
    for filename, doc in _manifests():
        text = yaml.safe_dump(doc)
        assert "BEGIN PRIVATE KEY" not in text, filename
    for name in SERVICES:
        (container,) = _of_kind("Deployment")[name]["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e for e in container["env"]}
        for secret in (*REQUIRED_SECRETS, "VENUECODE_POSTGRES_URL"):
            assert env[secret]["valueFrom"]["secretKeyRef"]["name"] == "venuecode-keys"
            assert not env[secret]["valueFrom"]["secretKeyRef"].get("optional", False)
        assert {"configMapRef": {"name": "venuecode-config"}} in container["envFrom"]
    config = _of_kind("ConfigMap")["venuecode-config"]["data"]
    assert config["VENUECODE_ENV"] == "production"
    assert not set(config) & {*REQUIRED_SECRETS, "VENUECODE_POSTGRES_URL"}


def test_services_pdbs_and_checkin_autoscaling() -> None:
    services = _of_kind("Service")
    pdbs = _of_kind("PodDisruptionBudget")
    for name, deployment in _of_kind("Deployment").items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        if name != READMODEL:  # consumers only: the gateway never routes there
            assert services[name]["spec"]["selector"].items() <= labels.items(), name
        assert pdbs[name]["spec"]["selector"]["matchLabels"].items() <= labels.items(), name
    (hpa,) = _of_kind("HorizontalPodAutoscaler").values()
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "checkin"}
    assert hpa["spec"]["minReplicas"] >= 2
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"


def test_the_job_creates_the_same_topics_and_migrates() -> None:
    (job,) = _of_kind("Job").values()
    pod = job["spec"]["template"]["spec"]
    (topics,) = pod["initContainers"]
    assert topics["args"] == ["topics", "create"]
    config = _of_kind("ConfigMap")["venuecode-config"]["data"]
    assert _topics_of(config) == (PARTITIONS, 3, 2)
    assert {"configMapRef": {"name": "venuecode-config"}} in topics["envFrom"]
    (migrate,) = pod["containers"]
    assert migrate["args"] == ["migrate"]


def test_checkin_read_model_consumers_run_in_their_own_deployment_only() -> None:
    deployments = _of_kind("Deployment")

    def switch(name: str) -> str:
        (container,) = deployments[name]["spec"]["template"]["spec"]["containers"]
        return str({e["name"]: e for e in container["env"]}["VENUECODE_CHECKIN_READMODEL_CONSUMER"]["value"])

    assert switch("checkin") == "false"
    assert switch(READMODEL) == "true"
    assert deployments[READMODEL]["spec"]["replicas"] == 1
    assert READMODEL not in _of_kind("Service")


def test_every_service_pod_waits_for_the_topics() -> None:
    for name in (*SERVICES, READMODEL):
        pod = _of_kind("Deployment")[name]["spec"]["template"]["spec"]
        (wait,) = pod["initContainers"]
        assert "venuecode topics check" in wait["command"][-1]
        assert {"configMapRef": {"name": "venuecode-config"}} in wait["envFrom"]


# ---- the gateway's template variables ----


def _template_variables() -> set[str]:
    """The variables entrypoint.sh lets envsubst replace, and that the template uses."""
    entrypoint = (ROOT / "deploy" / "gateway" / "entrypoint.sh").read_text()
    allowed = re.search(r"envsubst '([^']+)'", entrypoint)
    assert allowed is not None
    names = set(re.findall(r"\$\{(\w+)\}", allowed[1]))
    used = set(re.findall(r"\$\{(\w+)\}", (ROOT / "deploy" / "gateway" / "nginx.conf.template").read_text()))
    assert used == names, "the template uses exactly the variables the entrypoint substitutes"
    return names


def test_compose_and_kubernetes_give_the_gateway_every_template_variable() -> None:
    names = _template_variables()
    assert {f"{service.upper()}_UPSTREAM" for service in SERVICES} <= names
    compose = _compose()["services"]["gateway"]["environment"]
    assert names <= set(compose)
    for service in SERVICES:
        assert compose[f"{service.upper()}_UPSTREAM"] == f"{service}:8000"
    (container,) = _of_kind("Deployment")["gateway"]["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert names <= set(env)
    for service in SERVICES:
        assert env[f"{service.upper()}_UPSTREAM"].startswith(f"{service}.venuecode.svc")


# ---- images ----


def test_image_is_multi_stage_non_root_with_a_health_check() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    stages = re.split(r"^FROM ", dockerfile, flags=re.M)[1:]
    assert len(stages) == 3
    assert "python:3.11-slim" in dockerfile
    builder, decoder, runtime = stages
    # The reverse scan's QR decoder comes from the npm registry as the lock file pins it.
    assert "npm ci --omit=dev" in decoder
    assert "COPY --from=decoder" in runtime
    assert "constraints.txt" in builder
    assert "build-essential" in builder
    assert "build-essential" not in runtime
    assert "apt-get install" not in runtime
    assert re.search(r"^USER 10001", runtime, re.M)
    assert re.search(r"^HEALTHCHECK .*\n.*healthcheck", runtime, re.M)
    healthcheck = (ROOT / "deploy" / "healthcheck.py").read_text()
    assert "/api/{SERVICE}/healthz" in healthcheck
    assert "VENUECODE_SERVICE" in healthcheck
    entrypoint = (ROOT / "deploy" / "docker-entrypoint.sh").read_text()
    assert 'venuecode serve "${VENUECODE_SERVICE' in entrypoint
    gateway = (ROOT / "deploy" / "gateway" / "Dockerfile").read_text()
    assert re.search(r"^USER 101", gateway, re.M)
    assert "HEALTHCHECK" in gateway
