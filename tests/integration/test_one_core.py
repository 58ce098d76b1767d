"""One core, two transports: a recording stores the same rows embedded and through Kafka.

``chatpulse run --replay FILE --speed max`` (the worker pool) and the same command with
``--kafka client.properties`` (ingest -> raw topic -> enrich -> enriched topic -> sink, the real
local broker) run both real captures into two chDB folders; every stored row a user can query
must be the same: messages with their users, texts, emote counts, verdicts and moderation flags,
emote uses and events. Only ``received_at`` (the local clock of each run) may differ.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from chatpulse.config import StoreSettings
from chatpulse.emotes import EmoteCache, EmoteSet
from chatpulse.emotes.providers import ProviderName, parse_response
from chatpulse.store import open_store
from tests.integration.conftest import kafka_cli_env, unique_kafka_settings

CAPTURES = ["xqcow-2019-09-15.irc.gz", "nymn-2024-01-06.json"]
SAVED = Path(__file__).resolve().parents[1] / "data" / "emote_api"

# What a user reads back; received_at is left out on purpose (each run's own receive clock).
COMPARED = {
    "chat_messages": (
        "SELECT id, channel, user_id, user_login, user_name, text, emote_count, sentiment_label, "
        "round(sentiment_score, 5) AS score, sentiment_model, deleted, deleted_by, sent_at, bits "
        "FROM chat_messages FINAL ORDER BY id"
    ),
    "chat_emotes": (
        "SELECT message_id, position, emote_id, emote_name, provider, user_login, channel, sent_at "
        "FROM chat_emotes ORDER BY message_id, position"
    ),
    "chat_events": (
        "SELECT event_key, kind, channel, notice_type, user_login, target_user_login, "
        "target_message_id, ban_duration, text, system_text, sent_at "
        "FROM chat_events ORDER BY event_key"
    ),
}


def _rows(dsn: str) -> dict[str, list[tuple[Any, ...]]]:
    store = open_store(StoreSettings(dsn=dsn))
    try:
        return {table: [tuple(r.values()) for r in store.query(sql)] for table, sql in COMPARED.items()}
    finally:
        store.close()


def _global_emote_cache(folder: Path) -> Path:
    """7TV's and BTTV's global sets (saved responses), so both runs add third-party emotes."""
    cache = EmoteCache(folder)
    sets: list[tuple[ProviderName, str]] = [
        ("7tv", "7tv/emote-sets/global"),
        ("bttv", "bttv/cached/emotes/global"),
    ]
    for provider, path in sets:
        body = json.loads((SAVED / f"{path}.json").read_text(encoding="utf-8"))
        cache.write(EmoteSet(provider, None, tuple(parse_response(provider, None, body)), time.time()))
    return cache.folder


def _run(args: list[str], env: dict[str, str], cwd: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "chatpulse", "run", "--speed", "max", "--no-dashboard", *args],
        capture_output=True, text=True, timeout=300, env=env, cwd=cwd, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.mark.parametrize("capture", CAPTURES)
def test_embedded_and_kafka_runs_store_the_same_rows(
    capture: str, kafka_bootstrap: str, shared_data: Path, tmp_path: Path
) -> None:
    recording = shared_data / "replay" / capture
    kafka = unique_kafka_settings(kafka_bootstrap, tmp_path / "kafka-spool")
    emotes = _global_emote_cache(tmp_path / "emotes")
    env = kafka_cli_env(kafka, CHATPULSE_EMOTES__CACHE_DIR=str(emotes))
    properties = tmp_path / "client.properties"
    properties.write_text(f"bootstrap.servers={kafka_bootstrap}\n")
    embedded, through_kafka = f"chdb://{tmp_path / 'a'}", f"chdb://{tmp_path / 'b'}"

    _run(["--replay", str(recording), "--store", embedded], env, tmp_path)
    _run(["--replay", str(recording), "--kafka", str(properties), "--store", through_kafka], env, tmp_path)

    a, b = _rows(embedded), _rows(through_kafka)
    assert len(a["chat_messages"]) > 500, "the capture should store its chat"
    assert any(row[7] for row in a["chat_messages"]), "messages carry verdicts"
    assert a["chat_events"]
    assert {row[4] for row in a["chat_emotes"]} >= {"twitch", "7tv"}, "third-party emotes found"
    for table in COMPARED:
        assert len(a[table]) == len(b[table]), table
        differing = [(x, y) for x, y in zip(a[table], b[table], strict=True) if x != y]
        assert not differing, f"{table}: {len(differing)} rows differ, first {differing[0]}"
