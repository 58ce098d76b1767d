"""The Grafana dashboard and Prometheus config read metrics ChatPulse really exports.

The metric names come from a real exposition of :mod:`chatpulse.metrics` (every family present),
so renaming a metric without updating deploy/grafana/ fails here instead of leaving empty panels.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from chatpulse.metrics import StageMetrics, StageSnapshot

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "deploy" / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "chatpulse.json"
_METRIC = re.compile(r"\b(chatpulse_[a-z0-9_]+)\b")


def exported_names() -> set[str]:
    snapshot = StageSnapshot(
        events_in=3,
        events_out=2,
        errors={"decode": 1},
        dead_letters=1,
        consumer_lag=5,
        spool_bytes=10,
        spooled=1,
    )
    metrics = StageMetrics("enrich", lambda: snapshot)
    metrics.observe_latency([0.2])
    text = metrics.exposition().decode("utf-8")
    return {
        line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")
    }


def targets(dashboard: dict[str, Any]) -> list[str]:
    return [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]


def test_every_metric_in_the_dashboard_is_exported() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    used = {name for expr in targets(dashboard) for name in _METRIC.findall(expr)}
    assert used, "the dashboard queries no ChatPulse metric"
    assert used - exported_names() == set()
    # Every family the stages export is shown somewhere.
    families = {re.sub(r"_(bucket|count|sum|created)$", "", n) for n in exported_names()}
    shown = {re.sub(r"_(bucket|count|sum)$", "", n) for n in used}
    assert families - shown == set()


def test_dashboard_panels_are_well_formed_and_use_the_provisioned_datasource() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for expr in targets(dashboard):
        assert expr.count("(") == expr.count(")") and expr.count("{") == expr.count("}"), expr
    provisioned = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())
    uid = provisioned["datasources"][0]["uid"]
    variable = next(v for v in dashboard["templating"]["list"] if v["name"] == "datasource")
    assert variable["current"]["value"] == uid
    assert all(panel["datasource"]["uid"] == "${datasource}" for panel in dashboard["panels"])


def test_grafana_and_prometheus_paths_match_the_compose_mounts() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    grafana_mounts = dict(
        v.split(":")[:2] for v in compose["services"]["grafana"]["volumes"] if v.startswith("./")
    )
    provider = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "chatpulse.yml").read_text())
    assert grafana_mounts["./deploy/grafana/dashboards"] == provider["providers"][0]["options"]["path"]
    assert grafana_mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    prometheus_mounts = [v for v in compose["services"]["prometheus"]["volumes"] if v.startswith("./")]
    assert "./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in prometheus_mounts
    source = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())
    assert source["datasources"][0]["url"] == "http://prometheus:9090"
