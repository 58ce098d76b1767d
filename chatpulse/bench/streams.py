"""``chatpulse bench streams``: recaps and stream recomputes at scale, and what keeping the
``streams`` table current costs ``run``.

1. ``messages`` (default 10,000,000; ``--quick`` 1,000,000) messages of one channel in one
   8-hour stream, generated inside chDB (``INSERT ... SELECT FROM numbers()`` in 1M-row steps,
   materialized views included), with an emote in every third message and subs, gift bombs,
   raids, cheers and bans; plus the same again for a second channel 2 days earlier (so the
   recap has a previous stream to compare with).
   - recompute: every channel's chat sessions from the stored chat
     (:func:`chatpulse.streams.recompute.recompute_all`), as ``streams --recompute`` does;
   - recap: what ``chatpulse recap --output`` does after opening the store: list the streams,
     build the recap of the 10M-message stream, render the HTML and write it.
2. ``run`` with and without the stream keeper (:mod:`chatpulse.streams.keeper`): the embedded
   pipeline on ``lines`` synthetic lines (default 600,000), rounds alternating which goes
   first; the keeper runs a pass every ``interval_s`` (default ``streams.update_interval_s``,
   30 s) and once more at the end. Reported: both sustained rates, their ratio, and the
   keeper's time (passes, including waits for the store's lock, plus noting batches) as a
   share of the run's wall time. The A/B ratio moves by several percent between runs on a
   shared 2-core machine.

Options: ``--opt messages=N --opt lines=N --opt rounds=N --opt interval_s=S`` (``messages=0``
or ``lines=0`` skips part 1 or 2).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Final

from chatpulse.bench import BenchOptions, Measurement
from chatpulse.config import SentimentSettings, StoreSettings, StreamSettings
from chatpulse.recap.build import build_recap
from chatpulse.recap.html import render_html
from chatpulse.run.embedded import Pipeline, PipelineConfig, default_workers
from chatpulse.sources.synthetic.chat import SyntheticSource
from chatpulse.store import ClickHouseSink, Store, open_store
from chatpulse.streams.keeper import StreamKeeper, with_streams
from chatpulse.streams.listing import channel_streams, find_stream
from chatpulse.streams.recompute import recompute_all

TARGET_RECAP_S: Final = 10.0
TARGET_RECOMPUTE_S: Final = 30.0
TARGET_RUN_COST: Final = 0.05
STREAM_MS: Final = 8 * 3_600_000
STEP: Final = 1_000_000
START_MS: Final = 1_767_225_600_000  # 2026-01-01 00:00 UTC

_MESSAGES = """
INSERT INTO chat_messages (id, channel, channel_id, sent_at, received_at, source, user_id,
    user_login, user_name, text, badges, bits, emote_count, sentiment_label, sentiment_score,
    sentiment_confidence, sentiment_model)
SELECT
    concat({channel:String}, '-', toString(number)) AS id, {channel:String}, '1',
    fromUnixTimestamp64Milli(toInt64({start:Int64} + intDiv(number * {span:UInt64}, {n:UInt64})), 'UTC')
        AS sent_at,
    sent_at, 'synthetic', toString(cityHash64(number) % 150000) AS user_id,
    concat('user', user_id), concat('User', user_id),
    ['KEKW', 'PogChamp what a play', 'W', 'LUL LUL', 'gg', 'this is so bad', 'Kappa'][number % 7 + 1],
    map(), if(number % 9973 = 0, 100, 0), toUInt16(number % 3 = 0),
    ['positive', 'neutral', 'negative'][number % 3 + 1],
    toFloat32([0.6, 0.0, -0.6][number % 3 + 1] + (number % 11) / 100), toFloat32(0.8), 'lexicon@2'
FROM numbers({offset:UInt64}, {count:UInt64})
"""
_EMOTES = """
INSERT INTO chat_emotes (channel, sent_at, message_id, position, emote_id, emote_name, provider, user_login)
SELECT {channel:String},
    fromUnixTimestamp64Milli(toInt64({start:Int64} + intDiv(number * {span:UInt64}, {n:UInt64})), 'UTC'),
    concat({channel:String}, '-', toString(number)), 0, toString(25 + number % 40),
    concat('Emote', toString(number % 40)), 'twitch', concat('user', toString(cityHash64(number) % 150000))
FROM numbers({offset:UInt64}, {count:UInt64}) WHERE number % 3 = 0
"""
_EVENTS = """
INSERT INTO chat_events (event_key, kind, channel, channel_id, sent_at, received_at, source, notice_type,
    user_login, target_user_login, ban_duration, system_text, params)
SELECT concat({channel:String}, '-ev-', toString(number)),
    if(number % 10 = 9, 'clearchat', 'usernotice'), {channel:String}, '1',
    fromUnixTimestamp64Milli(toInt64({start:Int64} + intDiv(number * {span:UInt64}, {events:UInt64})), 'UTC')
        AS t, t, 'synthetic',
    multiIf(number % 10 = 9, if(number % 20 = 19, 'ban', 'timeout'), number % 50 = 1, 'submysterygift',
            number % 97 = 2, 'raid', number % 4 = 0, 'subgift', 'sub'),
    concat('user', toString(number)), if(number % 10 = 9, concat('user', toString(number + 7)), ''),
    if(number % 10 = 9 AND number % 20 != 19, toUInt32(600), NULL), 'subscribed',
    map('mass-gift-count', '20', 'viewerCount', '1500', 'login', 'raider')
FROM numbers({events:UInt64})
"""


def generate(store: Store, channel: str, start_ms: int, messages: int) -> None:
    """``messages`` messages of ``channel`` from ``start_ms`` over 8 hours, emotes and events."""
    for offset in range(0, messages, STEP):
        params = {"channel": channel, "start": start_ms, "span": STREAM_MS, "n": messages,
                  "offset": offset, "count": min(STEP, messages - offset)}  # fmt: skip
        store.command(_MESSAGES, params)
        store.command(_EMOTES, params)
    store.command(_EVENTS, {"channel": channel, "start": start_ms, "span": STREAM_MS, "events": 20_000})


def _scale(folder: Path, messages: int) -> list[Measurement]:
    store = open_store(StoreSettings(dsn=f"chdb://{folder / 'scale'}"))
    try:
        store.migrate()
        started = time.perf_counter()
        generate(store, "bench", START_MS, messages)
        generate(store, "bench", START_MS - 2 * 86_400_000, messages // 10)  # the previous stream
        made = time.perf_counter() - started
        now = START_MS + 30 * 86_400_000
        started = time.perf_counter()
        found = recompute_all(store, 30.0, now)
        recompute_s = time.perf_counter() - started
        started = time.perf_counter()
        streams = channel_streams(store, "bench", 30.0, now)
        stream = find_stream(streams, "latest")
        if stream is None:
            raise RuntimeError("bench streams: the generated stream is missing")
        recap = build_recap(store, stream, streams, now)
        (folder / "recap.html").write_text(render_html(recap), encoding="utf-8")
        recap_s = time.perf_counter() - started
    finally:
        store.close()
    stored = sum(s.figures.messages for rows in found.values() for s in rows)
    note = f"{stored:,} messages stored, generated in {made:.0f} s"
    shown = recap["summary"]["messages"]
    return [
        Measurement("streams", "recompute every chat session from stored chat", recompute_s, "s",
                    f"< {TARGET_RECOMPUTE_S:.0f}", recompute_s < TARGET_RECOMPUTE_S, note),
        Measurement("streams", "recap of one stream, HTML written", recap_s, "s", f"< {TARGET_RECAP_S:.0f}",
                    recap_s < TARGET_RECAP_S, f"{shown:,}-message stream, {len(recap['events']):,} events"),
    ]  # fmt: skip


async def _run_once(store: Store, spool: Path, lines: int, keeper: StreamKeeper | None, seed: int) -> float:
    """Sustained msgs/s of the embedded pipeline (from the first flush), with or without ``keeper``."""
    inner = ClickHouseSink(store, batch_size=100_000, max_age_s=5.0, spool_dir=spool)
    source = SyntheticSource(channels=[f"run{seed}_{i}" for i in range(8)], rate=None, seed=seed, limit=lines)
    pipeline = Pipeline(source, with_streams(inner, keeper), SentimentSettings(),
                        PipelineConfig(workers=default_workers()))  # fmt: skip
    started = time.perf_counter()
    first: tuple[float, int] | None = None

    async def watch() -> None:
        nonlocal first
        while first is None:
            if pipeline.counters.stored:
                first = (time.perf_counter(), pipeline.counters.stored)
            await asyncio.sleep(0.01)

    watcher = asyncio.create_task(watch())
    counters = await pipeline.run()
    ended = time.perf_counter()
    watcher.cancel()
    steady_from, first_rows = first or (started, 0)
    return (counters.stored - first_rows) / max(ended - steady_from, 1e-9)


def _run_cost(folder: Path, lines: int, rounds: int, interval_s: float) -> list[Measurement]:
    store = open_store(StoreSettings(dsn=f"chdb://{folder / 'run'}"))
    plain: list[float] = []
    kept: list[float] = []
    shares: list[float] = []
    try:
        store.migrate()
        for number in range(rounds):
            for with_keeper in (False, True) if number % 2 == 0 else (True, False):
                keeper = StreamKeeper(store, 30.0, interval_s) if with_keeper else None
                started = time.perf_counter()
                seed = 100 + 2 * number + int(with_keeper)
                rate = asyncio.run(_run_once(store, folder / f"spool{seed}", lines, keeper, seed))
                wall = time.perf_counter() - started
                if keeper is None:
                    plain.append(rate)
                else:
                    kept.append(rate)
                    shares.append((keeper.busy_s + keeper.note_s) / wall)
    finally:
        store.close()
    base, with_keeper_rate = statistics.median(plain), statistics.median(kept)
    share = statistics.median(shares)
    note = f"{lines:,} lines x {rounds} rounds, a pass every {interval_s:g} s"
    return [
        Measurement("streams", "run without the stream keeper, sustained", base, "msgs/s", note=note),
        Measurement("streams", "run with the stream keeper, sustained", with_keeper_rate, "msgs/s",
                    note=note),
        Measurement("streams", "run with / without the keeper", with_keeper_rate / base, "ratio",
                    note="A/B of whole runs: moves by several % between runs here"),
        Measurement("streams", "keeper's own time / run wall time", share, "ratio", f"< {TARGET_RUN_COST}",
                    share < TARGET_RUN_COST, "passes (lock waits included) + noting batches"),
    ]  # fmt: skip


def run(options: BenchOptions) -> list[Measurement]:
    messages = int(options.extra.get("messages", 1_000_000 if options.quick else 10_000_000))
    lines = int(options.extra.get("lines", 100_000 if options.quick else 600_000))
    rounds = int(options.extra.get("rounds", 1 if options.quick else 2))
    interval_s = float(options.extra.get("interval_s", StreamSettings().update_interval_s))
    with tempfile.TemporaryDirectory(prefix="chatpulse-bench-streams-") as folder:
        results = _scale(Path(folder), messages) if messages else []
        if lines:
            results += _run_cost(Path(folder), lines, rounds, interval_s)
    return results
