"""enrich_events and create_analyzer: what the pipeline stages rely on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chatpulse.config import SentimentSettings
from chatpulse.errors import ModelError
from chatpulse.events import ClearChatEvent, MessageEvent, UserNoticeEvent
from chatpulse.sentiment import create_analyzer, enrich_events
from chatpulse.sentiment.batching import iter_batches
from chatpulse.wire import dumps, loads


def test_messages_get_sentiment_and_other_events_pass_unchanged() -> None:
    events = [
        MessageEvent(received_at=1, source="replay", text="W streamer"),
        ClearChatEvent(received_at=2, source="replay", target_user_login="someone"),
        UserNoticeEvent(received_at=3, source="replay", notice_type="resub", text="love this stream"),
        UserNoticeEvent(received_at=4, source="replay", notice_type="raid", text=""),
        MessageEvent(kind="whisper", received_at=5, source="irc", text="L take"),
        MessageEvent(received_at=6, source="replay", text="L take"),
    ]
    out = enrich_events(events, create_analyzer(SentimentSettings()))
    assert [e.received_at for e in out] == [1, 2, 3, 4, 5, 6]
    assert isinstance(out[0], MessageEvent) and out[0].sentiment is not None
    assert out[0].sentiment.label == "positive"
    assert out[1] is events[1] and out[3] is events[3] and out[4] is events[4]
    assert isinstance(out[2], UserNoticeEvent) and out[2].sentiment is not None
    assert out[2].sentiment.label == "positive"
    assert isinstance(out[5], MessageEvent) and out[5].sentiment is not None
    assert out[5].sentiment.label == "negative"
    assert loads(dumps(out[2])) == out[2]  # the notice's sentiment survives the wire


def test_create_analyzer_reports_a_missing_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    settings = SentimentSettings(analyzer="transformer", model="nobody/missing-model")
    with pytest.raises(ModelError, match="chatpulse models download nobody/missing-model"):
        create_analyzer(settings)


def test_batches_by_size_keep_every_item_in_order() -> None:
    batches = list(iter_batches(iter(range(10)), size=4, max_age_s=10.0))
    assert batches == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_a_quiet_stream_releases_a_batch_by_age() -> None:
    import threading

    gate = threading.Event()

    def slow() -> Iterator[str]:
        yield "first"
        gate.wait(5.0)  # the source goes quiet until the first batch has come out
        yield "second"

    batches = iter_batches(slow(), size=100, max_age_s=0.05)
    assert next(batches) == ["first"]
    gate.set()
    assert list(batches) == [["second"]]


def test_a_failing_source_delivers_what_it_read_then_raises() -> None:
    def broken() -> Iterator[int]:
        yield 1
        raise OSError("disk gone")

    batches = iter_batches(broken(), size=10, max_age_s=10.0)
    assert next(batches) == [1]
    with pytest.raises(OSError, match="disk gone"):
        next(batches)
