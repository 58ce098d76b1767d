"""``chatpulse import``: plan the days, run them through the embedded pipeline, record the stored ones.

::

    GET /list -> plan_days (range, minus archive_days) -> ArchiveSource -> Pipeline (the one
    ``run --replay`` uses: parse, emotes, sentiment, ClickHouseSink) -> archive_days

The pipeline is the embedded run's own (:class:`~chatpulse.run.embedded.Pipeline`), so a day
stores the same rows as replaying its lines would; the sink keeps each message once, so days
imported twice or overlapping chat stored live are stored once. A day is recorded in
``archive_days`` only after the pipeline has flushed it, only if all its lines came, never for
today (still being logged), and not at all while batches wait in the sink's spool: a rerun
fetches exactly what is not known to be stored.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

from chatpulse.archive.client import ArchiveClient, ChannelRef
from chatpulse.archive.days import DayPlan, is_complete, plan_days
from chatpulse.archive.ledger import record_days, stored_days
from chatpulse.archive.source import ArchiveSource, RetryPolicy, with_retries
from chatpulse.config import Settings
from chatpulse.run.embedded import Counters, Pipeline, PipelineConfig
from chatpulse.run.status import StatusSnapshot


@dataclass(frozen=True, slots=True)
class ImportRequest:
    """What to import, from where, and how patiently."""

    archive: str
    channel: ChannelRef
    start: dt.date | None = None
    end: dt.date | None = None
    timeout_s: float = 30.0
    policy: RetryPolicy = field(default_factory=RetryPolicy)


@dataclass(slots=True)
class ImportSummary:
    """The result, printed as one JSON object on stdout."""

    archive: str
    channel: str
    days_listed: int = 0  # listed by the archive inside the range
    days_already_stored: int = 0
    days_imported: list[str] = field(default_factory=list)
    days_without_log: list[str] = field(default_factory=list)
    days_failed: list[dict[str, str]] = field(default_factory=list)
    days_not_recorded: list[str] = field(default_factory=list)  # imported, fetched again next time
    lines_refused: list[str] = field(default_factory=list)  # dropped lines (too long), with day and number
    lines: int = 0
    messages: int = 0
    stored: int = 0
    parse_errors: int = 0
    withheld: int = 0  # messages of opted-out users: not stored, only counted here
    retries: int = 0
    seconds: float = 0.0
    lines_per_s: float = 0.0
    interrupted: bool = False

    def as_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


class ImportRunner:
    """The embedded pipeline as :func:`~chatpulse.run.supervisor.supervise` drives it (signals,
    status line), with the import's progress in the status line: days done of all, the day
    being fetched, lines fetched and their rate, failed days."""

    def __init__(self, pipeline: Pipeline, source: ArchiveSource, total_days: int) -> None:
        self.pipeline = pipeline
        self.source = source
        self.total_days = total_days
        self.started = time.monotonic()

    @property
    def sink(self) -> Any:
        return self.pipeline.sink

    def stop(self) -> None:
        self.pipeline.stop()

    @property
    def stopping(self) -> bool:
        return self.pipeline.stopping

    async def run(self) -> Counters:
        return await self.pipeline.run()

    def progress(self) -> str:
        """``days [#####.....] 2/4 (2019-09-16) │ fetched 5,000 lines, 4,400 lines/s``."""
        outcomes = self.source.outcomes
        finished = sum(1 for o in outcomes if o.done or (o.error and o is not outcomes[-1]))
        failed = sum(1 for o in outcomes if o.error and not o.done)
        current = outcomes[-1].day.isoformat() if outcomes else "-"
        rate = self.source.lines / max(time.monotonic() - self.started, 1e-9)
        width = 20
        filled = round(width * finished / self.total_days) if self.total_days else width
        text = (
            f"days [{'#' * filled}{'.' * (width - filled)}] {finished}/{self.total_days} ({current})"
            f" │ fetched {self.source.lines:,} lines, {rate:,.0f} lines/s"
        )
        return text + (f" │ failed days {failed}" if failed else "")

    def snapshot(self, extra: str = "") -> StatusSnapshot:
        return self.pipeline.snapshot(self.progress())

    def status_json(self) -> dict[str, Any]:
        return self.pipeline.status_json()


async def list_days(client: ArchiveClient, request: ImportRequest) -> list[dt.date]:
    """The archive's days for the channel, the list fetched with the same retries as a day."""
    return await with_retries(lambda: asyncio.to_thread(client.list_days, request.channel), request.policy)


async def run_import(
    settings: Settings,
    request: ImportRequest,
    config: PipelineConfig | None = None,
    now: dt.datetime | None = None,
) -> ImportSummary:
    """Import the planned days into the store of ``settings``; see the module docstring.
    Raises ArchiveError when the archive's list cannot be had, StoreError for the store."""
    from chatpulse.dashboard.control import FixedChannels
    from chatpulse.run.supervisor import _spool_dir as spool_dir  # where `run` spools for this store
    from chatpulse.run.supervisor import supervise
    from chatpulse.store import ClickHouseSink, open_store

    client = ArchiveClient(request.archive, timeout_s=request.timeout_s)
    summary = ImportSummary(archive=client.base_url, channel=request.channel.key)
    available = await list_days(client, request)
    store = open_store(settings.store)
    try:
        store.migrate()
        plan: DayPlan = plan_days(
            available, request.start, request.end, stored_days(store, request.channel.key)
        )
        summary.days_listed, summary.days_already_stored = plan.available, len(plan.already_stored)
        if not plan.fetch:
            return summary  # nothing missing: no worker pool to start
        source = ArchiveSource(client, request.channel, plan.fetch, request.policy)
        config = config or PipelineConfig()
        sink = ClickHouseSink(
            store,
            batch_size=config.flush_rows * 2,
            max_age_s=max(2.0, config.busy_flush_age_s * 2),
            spool_dir=spool_dir(settings.store.dsn),
        )
        pipeline = Pipeline(
            source, sink, settings.sentiment, config,
            emote_cache=settings.emotes.cache_folder(), privacy=settings.privacy,
        )  # fmt: skip
        runner = ImportRunner(pipeline, source, len(plan.fetch))
        started = time.monotonic()
        await supervise(runner, store, settings, None, None, FixedChannels(source.name))
        counters = pipeline.counters
        summary.seconds = round(time.monotonic() - started, 3)
        summary.interrupted = pipeline.stopping
        summary.lines, summary.messages = counters.lines, counters.messages
        summary.stored, summary.parse_errors = counters.stored, counters.parse_errors
        summary.withheld = counters.withheld
        summary.retries = source.retries
        summary.lines_per_s = round(counters.lines / summary.seconds, 1) if summary.seconds else 0.0
        moment = now or dt.datetime.now(dt.UTC)
        spooled = sink.stats.spool_pending > 0
        recorded: list[tuple[dt.date, int]] = []
        for outcome in source.outcomes:
            day = outcome.day.isoformat()
            summary.lines_refused.extend(outcome.refused)
            if not outcome.done:
                if outcome.error:
                    summary.days_failed.append({"day": day, "error": outcome.error})
                continue
            if outcome.missing:
                summary.days_without_log.append(day)
            else:
                summary.days_imported.append(day)
            if is_complete(outcome.day, moment) and not spooled:
                recorded.append((outcome.day, outcome.lines))
            else:
                summary.days_not_recorded.append(day)
        record_days(store, request.channel.key, client.base_url, recorded)
        return summary
    finally:
        store.close()
