"""The embedded run's unit of work: a batch of raw lines in, the store's rows out (the core's steps).

:func:`process_batch` runs in a worker process of the pool, or in a thread of ``run`` itself
while one suffices (:mod:`chatpulse.run.pool`); :func:`init_worker` loads the analyzer and the
third-party emote index once per worker.
"""

from __future__ import annotations

import gc
import os
import signal
import threading
import time
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from chatpulse.config import PrivacySettings, SentimentSettings
from chatpulse.emotes import EmoteCache
from chatpulse.events import ChatEvent
from chatpulse.privacy.filter import PrivacyFilter
from chatpulse.sentiment import Analyzer, create_analyzer
from chatpulse.stages import Annotator, RoomIds, latency_reference_ms, parse_lines, score, store_rows
from chatpulse.store.rows import StoreBatch, is_stored_message, warm_up_arrow


@dataclass(frozen=True, slots=True)
class LineBatch:
    """Work for one pool task: raw lines with their receive times, and ready-made events.

    ``lines`` is usually the lines joined by newlines (a raw line has none): one string and one
    array pickle several times faster than thousands of small objects. A batch whose lines do
    contain a newline (possible from a hand-made JSON recording) travels as a list."""

    source: str
    lines: str | list[str]
    received_at: array[int]  # typecode 'q', one per line
    events: list[ChatEvent]
    history: bool  # back-filled chat (Source.in_history): latency is then timed from receipt

    def raw_lines(self) -> list[str]:
        if isinstance(self.lines, list):
            return self.lines
        return self.lines.split("\n") if self.received_at else []


@dataclass(frozen=True, slots=True)
class ProcessedBatch:
    """What a pool task returns: the store's rows as Arrow tables, and a few facts."""

    store: StoreBatch
    origins: list[int]  # per message: the time latency is measured from (ms)
    items: int  # lines and ready-made events taken
    lines: int
    messages: int
    errors: int  # lines that did not parse (ErrorEvents; still stored)
    skipped: int  # events the store does not keep (join, part, ping, ...)
    room_ids: dict[str, str]  # channel login -> Twitch room id, as seen in this batch
    withheld: int = 0  # chat messages of opted-out users, dropped (privacy.opt_out)


_analyzer: Analyzer | None = None
_annotator = Annotator(None)
_privacy: PrivacyFilter | None = None
# Collect the youngest generation less often: a batch makes tens of thousands of short-lived
# objects, and with Python's default (700) the collector runs every few dozen messages.
WORKER_GC_THRESHOLD: Final = (50_000, 20, 20)


def init_worker(
    settings: SentimentSettings,
    ignore_sigint: bool = True,
    emote_cache: Path | None = None,
    privacy: PrivacySettings | None = None,
) -> None:
    """Pool initializer: load the analyzer, the third-party emote index and the opt-out list
    (``privacy``: None applies none) once per worker.
    Ctrl-C is the parent's business: workers ignore SIGINT so a first Ctrl-C lets them finish
    the batches being drained. An unreadable emote cache means no third-party emotes (the
    cache logs why), never a failed start."""
    global _analyzer, _annotator, _privacy
    if ignore_sigint:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    _analyzer = create_analyzer(settings)
    _annotator = Annotator.from_cache(EmoteCache(emote_cache) if emote_cache is not None else None)
    _privacy = PrivacyFilter.from_settings(privacy) if privacy is not None else None
    if ignore_sigint:  # a worker process of our own
        warm_up_arrow()  # now, while the pool starts, not in the first batch
        gc.collect()  # then tune the collector
        gc.freeze()  # the analyzer's tables and the index stay; never traverse them again
        gc.set_threshold(*WORKER_GC_THRESHOLD)


def _exit_with_parent(parent: int) -> None:
    """A worker must not outlive ``run`` (killed, or exited at a second Ctrl-C): once it is
    re-parented, nobody will ever send it work again."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def process_batch(batch: LineBatch) -> ProcessedBatch:
    """The core's steps (:mod:`chatpulse.stages`) for one batch: parse, third-party emotes,
    score, the store's rows. Pure apart from the worker's analyzer and emote index; never raises
    for bad lines (they become ErrorEvents, stored in ``chat_events``)."""
    if _analyzer is None:
        raise RuntimeError("process_batch called before init_worker")
    raw = batch.raw_lines()
    events = parse_lines(raw, batch.received_at, batch.source)
    events.extend(batch.events)
    withheld = 0
    if _privacy is not None:  # before anything else sees them: opted-out users, pseudonyms
        before = _privacy.withheld
        events = _privacy.apply(events)
        withheld = _privacy.withheld - before
    events = _annotator.annotate(events)
    verdicts = score(events, _analyzer)
    store = store_rows(events, verdicts)
    # Latency is that of live chat: back-filled history adds no samples (it would show the
    # back-fill's own queueing, seconds that no live message waited).
    origins = [] if batch.history else [latency_reference_ms(e) for e in events if is_stored_message(e)]
    errors = sum(1 for e in events if e.kind == "error")
    messages = store.messages.num_rows
    items = len(raw) + len(batch.events)
    return ProcessedBatch(
        store, origins, items, len(raw), messages, errors, store.skipped, RoomIds.seen_in(events), withheld
    )
