"""deploy/observability: the alert rules pass ``promtool check rules`` and their unit tests, the
scrape config reaches each service's real metrics path, and every metric a dashboard or a rule
names is one that the services' ``/metrics`` really exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml  # type: ignore[import-untyped]

from services.dev import SERVICES
from shared.settings import InfraSettings

ROOT = Path(__file__).resolve().parents[3]
OBSERVABILITY = ROOT / "deploy" / "observability"
RULES = OBSERVABILITY / "rules" / "venuecode.rules.yml"
RULE_TESTS = OBSERVABILITY / "rules" / "venuecode.rules.test.yml"
DASHBOARDS = OBSERVABILITY / "grafana" / "dashboards"
# A metric name in PromQL: ours, or Prometheus's own ``up``.
METRIC = re.compile(r"\b(venuecode_[a-z0-9_]+|up)\b(?=\s*[{\[)]|\s*$|\s*[><=])")
SUFFIXES = ("_bucket", "_count", "_sum", "_created")


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.skip("promtool missing: `make test` installs Debian's prometheus package (apt-get)")
    return found


def test_the_rules_are_valid() -> None:
    done = subprocess.run(
        [promtool(), "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 16 rules found" in done.stdout


def test_the_rules_unit_tests_pass() -> None:
    done = subprocess.run(
        [promtool(), "test", "rules", RULE_TESTS.name],
        cwd=RULE_TESTS.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_every_alert_has_a_unit_test_and_an_entry_in_the_operations_guide() -> None:
    alerts = {r["alert"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]}
    tested = {
        case["alertname"]
        for test in yaml.safe_load(RULE_TESTS.read_text())["tests"]
        for case in test["alert_rule_test"]
        if case["exp_alerts"]
    }
    assert alerts == tested
    guide = (ROOT / "docs" / "operations.md").read_text()
    assert [a for a in sorted(alerts) if f"`{a}`" not in guide] == []


def test_the_scrape_config_is_valid_and_names_each_service() -> None:
    done = subprocess.run(
        [promtool(), "check", "config", "--syntax-only", str(OBSERVABILITY / "prometheus.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    jobs = yaml.safe_load((OBSERVABILITY / "prometheus.yml").read_text())["scrape_configs"]
    assert {j["job_name"]: j["metrics_path"] for j in jobs} == {
        f"venuecode-{s}": f"/api/{s}/metrics" for s in SERVICES
    }


def exported(text: str) -> set[str]:
    """The metric names an exposition declares (``# TYPE``), with a histogram's series names."""
    names: set[str] = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            names.add(name)
            if kind in ("histogram", "summary", "counter"):
                names.update(name + s for s in SUFFIXES)
    return names


async def metrics_of(service: str, infra: InfraSettings) -> set[str]:
    app = _app(service, infra)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        answer = await client.get(f"/api/{service}/metrics")
    assert answer.status_code == 200, answer.text
    return exported(answer.text)


def _app(service: str, infra: InfraSettings) -> Any:
    import importlib

    config = importlib.import_module(f"services.{service}.config")
    app_module = importlib.import_module(f"services.{service}.app")
    return app_module.create_app(config.Settings(infra=infra))


def queries(dashboard: dict[str, Any]) -> list[str]:
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]


@pytest.mark.parametrize("service", SERVICES)
async def test_each_dashboard_queries_only_what_its_service_exports(
    service: str, infra: InfraSettings
) -> None:
    names = await metrics_of(service, infra) | {"up"}
    dashboard = json.loads((DASHBOARDS / f"{service}.json").read_text())
    assert dashboard["uid"] == f"venuecode-{service}"
    exprs = queries(dashboard)
    assert len(exprs) >= 8
    used = {m for e in exprs for m in METRIC.findall(e)}
    assert used, "the pattern found no metric: it is broken"
    assert used - names == set(), f"{service} dashboard names metrics its /metrics lacks"
    for expr in exprs:
        assert set(re.findall(r'service="([a-z]+)"', expr)) <= {service}, expr
        assert set(re.findall(r'\bup\{job="([a-z-]+)"', expr)) <= {f"venuecode-{service}"}, expr


async def test_every_rule_names_exported_metrics(infra: InfraSettings) -> None:
    names = {"up"}
    for service in SERVICES:
        names |= await metrics_of(service, infra)
    exprs = [r["expr"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]
    used = {m for e in exprs for m in METRIC.findall(e)}
    assert len(used) >= 8
    assert used - names == set()


def test_compose_runs_prometheus_and_grafana_with_these_files() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    prometheus = " ".join(compose["prometheus"]["volumes"])
    assert "./deploy/observability/prometheus.yml:" in prometheus
    assert "./deploy/observability/rules:" in prometheus
    grafana = " ".join(compose["grafana"]["volumes"])
    assert "./deploy/observability/grafana/dashboards:" in grafana
    assert "./deploy/observability/grafana/provisioning:" in grafana
    assert sorted(p.stem for p in DASHBOARDS.glob("*.json")) == sorted(SERVICES)
