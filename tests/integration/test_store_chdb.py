"""The store on real chDB: migrations, idempotent sink, exact aggregates, moderation, spool.

Each test opens its own data folder (chDB allows one open folder per process, so every store
is closed at the end of its test).
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from chatpulse.config import StoreSettings
from chatpulse.errors import StoreError
from chatpulse.events import ChatEvent, MessageEvent, Sentiment
from chatpulse.irc.twitch import parse_line
from chatpulse.store import ClickHouseSink, Store, migrations, open_store
from chatpulse.store import clickhouse as backends
from chatpulse.store.migrations import load_migrations

T0 = 1_568_505_600_000  # 2019-09-15T00:00:00Z


@pytest.fixture(scope="module")
def xqcow(shared_data: Path) -> list[ChatEvent]:
    # Read with gzip directly: iter_lines leaves the raw file of a .gz open (reported), and
    # pytest turns the ResourceWarning into an error.
    with gzip.open(shared_data / "replay" / "xqcow-2019-09-15.irc.gz", "rt", encoding="utf-8") as f:
        return [parse_line(line.rstrip("\r\n"), T0, "replay") for line in f if line.strip()]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(StoreSettings(dsn=f"chdb://{tmp_path / 'db'}"))
    opened.migrate()
    yield opened
    opened.close()


def _sink(store: Store, tmp_path: Path, **kwargs: Any) -> ClickHouseSink:
    return ClickHouseSink(store, spool_dir=tmp_path / "spool", retry_base_s=0.0, **kwargs)


def _one(store: Store, sql: str) -> Any:
    return next(iter(store.query(sql)[0].values()))


class RecordingStore:
    """A real chDB store that also notes every statement it runs (a spy, not a fake)."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.commands: list[str] = []

    def query(self, sql: str, params: Any = None) -> list[dict[str, Any]]:
        return self.inner.query(sql, params)

    def command(self, sql: str, params: Any = None) -> None:
        self.commands.append(sql)
        self.inner.command(sql, params)


class ProtocolOnlyStore:
    """A real chDB store seen only through the Store protocol (no Arrow calls), as the sink sees
    a ClickHouse server."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner

    def migrate(self) -> int:
        return self.inner.migrate()

    def insert(self, table: str, columns: Any) -> None:
        self.inner.insert(table, columns)

    def query(self, sql: str, params: Any = None) -> list[dict[str, Any]]:
        return self.inner.query(sql, params)

    def command(self, sql: str, params: Any = None) -> None:
        self.inner.command(sql, params)

    def close(self) -> None:
        self.inner.close()


def test_migrations_from_empty_then_repeated_change_nothing(tmp_path: Path) -> None:
    store = open_store(StoreSettings(dsn=f"chdb://{tmp_path / 'db'}"))
    try:
        latest = max(m.version for m in load_migrations())
        assert store.migrate() == latest
        tables = store.query("SELECT name, create_table_query FROM system.tables "
                             "WHERE database = currentDatabase() ORDER BY name")  # fmt: skip
        assert {"chat_messages", "chat_events", "chat_emotes", "chat_minute", "chat_emote_minute"} <= {
            t["name"] for t in tables
        }
        assert store.migrate() == latest
        assert store.query("SELECT name, create_table_query FROM system.tables "
                           "WHERE database = currentDatabase() ORDER BY name") == tables  # fmt: skip
        assert _one(store, "SELECT count() FROM chatpulse_schema FINAL") == latest
    finally:
        store.close()


def test_schema_files_run_verbatim_and_both_backends_share_them(tmp_path: Path) -> None:
    store = open_store(StoreSettings(dsn=f"chdb://{tmp_path / 'db'}"))
    try:
        spy = RecordingStore(store)
        migrations.migrate(spy)  # type: ignore[arg-type]
        files = sorted((Path(migrations.__file__).parent / "schema").glob("*.sql"))
        expected = [s for f in files for s in migrations.split_statements(f.read_text(encoding="utf-8"))]
        ddl = [c for c in spy.commands if not c.startswith("INSERT INTO chatpulse_schema")]
        assert ddl == expected
        # The server backend migrates with the very same function, hence the same files.
        assert backends.ServerStore.migrate.__code__.co_names == backends.ChdbStore.migrate.__code__.co_names
    finally:
        store.close()


def test_retention_ttl_is_applied_once_and_removable(tmp_path: Path) -> None:
    dsn = f"chdb://{tmp_path / 'db'}"
    store = open_store(StoreSettings(dsn=dsn, ttl_days=30))
    try:
        store.migrate()
        assert migrations.apply_retention(store, 30) == []  # already in place: nothing to do
        engine = _one(store, "SELECT engine_full FROM system.tables WHERE name = 'chat_messages' "
                             "AND database = currentDatabase()")  # fmt: skip
        assert "toIntervalDay(30)" in engine
        assert sorted(migrations.apply_retention(store, None)) == sorted(migrations.RETENTION_COLUMNS)
    finally:
        store.close()


def test_replaying_the_same_events_twice_leaves_one_copy(
    store: Store, tmp_path: Path, xqcow: list[ChatEvent]
) -> None:
    sink = _sink(store, tmp_path, batch_size=1500)
    sink.add(xqcow)
    sink.flush()
    first = _figures(store)
    sink.add(xqcow[:2500])  # an overlapping redelivery ...
    sink.add(xqcow)  # ... and a full replay
    sink.close()
    assert _figures(store) == first
    messages = sum(1 for e in xqcow if e.kind == "message")
    assert first["messages"] == first["distinct_ids"] == messages
    assert sink.stats.rows_written == messages
    assert sink.stats.duplicates >= len(xqcow)
    assert sink.stats.store_checks == 0  # every replayed row was remembered: no store lookups
    # A new sink (a restarted process) replaying the file again adds nothing either.
    again = _sink(store, tmp_path)
    again.add(xqcow)
    again.close()
    assert again.stats.rows_written == 0
    assert _figures(store) == first


def _figures(store: Store) -> dict[str, Any]:
    return store.query("""
        SELECT (SELECT count() FROM chat_messages FINAL) AS messages,
               (SELECT uniqExact(id) FROM chat_messages) AS distinct_ids,
               (SELECT count() FROM chat_messages FINAL WHERE deleted) AS deleted,
               (SELECT count() FROM chat_events) AS events,
               (SELECT count() FROM chat_emotes) AS emotes,
               (SELECT countMerge(messages) FROM chat_minute) AS agg_messages,
               (SELECT countMerge(deleted_messages) FROM chat_minute) AS agg_deleted,
               (SELECT countMerge(uses) FROM chat_emote_minute) AS agg_emotes
    """)[0]


def test_minute_aggregates_equal_figures_recomputed_from_base_tables(
    store: Store, tmp_path: Path, xqcow: list[ChatEvent]
) -> None:
    sink = _sink(store, tmp_path, batch_size=700)  # several batches: states merge across parts
    sink.add(_with_some_sentiment(xqcow))
    sink.add(xqcow[1000:3000])  # duplicates must not reach the views
    sink.close()
    from_views = store.query("""
        SELECT channel, toUnixTimestamp(minute) AS m, countMerge(messages) AS messages,
               uniqMerge(chatters) AS chatters, round(avgMerge(sentiment_mean), 5) AS mean,
               sumMerge(positive) AS pos, sumMerge(neutral) AS neu, sumMerge(negative) AS neg,
               sumMerge(bits_sum) AS bits, countMerge(deleted_messages) AS deleted,
               countMerge(subs) AS subs
        FROM chat_minute GROUP BY channel, m ORDER BY channel, m""")
    recomputed = store.query("""
        SELECT channel, m, messages, chatters, mean, pos, neu, neg, bits, deleted,
               ifNull(s.subs, 0) AS subs
        FROM (SELECT channel, toUnixTimestamp(toStartOfMinute(sent_at)) AS m, count() AS messages,
                     uniq(user_login) AS chatters, round(avg(sentiment_score), 5) AS mean,
                     countIf(sentiment_label = 'positive') AS pos,
                     countIf(sentiment_label = 'neutral') AS neu,
                     countIf(sentiment_label = 'negative') AS neg, sum(bits) AS bits,
                     countIf(deleted) AS deleted
              FROM chat_messages FINAL GROUP BY channel, m) AS b
        LEFT JOIN (SELECT channel, toUnixTimestamp(toStartOfMinute(sent_at)) AS m, count() AS subs
                   FROM chat_events FINAL
                   WHERE kind = 'usernotice' AND notice_type IN ('sub', 'resub', 'subgift')
                   GROUP BY channel, m) AS s USING (channel, m)
        ORDER BY channel, m""",
        {},
    )  # fmt: skip
    assert len(from_views) >= 8 and from_views == recomputed
    assert sum(r["messages"] for r in from_views) == sum(1 for e in xqcow if e.kind == "message")
    assert sum(r["deleted"] for r in from_views) > 0  # the capture's timeouts were applied
    assert sum(r["subs"] for r in from_views) == 9
    assert sum(r["bits"] for r in from_views) > 0
    emotes_views = store.query("SELECT emote_name, countMerge(uses) AS n FROM chat_emote_minute "
                               "GROUP BY emote_name ORDER BY emote_name")  # fmt: skip
    emotes_base = store.query("SELECT emote_name, count() AS n FROM chat_emotes FINAL "
                              "GROUP BY emote_name ORDER BY emote_name")  # fmt: skip
    assert emotes_views == emotes_base and len(emotes_base) > 20


def _with_some_sentiment(events: Sequence[ChatEvent]) -> list[ChatEvent]:
    labels = ("positive", "neutral", "negative")
    out: list[ChatEvent] = []
    for i, event in enumerate(events):
        if isinstance(event, MessageEvent) and i % 3:
            label = labels[i % 3]
            score = {"positive": 0.75, "neutral": 0.0, "negative": -0.5}[label]
            event = MessageEvent(**{**_fields(event), "sentiment": Sentiment(label, score, 0.8, "t@1")})  # type: ignore[arg-type]
        out.append(event)
    return out


def _fields(event: MessageEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in event.__dataclass_fields__}


def _privmsg(login: str, msg_id: str, at: int, text: str = "hello") -> str:
    return (f"@id={msg_id};room-id=1;tmi-sent-ts={at};user-id=9 "
            f":{login}!{login}@{login}.tmi.twitch.tv PRIVMSG #chan :{text}")  # fmt: skip


def test_moderation_marks_the_right_messages(store: Store, tmp_path: Path) -> None:
    lines = [
        _privmsg("alice", "a1", T0),
        _privmsg("alice", "a2", T0 + 1000),
        _privmsg("bob", "b1", T0 + 2000),
        _privmsg("bob", "b2", T0 + 3000),
        _privmsg("carol", "c1", T0 + 4000),
        _privmsg("dave", "d-old", T0 - 3_600_000),  # an hour earlier: outside the ban window
        _privmsg("dave", "d1", T0 + 5000),
        f"@login=alice;room-id=1;target-msg-id=a2;tmi-sent-ts={T0 + 6000} :tmi.twitch.tv CLEARMSG #chan :x",
        f"@ban-duration=600;room-id=1;target-user-id=7;tmi-sent-ts={T0 + 7000} "
        ":tmi.twitch.tv CLEARCHAT #chan :bob",
        f"@room-id=1;target-user-id=8;tmi-sent-ts={T0 + 8000} :tmi.twitch.tv CLEARCHAT #chan :dave",
        f"@room-id=1;tmi-sent-ts={T0 + 9000} :tmi.twitch.tv CLEARCHAT #chan",  # whole-chat clear
        _privmsg("bob", "b3", T0 + 10_000),  # after the timeout: stays
    ]  # fmt: skip
    events = [parse_line(line, T0, "replay") for line in lines]
    sink = _sink(store, tmp_path)
    sink.add(events[:7])
    sink.flush()  # messages stored in an earlier batch than their moderation
    sink.add(events[7:])
    sink.add(events[7:])  # moderation replayed: no second marker
    sink.close()
    rows = store.query("SELECT id, deleted, deleted_by FROM chat_messages FINAL ORDER BY id")
    state = {r["id"]: (r["deleted"], r["deleted_by"]) for r in rows}
    assert state == {
        "a1": (False, ""), "a2": (True, "clearmsg"), "b1": (True, "timeout"), "b2": (True, "timeout"),
        "b3": (False, ""), "c1": (False, ""), "d-old": (False, ""), "d1": (True, "ban"),
    }  # fmt: skip
    assert _one(store, "SELECT countMerge(deleted_messages) FROM chat_minute") == 4
    assert _one(store, "SELECT countMerge(messages) FROM chat_minute") == 8


def test_a_failing_store_loses_nothing_once_it_works_again(
    store: Store, tmp_path: Path, xqcow: list[ChatEvent]
) -> None:
    sink = _sink(store, tmp_path, batch_size=1000, retry_attempts=2, spool_retry_s=0.0)
    sink.add(xqcow[:1500])
    sink.flush()
    store.close()  # the store breaks mid-run
    sink.add(xqcow[1500:3500])
    sink.flush()
    assert sink.stats.failed_batches >= 1 and sink.stats.retries >= 1
    assert sink.stats.spooled_rows == 2000 and sink.stats.spool_pending >= 2
    assert "closed" in sink.stats.last_error
    sink.add(xqcow[3500:])  # still broken: spooled behind the older batches, in order
    sink.flush()
    assert sink.stats.spooled_rows == len(xqcow) - 1500
    # The process restarts: the store works again and a new sink finds the spool on disk.
    reopened = open_store(StoreSettings(dsn=f"chdb://{tmp_path / 'db'}"))
    try:
        again = _sink(reopened, tmp_path)
        assert again.stats.spool_pending >= 3
        again.close()
        assert again.stats.spool_pending == 0 and again.stats.spool_replayed_batches >= 3
        assert not list((tmp_path / "spool").glob("*.arrows"))
        figures = _figures(reopened)
        messages = sum(1 for e in xqcow if e.kind == "message")
        assert figures["messages"] == figures["distinct_ids"] == figures["agg_messages"] == messages
        assert figures["agg_deleted"] == figures["deleted"] > 0
    finally:
        reopened.close()


def test_an_unwritable_spool_keeps_the_batch_and_says_so(
    store: Store, tmp_path: Path, xqcow: list[ChatEvent]
) -> None:
    blocker = tmp_path / "spool"
    blocker.write_text("a file where the spool folder should be", encoding="utf-8")
    sink = _sink(store, tmp_path, retry_attempts=1)
    store.close()
    sink.add(xqcow[:100])
    with pytest.raises(StoreError, match="spool"):
        sink.flush()
    blocker.unlink()
    sink.flush()  # the spool is writable again: the kept batch goes there
    assert sink.stats.spooled_rows == 100


def test_a_background_write_that_cannot_even_spool_fails_a_later_add_and_loses_nothing(
    store: Store, tmp_path: Path, xqcow: list[ChatEvent]
) -> None:
    messages = [e for e in xqcow if e.kind == "message"][:300]
    blocker = tmp_path / "spool"
    blocker.write_text("a file where the spool folder should be", encoding="utf-8")
    sink = _sink(store, tmp_path, batch_size=100, retry_attempts=1)
    store.close()
    sink.add(messages[:100])  # handed to the writer thread; add returns before it fails
    with pytest.raises(StoreError, match="spool"):
        sink.add(messages[100:300])  # waits for the writer before handing over the next batch
    blocker.unlink()
    sink.flush()
    assert sink.stats.spooled_rows == 300  # the failed batch and everything after it, once each
    assert sink.stats.rows_written == 0


# --- the columnar sink path: fixed Arrow schemas, bounded memory, moderation, old spool files ---


def test_the_fixed_arrow_schemas_match_the_migrated_tables(store: Store) -> None:
    from chatpulse.store.clickhouse import arrow_type
    from chatpulse.store.rows import MARKER_SCHEMA, TABLE_SCHEMAS

    for table, schema in {**TABLE_SCHEMAS, "chat_messages (marker)": MARKER_SCHEMA}.items():
        name = table.split()[0]
        types = {r["name"]: r["type"] for r in store.query(
            "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = {t:String}",
            {"t": name},
        )}  # fmt: skip
        assert {f.name: f.type for f in schema} == {n: arrow_type(types[n]) for n in schema.names}


def test_a_sink_that_remembers_little_still_drops_every_replayed_row(
    store: Store, tmp_path: Path, xqcow: list[ChatEvent]
) -> None:
    sink = _sink(store, tmp_path, batch_size=500, memory_keys=300)
    sink.add(xqcow)
    sink.flush()
    first = _figures(store)
    sink.add(xqcow[1000:4000])  # mostly forgotten by now: the store has to say
    sink.close()
    assert sink.stats.store_checks >= 1
    assert _figures(store) == first
    assert first["messages"] == first["agg_messages"] == sum(1 for e in xqcow if e.kind == "message")


def test_live_chat_is_written_without_asking_the_store(
    store: Store, tmp_path: Path, xqcow: list[ChatEvent]
) -> None:
    sink = _sink(store, tmp_path, batch_size=1000)
    sink.add(xqcow)
    sink.close()
    assert sink.stats.store_checks == 0  # every batch newer than what the store held
    assert sink.stats.rows_written == sum(1 for e in xqcow if e.kind == "message")


def test_moderation_in_memory_and_through_the_store_mark_the_same_messages(
    tmp_path: Path, xqcow: list[ChatEvent]
) -> None:
    def deleted(folder: str, server_like: bool = False, **kwargs: Any) -> list[dict[str, Any]]:
        opened = open_store(StoreSettings(dsn=f"chdb://{tmp_path / folder}"))
        try:
            opened.migrate()
            target: Store = ProtocolOnlyStore(opened) if server_like else opened
            sink = ClickHouseSink(target, spool_dir=tmp_path / f"{folder}.spool", **kwargs)
            sink.add(xqcow)
            sink.close()
            return opened.query("SELECT id, deleted_by, deleted_at FROM chat_messages FINAL "
                                "WHERE deleted ORDER BY id")  # fmt: skip
        finally:
            opened.close()

    # One big batch: targets are found in the batch itself. Batches of 50 rows, sharing the
    # store with nobody assumed: every target is looked up in the store, by a SELECT whose
    # markers join the batch's INSERT (chDB), or by INSERT ... SELECT (a store without Arrow
    # calls, as a ClickHouse server is).
    in_memory = deleted("one", batch_size=10_000)
    through_store = deleted("many", batch_size=50, exclusive=False)
    through_statements = deleted("server", server_like=True, batch_size=50)
    assert len(in_memory) > 0
    assert in_memory == through_store == through_statements


def test_a_closed_sink_refuses_events_and_flushing_it_again_is_harmless(
    store: Store, tmp_path: Path, xqcow: list[ChatEvent]
) -> None:
    sink = _sink(store, tmp_path, batch_size=500)
    sink.add(xqcow[:2000])
    sink.close()
    written = sink.stats.rows_written
    assert written == sum(1 for e in xqcow[:2000] if e.kind == "message")
    sink.flush()
    sink.poll()
    sink.close()
    with pytest.raises(StoreError, match="closed"):
        sink.add(xqcow[2000:2100])
    assert sink.stats.rows_written == written


def test_rows_the_store_refuses_are_set_aside_and_chat_behind_them_is_stored(
    store: Store, tmp_path: Path, xqcow: list[ChatEvent]
) -> None:
    import pyarrow as pa

    from chatpulse.stages import store_rows

    good = store_rows(xqcow[:1000])
    # A count ClickHouse cannot parse: the rows are wrong, not the store (CANNOT_PARSE_TEXT).
    rows = good.messages.slice(0, 5)
    broken = rows.set_column(
        rows.schema.get_field_index("emote_count"), "emote_count", pa.array(["many"] * 5)
    )
    sink = _sink(store, tmp_path, retry_attempts=3)
    sink.add_batch(type(good)(broken, good.emotes.slice(0, 0), good.events.slice(0, 0)))
    sink.flush()
    sink.add(xqcow[1000:2000])
    sink.flush()
    assert sink.stats.rejected_batches == 1 and sink.stats.retries == 0  # not retried
    assert sink.stats.spool_pending == 0  # nothing waits behind it
    assert len(list((tmp_path / "spool" / "rejected").glob("*.arrows"))) == 1  # kept for a human
    stored = _one(store, "SELECT uniqExact(id) FROM chat_messages")
    assert stored == sum(1 for e in xqcow[1000:2000] if e.kind == "message")


def test_a_message_found_not_english_is_stored_with_its_language_and_left_out_of_the_mood(
    store: Store, tmp_path: Path
) -> None:
    def message(key: str, verdict: Sentiment) -> MessageEvent:
        return MessageEvent(received_at=T0, source="irc", channel="c", sent_at=T0, id=key,
                            user_login="u", text="x", sentiment=verdict)  # fmt: skip

    sink = _sink(store, tmp_path)
    sink.add([
        message("en", Sentiment("positive", 0.8, 0.9, "lexicon@2")),
        message("sv", Sentiment("neutral", 0.0, 0.33, "lexicon@2", lang="sv")),
    ])  # fmt: skip
    sink.close()
    stored = store.query(
        "SELECT id, sentiment_label, sentiment_score, sentiment_model, sentiment_lang FROM chat_messages"
    )
    rows = {r["id"]: r for r in stored}
    assert rows["sv"]["sentiment_lang"] == "sv" and rows["sv"]["sentiment_label"] == ""
    assert rows["sv"]["sentiment_score"] is None and rows["sv"]["sentiment_model"] == "lexicon@2"
    assert rows["en"]["sentiment_lang"] == "" and rows["en"]["sentiment_label"] == "positive"
    mood = store.query(
        "SELECT countMerge(messages) AS n, sumMerge(neutral) AS neutral, sumMerge(positive) AS positive, "
        "avgMerge(sentiment_mean) AS mean FROM chat_minute"
    )[0]
    assert mood["n"] == 2  # still counted as chat ...
    assert mood["neutral"] == 0 and mood["positive"] == 1  # ... but not as mood
    assert abs(mood["mean"] - 0.8) < 1e-6
