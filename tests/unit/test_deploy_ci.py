""".github/workflows/ci.yml runs what the project really has: Make targets that exist, Kafka up
before the integration tests, and the image built from the Dockerfile."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def workflow() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def run_lines(job: dict[str, Any]) -> list[str]:
    return [line for step in job["steps"] for line in str(step.get("run", "")).splitlines()]


def test_every_make_target_the_workflow_calls_exists() -> None:
    targets = set(
        re.findall(r"^([a-zA-Z][\w-]*):", (ROOT / "Makefile").read_text(encoding="utf-8"), re.MULTILINE)
    )
    called = {
        target
        for job in workflow()["jobs"].values()
        for line in run_lines(job)
        for call in re.findall(r"\bmake\s+([\w\s-]+)", line)
        for target in call.split()
    }
    assert {"lint", "install", "kafka-up", "airflow-venv", "superset-venv"} <= called
    assert called <= targets


def test_jobs_cover_lint_unit_integration_with_kafka_and_the_image() -> None:
    jobs = workflow()["jobs"]
    assert "make lint" in run_lines(jobs["lint"])
    assert any("pytest" in line and "tests/unit" in line for line in run_lines(jobs["unit"]))
    integration = run_lines(jobs["integration"])
    kafka_up = integration.index("make kafka-up")
    tests = next(i for i, line in enumerate(integration) if "pytest" in line and "tests/integration" in line)
    assert kafka_up < tests
    image_steps = jobs["image"]["steps"]
    build = next(s for s in image_steps if str(s.get("uses", "")).startswith("docker/build-push-action"))
    assert build["with"]["context"] == "."
    assert any("compose" in line and "config" in line for line in run_lines(jobs["image"]))
