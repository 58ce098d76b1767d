"""`chatpulse run` beside a stream: small while chat is light, worker processes only under load,
live latency not held up by the demo's back-fill, and a status line that counts like with like."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from pathlib import Path

from chatpulse.config import SentimentSettings, StoreSettings
from chatpulse.run.embedded import Pipeline, PipelineConfig
from chatpulse.run.pool import ElasticPool
from chatpulse.run.work import LineBatch
from chatpulse.sources.synthetic.chat import generate_lines
from chatpulse.sources.synthetic.demo import DemoSource
from chatpulse.store import ClickHouseSink, open_store
from tests.integration.conftest import anonymous_env

T0 = 1_700_000_000_000


def _children(pid: int) -> set[int]:
    """Process ids whose parent is ``pid`` (from /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def test_a_light_live_run_starts_no_worker_process(tmp_path: Path) -> None:
    # The demo without back-fill: 200 lines/s over four channels, like a few live channels.
    proc = subprocess.Popen(
        [sys.executable, "-m", "chatpulse", "run", "--demo", "--demo-history", "0", "--no-dashboard",
         "--duration", "8", "--store", f"chdb://{tmp_path / 'db'}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=anonymous_env(tmp_path),
    )  # fmt: skip
    seen: set[int] = set()
    while proc.poll() is None:
        seen |= _children(proc.pid)
        time.sleep(0.5)
    _, stderr = proc.communicate()
    assert proc.returncode == 0, stderr
    assert not seen, "a few hundred lines a second must not start worker processes"
    stored = int(re.findall(r"stored ([\d,]+)", stderr)[-1].replace(",", ""))
    assert stored > 500


def _batch(lines: list[str]) -> LineBatch:
    from array import array

    return LineBatch("synthetic", "\n".join(lines), array("q", [T0] * len(lines)), [], False)


def test_the_pool_starts_processes_under_load_and_keeps_order() -> None:
    pool = ElasticPool(SentimentSettings(), None, max_processes=2)
    lines = list(generate_lines(60_000, ["a", "b"], 3, 1000.0, T0))
    batches = [_batch(lines[i : i + 5000]) for i in range(0, len(lines), 5000)]

    async def feed() -> list[int]:
        loop = asyncio.get_running_loop()
        futures = []
        for batch in batches:  # faster than one thread can parse: the pool must grow
            futures.append(pool.submit(loop, batch))
            await asyncio.sleep(0.05)
        return [(await f).lines for f in futures]

    try:
        assert pool.processes == 0  # nothing started before work arrives
        done = asyncio.run(feed())
        assert pool.processes == 2
        assert done == [len(b.raw_lines()) for b in batches]  # every batch back, in order
    finally:
        pool.shutdown()


def test_demo_live_chat_starts_after_its_back_fill_is_stored(tmp_path: Path) -> None:
    store = open_store(StoreSettings(dsn=f"chdb://{tmp_path / 'db'}"))
    store.migrate()
    source = DemoSource(channels=2, rate=200.0, history_s=60.0)
    sink = ClickHouseSink(store, spool_dir=tmp_path / "spool")
    pipeline = Pipeline(source, sink, SentimentSettings(), PipelineConfig(workers=0))
    released: list[tuple[float, int, int]] = []
    original = source.history_stored

    def history_stored() -> None:
        released.append((time.time() * 1000, pipeline.counters.stored, pipeline._history_items))  # noqa: SLF001
        original()

    source.history_stored = history_stored  # type: ignore[method-assign]

    async def run() -> None:
        asyncio.get_running_loop().call_later(6.0, pipeline.stop)
        await pipeline.run()

    try:
        asyncio.run(run())
        assert len(released) == 1
        at, stored, history = released[0]
        assert history > 1000 and stored >= history  # every back-filled line was stored first
        first_live = store.query(
            "SELECT toUnixTimestamp64Milli(min(sent_at)) AS t FROM chat_messages WHERE sent_at > "
            "fromUnixTimestamp64Milli({at:Int64}, 'UTC') - INTERVAL 1 SECOND",
            {"at": int(at)},
        )[0]["t"]
        assert first_live >= at - 1000  # live chat was made only once the back-fill was in
        assert pipeline.latencies, "live messages were timed"
        assert max(pipeline.latencies) < 5_000  # none waited behind the ~10k back-filled lines
    finally:
        store.close()


def test_a_finished_replay_reads_and_stores_the_same_number_of_lines(tmp_path: Path) -> None:
    recording = tmp_path / "chat.irc"
    recording.write_text(
        ":justinfan1!justinfan1@justinfan1.tmi.twitch.tv JOIN #c\n"
        "@id=1;room-id=9;tmi-sent-ts=1700000000000 :a!a@a.tmi.twitch.tv PRIVMSG #c :hello\n"
        "PING :tmi.twitch.tv\n"
        "@id=2;room-id=9;tmi-sent-ts=1700000001000 :b!b@b.tmi.twitch.tv PRIVMSG #c :hi\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "chatpulse", "run", "--replay", str(recording), "--speed", "max",
         "--no-dashboard", "--store", f"chdb://{tmp_path / 'db'}"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={**anonymous_env(tmp_path), "COLUMNS": "300"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    final = [line for line in done.stderr.splitlines() if "done" in line][-1]
    totals = dict(re.findall(r"(read|scored|stored) ([\d,]+)", final))
    assert totals == {"read": "4", "scored": "4", "stored": "4"}
    assert "2 not kept" in final  # the JOIN and the PING: handled, not stored, and said so
