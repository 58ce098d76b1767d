"""The Kafka stages read records as partial views: what they store and score must not change."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import cast

import pytest

from chatpulse.errors import WireFormatError
from chatpulse.events import ChatEvent, MessageEvent, Sentiment
from chatpulse.irc.twitch import parse_line
from chatpulse.metrics import StageMetrics, StageSnapshot
from chatpulse.sentiment.base import MessageLike
from chatpulse.sentiment.lexicon import LexiconAnalyzer
from chatpulse.services.enrich import decode_scoring
from chatpulse.services.sink import SinkStage, decode_stored
from chatpulse.sources.replay import iter_lines
from chatpulse.store.rows import build_batch, split_events, store_batch
from chatpulse.wire import dumps_bytes, loads
from chatpulse.wire_views import MessageView, ScoringView

VERDICT = Sentiment(label="negative", score=-0.25, confidence=0.5, model="lexicon@1")


def _capture_records(shared_data: Path) -> list[bytes]:
    """The xqcow capture as enriched records: every third message carries a verdict."""
    values = []
    for n, line in enumerate(iter_lines(shared_data / "replay" / "xqcow-2019-09-15.irc.gz")):
        event: ChatEvent = parse_line(line, 1_568_505_600_000 + n, "irc")
        if isinstance(event, MessageEvent) and n % 3 == 0:
            event = dataclasses.replace(event, sentiment=VERDICT)
        values.append(dumps_bytes(event))
    return values


def test_the_sink_stores_the_same_rows_from_views_as_from_events(shared_data: Path) -> None:
    values = _capture_records(shared_data)
    records = [decode_stored(value) for value in values]
    assert sum(isinstance(r, MessageView) for r in records) > 4000  # the fast path was taken
    from_views = store_batch(records)
    messages, kept, skipped = split_events([loads(value) for value in values])
    from_events = build_batch(messages, kept, skipped=skipped)
    assert from_views.messages.num_rows > 4000 and from_views.emotes.num_rows > 1000
    assert from_views.messages.equals(from_events.messages)
    assert from_views.emotes.equals(from_events.emotes)
    assert from_views.events.equals(from_events.events)
    assert from_views.skipped == from_events.skipped


def test_the_lexicon_scores_views_as_it_scores_events(shared_data: Path) -> None:
    values = _capture_records(shared_data)
    scoring = [decode_scoring(value) for value in values]
    views = [v for v in scoring if isinstance(v, ScoringView) and v.kind == "message"]
    events = [e for e in map(loads, values) if isinstance(e, MessageEvent) and e.kind == "message"]
    assert len(views) == len(events) > 4000
    assert any(v.emotes for v in views)  # emote spans change how a token is read: they must arrive
    analyzer = LexiconAnalyzer(cache_size=0)
    assert analyzer.analyze(cast("list[MessageLike]", views)) == analyzer.analyze(events)


def test_records_a_view_cannot_take_are_decoded_in_full() -> None:
    line = "@id=7;tmi-sent-ts=1568505600000 :a!a@a.tmi.twitch.tv PRIVMSG #chan :hi there"
    event = parse_line(line, 1_568_505_600_001, "irc")
    # Valid for the event decoder, not for the view: a time with microseconds, bits as text.
    odd = dumps_bytes(event).replace(b'"bits":0', b'"bits":"0"')
    assert isinstance(decode_stored(odd), MessageEvent)
    # A chat message without an id gets a content hash as id: the event path decides.
    no_id = dumps_bytes(dataclasses.replace(event, id=""))  # type: ignore[call-arg]
    assert isinstance(decode_stored(no_id), MessageEvent)
    assert isinstance(decode_stored(dumps_bytes(event)), MessageView)
    micro = dumps_bytes(event).replace(b'.000Z"', b'.000250Z"')  # sent_at with microseconds
    view = decode_stored(micro)
    assert isinstance(view, MessageView)
    stored = store_batch([view]).messages.column("sent_at").cast("int64").to_pylist()
    assert stored == [1_568_505_600_000]  # as the event decoder reads it (rounded to the ms)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (b'{"schema": 1, "kind": "message", "received_at": ', "not JSON"),
        (b'{"schema": 2, "kind": "message", "received_at": "2019-09-15T00:00:00.000Z"}', "schema"),
        (b'{"schema": 1, "kind": "shout", "received_at": "2019-09-15T00:00:00.000Z"}', "kind"),
        (b'{"schema": 1, "kind": "message", "source": "irc"}', "received_at"),
    ],
)
def test_a_record_that_is_no_event_is_refused_with_its_reason(value: bytes, error: str) -> None:
    for decode in (decode_stored, decode_scoring):
        with pytest.raises(WireFormatError, match=error):
            decode(value)


def test_a_record_the_store_cannot_hold_is_the_records_fault_not_the_stores() -> None:
    line = "@id=9;bits=5;tmi-sent-ts=1568505600000 :a!a@a.tmi.twitch.tv PRIVMSG #chan :cheer5"
    good = dumps_bytes(parse_line(line, 1_568_505_600_001, "irc"))
    negative = good.replace(b'"bits":5', b'"bits":-5').replace(b'"id":"9"', b'"id":"10"')

    class NothingReachesTheStore:
        def add_batch(self, batch: object) -> None:
            raise AssertionError("a batch with a record the store cannot hold reached the sink")

    stage = SinkStage(NothingReachesTheStore(), StageMetrics("sink", StageSnapshot))  # type: ignore[arg-type]
    with pytest.raises(WireFormatError, match="cannot hold"):  # the consumer dead-letters it
        stage.process([decode_stored(good), decode_stored(negative)], [good, negative])


def test_views_name_only_fields_of_the_events_they_stand_for() -> None:
    # The views repeat the event classes' field names and defaults (the wire's): a field renamed
    # or re-defaulted in one place and not the other would silently store or score defaults.
    import msgspec

    from chatpulse.events import UserNoticeEvent

    for view, classes in ((MessageView, (MessageEvent,)), (ScoringView, (MessageEvent, UserNoticeEvent))):
        for cls in classes:
            defaults = {f.name: f.default for f in dataclasses.fields(cls)}
            for field in msgspec.structs.fields(view):
                if field.name == "schema":
                    continue
                assert field.name in defaults, f"{view.__name__}.{field.name} is no {cls.__name__} field"
                default = field.default
                if default is msgspec.NODEFAULT:
                    continue
                if field.name in ("emotes", "badges"):  # () and {} on the events
                    assert not default and not defaults[field.name]
                elif field.name not in ("sent_at",):  # times: int on events, str on views
                    assert default == defaults[field.name], field.name


def test_a_batch_of_views_leaves_the_garbage_collector_nothing_to_walk(shared_data: Path) -> None:
    # A consumer holds thousands of views per batch; tracked ones made every young collection
    # walk them (about 1.3 us per record, see chatpulse.wire_views). A view class, new or old,
    # built without gc=False shows up here.
    import gc

    values = _capture_records(shared_data)
    for decode in (decode_stored, decode_scoring):
        views = [view for view in map(decode, values) if isinstance(view, (MessageView, ScoringView))]
        assert len(views) > 4000
        assert not any(gc.is_tracked(view) for view in views)
        assert all(not gc.is_tracked(emote) for view in views for emote in view.emotes)
