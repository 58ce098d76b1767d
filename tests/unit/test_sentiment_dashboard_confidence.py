"""Dashboards leave low-confidence verdicts out of the mood only when asked (real chDB store)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chatpulse.config import StoreSettings
from chatpulse.dashboard.app import DashboardApi
from chatpulse.dashboard.params import BadRequest
from chatpulse.events import MessageEvent, Sentiment
from chatpulse.store import Store, open_store
from chatpulse.store.rows import message_table, python_columns

T0 = 1_568_505_600_000  # 2019-09-15T00:00:00Z
VERDICTS = [  # label, score, confidence, lang
    ("positive", 0.8, 0.9, None),
    ("negative", -0.6, 0.5, None),
    ("neutral", 0.0, 0.3333, "es"),  # a message the analyzer marked as not English
    ("positive", 0.4, 0.7, None),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    folder: Path = tmp_path_factory.mktemp("mood-confidence")
    opened = open_store(StoreSettings(dsn=f"chdb://{folder / 'db'}"))
    opened.migrate()
    events = [
        MessageEvent(received_at=T0 + i * 1000, source="replay", channel="c", sent_at=T0 + i * 1000,
                     id=f"m{i}", user_login=f"u{i}", text="x",
                     sentiment=Sentiment(label, score, confidence, "lexicon@2", lang))  # type: ignore[arg-type]
        for i, (label, score, confidence, lang) in enumerate(VERDICTS)
    ]  # fmt: skip
    opened.insert("chat_messages", python_columns(message_table(events)))
    yield opened
    opened.close()


def overview(store: Store, **extra: str) -> dict[str, Any]:
    api = DashboardApi(store, None, lambda: T0 + 60_000)
    query = {"channel": "c", "from": str(T0), "to": str(T0 + 60_000), **extra}
    totals: dict[str, Any] = api.overview(query, ["c"])["totals"]
    return totals


def test_by_default_every_english_verdict_counts(store: Store) -> None:
    totals = overview(store)
    # The message marked "es" is chat, but not mood: it is stored without a verdict.
    assert (totals["messages"], totals["positive"], totals["neutral"], totals["negative"]) == (4, 2, 0, 1)
    assert totals["mean_score"] == pytest.approx((0.8 - 0.6 + 0.4) / 3, abs=1e-3)


def test_asked_for_it_the_mood_leaves_out_unsure_verdicts_but_counts_every_message(store: Store) -> None:
    totals = overview(store, min_confidence="60")
    assert (totals["messages"], totals["chatters"]) == (4, 4)
    assert (totals["positive"], totals["neutral"], totals["negative"]) == (2, 0, 0)
    assert totals["mean_score"] == pytest.approx((0.8 + 0.4) / 2, abs=1e-3)
    api = DashboardApi(store, None, lambda: T0 + 60_000)
    query = {"channel": "c", "from": str(T0), "to": str(T0 + 60_000), "min_confidence": "60"}
    series = api.series(query, ["c"])["series"]
    assert sum(row["positive"] + row["neutral"] + row["negative"] for row in series) == 2


@pytest.mark.parametrize("value", ["-1", "101", "0.6", "high"])
def test_a_bad_floor_is_refused(store: Store, value: str) -> None:
    with pytest.raises(BadRequest, match="min_confidence"):
        overview(store, min_confidence=value)
