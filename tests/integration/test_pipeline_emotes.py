"""Third-party emotes through the embedded pipeline: replay -> parse -> 7TV/BTTV -> lexicon -> chDB.

The emote cache holds the saved 7TV and BTTV responses for xQc's channel (tests/data/emote_api,
in the providers' documented shapes), parsed and written the way ``chatpulse emotes refresh``
writes them. The replay is the real xqcow capture, whose ``room-id`` is that channel's id.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from chatpulse.config import SentimentSettings, StoreSettings
from chatpulse.emotes import EmoteCache, EmoteIndex, EmoteSet
from chatpulse.emotes.providers import ProviderName, parse_response
from chatpulse.events import MessageEvent
from chatpulse.irc.twitch import parse_line
from chatpulse.run.embedded import Pipeline, PipelineConfig
from chatpulse.sentiment.lexicon import LexiconAnalyzer
from chatpulse.sources.replay import ReplaySource
from chatpulse.store import ClickHouseSink, Store, open_store

SAVED = Path(__file__).resolve().parents[1] / "data" / "emote_api"
XQC = "71092938"
SAVED_SETS: list[tuple[ProviderName, str | None, str]] = [
    ("7tv", None, "7tv/emote-sets/global"),
    ("7tv", XQC, f"7tv/users/twitch/{XQC}"),
    ("bttv", None, "bttv/cached/emotes/global"),
    ("bttv", XQC, f"bttv/cached/users/twitch/{XQC}"),
]


def _saved(path: str) -> Any:
    return json.loads((SAVED / f"{path}.json").read_text(encoding="utf-8"))


@pytest.fixture
def emote_cache(tmp_path: Path) -> Path:
    cache = EmoteCache(tmp_path / "emotes")
    for provider, channel_id, path in SAVED_SETS:
        pairs = parse_response(provider, channel_id, _saved(path))
        cache.write(EmoteSet(provider, channel_id, tuple(pairs), time.time()))
    return cache.folder


@pytest.fixture
def capture(shared_data: Path, tmp_path: Path) -> Path:
    # Decompressed once: the replay source then reads a plain file.
    out = tmp_path / "xqcow.irc"
    with gzip.open(shared_data / "replay" / "xqcow-2019-09-15.irc.gz", "rt", encoding="utf-8") as f:
        out.write_text(f.read(), encoding="utf-8")
    return out


def _replay(capture: Path, folder: Path, emote_cache: Path, workers: int) -> Store:
    store = open_store(StoreSettings(dsn=f"chdb://{folder / 'db'}"))
    store.migrate()
    sink = ClickHouseSink(store, spool_dir=folder / "spool")
    pipeline = Pipeline(
        ReplaySource(capture, speed=None), sink, SentimentSettings(), PipelineConfig(workers=workers),
        emote_cache=emote_cache,
    )  # fmt: skip
    asyncio.run(pipeline.run())
    return store


def _expected_third_party(
    capture: Path, emote_cache: Path
) -> tuple[Counter[tuple[str, str]], list[MessageEvent]]:
    """(provider, name) -> uses, recomputed from the capture with the same cache; and the
    annotated messages that gained third-party emotes."""
    index = EmoteIndex.from_cache(EmoteCache(emote_cache))
    uses: Counter[tuple[str, str]] = Counter()
    gained: list[MessageEvent] = []
    with capture.open(encoding="utf-8") as f:
        for line in f:
            event = parse_line(line.rstrip("\r\n"), 0, "replay")
            if isinstance(event, MessageEvent) and event.kind == "message":
                annotated = index.annotate(event)
                extra = [e for e in annotated.emotes if e.provider != "twitch"]
                uses.update((e.provider, e.name) for e in extra)
                if extra:
                    gained.append(annotated)
    return uses, gained


def test_replay_stores_7tv_and_bttv_emotes_and_scores_them(
    capture: Path, emote_cache: Path, tmp_path: Path
) -> None:
    expected, gained = _expected_third_party(capture, emote_cache)
    assert {provider for provider, _ in expected} == {"7tv", "bttv"}  # the capture uses both
    store = _replay(capture, tmp_path, emote_cache, workers=1)
    try:
        rows = store.query(
            "SELECT provider, emote_name, count() AS n FROM chat_emotes FINAL "
            "WHERE provider != 'twitch' GROUP BY provider, emote_name"
        )
        stored = Counter({(r["provider"], r["emote_name"]): r["n"] for r in rows})
        assert stored == expected
        # The minute aggregates behind the top-emote chart count them too.
        top = store.query("SELECT countMerge(uses) AS n FROM chat_emote_minute WHERE provider != 'twitch'")[
            0
        ]["n"]
        assert top == sum(expected.values())
        # The lexicon was given the annotated messages (emote spans mark the third-party names).
        by_id = {m.id: m for m in gained}
        scores = store.query(
            "SELECT id, sentiment_score FROM chat_messages FINAL WHERE id IN {ids:Array(String)}",
            {"ids": sorted(by_id)},
        )
        assert len(scores) == len(by_id)
        aware = LexiconAnalyzer().analyze([by_id[r["id"]] for r in scores])
        assert [round(r["sentiment_score"], 4) for r in scores] == [round(v.score, 4) for v in aware]
    finally:
        store.close()
    # The channel's room id was recorded for `chatpulse emotes refresh`.
    assert EmoteCache(emote_cache).channel_ids() == {"xqcow": XQC}


def test_an_empty_emote_cache_leaves_twitch_emotes_only(capture: Path, tmp_path: Path) -> None:
    empty = tmp_path / "no-emotes-yet"
    store = _replay(capture, tmp_path, empty, workers=0)
    try:
        providers = store.query("SELECT groupUniqArray(provider) AS p FROM chat_emotes")[0]["p"]
        assert list(providers) == ["twitch"]
    finally:
        store.close()
    assert EmoteCache(empty).channel_ids() == {"xqcow": XQC}  # remembered even before a refresh
