"""The Superset/Preset bundle (deploy/superset/bundle) is consistent and its SQL runs on the schema.

Structure: every file parses, every uuid is unique, every dataset points at the one database,
every chart at an existing dataset and at that dataset's columns and metrics, and the dashboard
at exactly the bundle's charts. SQL: after `migrate` on chDB, filled from the real xqcow capture,
every dataset's SQL and every metric expression runs, and the figures equal the same figures
computed from the base tables. (tests/integration/test_superset_bundle.py imports the ZIP into
a real Superset.)
"""

from __future__ import annotations

import gzip
import importlib.util
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from chatpulse.config import SentimentSettings, StoreSettings
from chatpulse.irc.twitch import parse_line
from chatpulse.sentiment import create_analyzer, enrich_events
from chatpulse.store import ClickHouseSink, Store, open_store

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "deploy" / "superset" / "bundle"


def load_builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "build_bundle", ROOT / "deploy" / "superset" / "build_bundle.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def docs(folder: str) -> list[dict[str, Any]]:
    return [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted((BUNDLE / folder).rglob("*.yaml"))]


def chart_columns(params: dict[str, Any]) -> set[str]:
    """Dataset columns a chart's params refer to by name."""
    names = set(params.get("groupby", [])) | set(params.get("all_columns", []))
    if params.get("x_axis"):
        names.add(params["x_axis"])
    names |= {f["subject"] for f in params.get("adhoc_filters", []) if f.get("expressionType") == "SIMPLE"}
    names |= {json.loads(c)[0] for c in params.get("order_by_cols", [])}
    return names


def chart_metrics(params: dict[str, Any]) -> set[str]:
    """Saved metrics a chart uses (ad-hoc metrics would be dicts; the bundle uses none)."""
    metrics = list(params.get("metrics", [])) + [
        params[k] for k in ("metric", "timeseries_limit_metric") if k in params
    ]
    assert all(isinstance(m, str) for m in metrics), "use the datasets' saved metrics"
    return set(metrics)


def test_bundle_structure_and_references() -> None:
    metadata = yaml.safe_load((BUNDLE / "metadata.yaml").read_text(encoding="utf-8"))
    assert metadata["type"] == "Dashboard" and metadata["version"] == "1.0.0"
    (database,) = docs("databases")
    datasets, charts, dashboards = docs("datasets"), docs("charts"), docs("dashboards")
    assert len(dashboards) == 1
    every_uuid = [database["uuid"], *(d["uuid"] for d in datasets + charts + dashboards)]
    assert len(every_uuid) == len(set(every_uuid))

    # clickhouse-connect's dialect, and never a real password in the repository.
    assert database["sqlalchemy_uri"].startswith("clickhousedb://")
    assert ":XXXXXXXXXX@" in database["sqlalchemy_uri"]
    by_uuid = {d["uuid"]: d for d in datasets}
    for dataset in datasets:
        assert dataset["database_uuid"] == database["uuid"]
        columns = {c["column_name"] for c in dataset["columns"]}
        assert dataset["main_dttm_col"] in columns
    for chart in charts:
        dataset = by_uuid[chart["dataset_uuid"]]
        assert chart["viz_type"] == chart["params"]["viz_type"]
        assert chart_columns(chart["params"]) <= {c["column_name"] for c in dataset["columns"]}, chart[
            "slice_name"
        ]
        assert chart_metrics(chart["params"]) <= {m["metric_name"] for m in dataset["metrics"]}, chart[
            "slice_name"
        ]

    (dashboard,) = dashboards
    placed = {
        v["meta"]["uuid"]
        for v in dashboard["position"].values()
        if isinstance(v, dict) and v.get("type") == "CHART"
    }
    assert placed == {c["uuid"] for c in charts}
    for key, node in dashboard["position"].items():
        if isinstance(node, dict) and "children" in node:
            assert all(child in dashboard["position"] for child in node["children"]), key
    for native in dashboard["metadata"]["native_filter_configuration"]:
        for target in native["targets"]:
            if "datasetUuid" in target:
                assert target["column"]["name"] in {
                    c["column_name"] for c in by_uuid[target["datasetUuid"]]["columns"]
                }


@pytest.fixture(scope="module")
def store(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    folder = tmp_path_factory.mktemp("superset-store")
    with gzip.open(shared_data / "replay" / "xqcow-2019-09-15.irc.gz", "rt", encoding="utf-8") as f:
        events = [parse_line(line.rstrip("\r\n"), 1_568_505_600_000, "replay") for line in f if line.strip()]
    events = enrich_events(events, create_analyzer(SentimentSettings()))
    opened = open_store(StoreSettings(dsn=f"chdb://{folder / 'db'}"))
    opened.migrate()
    sink = ClickHouseSink(opened, spool_dir=folder / "spool")
    sink.add(events)
    sink.flush()
    yield opened
    opened.close()


def dataset_source(dataset: dict[str, Any]) -> str:
    return f"({dataset['sql']})" if dataset["sql"] else dataset["table_name"]


@pytest.mark.parametrize("name", sorted(p.stem for p in (BUNDLE / "datasets").rglob("*.yaml")))
def test_dataset_sql_columns_and_metrics_run_on_the_schema(store: Store, name: str) -> None:
    (dataset,) = [d for d in docs("datasets") if d["table_name"] == name]
    selected = ", ".join(
        f"{c['expression']} AS {c['column_name']}" if c["expression"] else c["column_name"]
        for c in dataset["columns"]
    )
    rows = store.query(f"SELECT {selected} FROM {dataset_source(dataset)} AS t LIMIT 5")  # noqa: S608 (bundle SQL)
    assert rows, f"{name}: no rows from a store holding the xqcow capture"
    assert set(rows[0]) == {c["column_name"] for c in dataset["columns"]}
    for metric in dataset["metrics"]:
        store.query(f"SELECT {metric['expression']} AS v FROM {dataset_source(dataset)} AS t")  # noqa: S608


def test_dataset_figures_equal_the_base_tables(store: Store) -> None:
    sets = {d["table_name"]: d for d in docs("datasets")}

    def metric(dataset: str, name: str) -> Any:
        d = sets[dataset]
        (expression,) = [m["expression"] for m in d["metrics"] if m["metric_name"] == name]
        return store.query(f"SELECT {expression} AS v FROM {dataset_source(d)} AS t")[0]["v"]  # noqa: S608

    messages = store.query("SELECT uniqExact(id) AS n FROM chat_messages")[0]["n"]
    assert messages > 4000
    assert metric("chatpulse_minute", "messages") == messages
    assert metric("chatpulse_messages", "messages") == messages
    deleted = store.query("SELECT uniqExact(id) AS n FROM chat_messages WHERE deleted")[0]["n"]
    assert metric("chatpulse_minute", "deleted_messages") == deleted > 0
    emotes = store.query("SELECT count() AS n FROM chat_emotes")[0]["n"]
    assert metric("chatpulse_emote_minute", "uses") == emotes > 0
    scored = store.query("SELECT avg(sentiment_score) AS m FROM chat_messages WHERE version = 0")[0]["m"]
    assert scored is not None
    assert abs(metric("chatpulse_minute", "sentiment_mean") - scored) < 1e-6
    assert abs(metric("chatpulse_messages", "sentiment_mean") - scored) < 1e-6
    positive = store.query(
        "SELECT countIf(sentiment_label = 'positive') AS n FROM chat_messages WHERE version = 0"
    )[0]["n"]
    assert metric("chatpulse_minute", "positive") == positive > 0


def test_zip_has_one_root_folder_is_reproducible_and_bakes_a_uri_only_on_request(tmp_path: Path) -> None:
    builder = load_builder()
    first = builder.build(tmp_path / "a.zip")
    second = builder.build(tmp_path / "b.zip")
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        names = archive.namelist()
        assert names[0] == "chatpulse_dashboard/metadata.yaml"
        assert {n.split("/")[0] for n in names} == {"chatpulse_dashboard"}
        assert len(names) == len(list(BUNDLE.rglob("*.yaml")))
    uri = "clickhousedb://reader:s3cret@clickhouse:8123/chatpulse"
    baked = builder.build(tmp_path / "c.zip", sqlalchemy_uri=uri)
    with zipfile.ZipFile(baked) as archive:
        database = yaml.safe_load(io.BytesIO(archive.read("chatpulse_dashboard/databases/ChatPulse.yaml")))
        assert database["sqlalchemy_uri"] == uri
        assert b"s3cret" not in archive.read("chatpulse_dashboard/datasets/ChatPulse/chatpulse_minute.yaml")
    with pytest.raises(ValueError, match="clickhousedb://"):
        builder.build(tmp_path / "d.zip", sqlalchemy_uri="postgresql://x@y/z")
