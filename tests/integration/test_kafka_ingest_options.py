"""`chatpulse ingest` beyond the basics: third-party emotes on the raw topic, channel lists, shards."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from chatpulse.config import EmoteSettings, KafkaSettings, Settings
from chatpulse.emotes import EmoteCache
from chatpulse.events import MessageEvent
from chatpulse.sources.replay import ReplaySource
from chatpulse.sources.sharding import shard_channels
from chatpulse.testing.irc_server import TwitchIrcTestServer
from chatpulse.wire import loads
from tests.integration.kafka_pipeline import ingest, read_topic
from tests.integration.test_pipeline_emotes import XQC, _expected_third_party, capture, emote_cache

__all__ = ["capture", "emote_cache"]  # fixtures used below


def test_ingest_marks_third_party_emotes_and_remembers_the_room(
    pipeline_settings: Settings, capture: Path, emote_cache: Path
) -> None:
    settings = pipeline_settings.model_copy(update={"emotes": EmoteSettings(cache_dir=emote_cache)})
    ingest(settings, ReplaySource(capture, speed=None))
    records = read_topic(settings.kafka.bootstrap_servers or "", settings.kafka.topic_raw, expected=5000)
    events = [loads(record.value()) for record in records]
    found: dict[tuple[str, str], int] = {}
    for event in events:
        if isinstance(event, MessageEvent):
            for emote in event.emotes:
                if emote.provider != "twitch":
                    found[(emote.provider, emote.name)] = found.get((emote.provider, emote.name), 0) + 1
    expected, _ = _expected_third_party(capture, emote_cache)
    assert found == dict(expected) and found  # every 7TV/BTTV use, as a recount finds them
    assert EmoteCache(emote_cache).channel_ids().get("xqcow") == XQC


async def test_ingest_reads_only_its_shard_of_a_channel_file(
    kafka_settings: KafkaSettings, tmp_path: Path
) -> None:
    names = [f"channel_{n:03d}" for n in range(30)]
    listing = tmp_path / "channels.txt"
    listing.write_text("\n".join(names) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATPULSE_")}
    for name in ("TOKEN", "NICKNAME", "SERVER", "PORT"):
        env.pop(name, None)
    env.update(
        KAFKA_BOOTSTRAP_SERVERS=kafka_settings.bootstrap_servers or "",
        CHATPULSE_KAFKA__TOPIC_RAW=kafka_settings.topic_raw,
        CHATPULSE_KAFKA__TOPIC_ENRICHED=kafka_settings.topic_enriched,
        CHATPULSE_KAFKA__TOPIC_DEADLETTER=kafka_settings.topic_deadletter,
        CHATPULSE_KAFKA__SPOOL_DIR=str(tmp_path / "spool"),
        CHATPULSE_EMOTES__CACHE_DIR=str(tmp_path / "emotes"),
    )
    mine = set(shard_channels(names, 1, 3))
    async with TwitchIrcTestServer() as server:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "chatpulse", "ingest", "--channels-file", str(listing), "--shard", "1/3",
            "--irc-url", server.url, "--duration", "6",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, cwd=tmp_path, env=env,
        )  # fmt: skip
        await server.wait_for(lambda: {j.channel for j in server.accepted_joins()} >= mine, timeout=30)
        _, stderr = await proc.communicate()
    assert proc.returncode == 0, stderr.decode()[-2000:]
    joined = [j.channel for j in server.accepted_joins()]
    assert sorted(joined) == sorted(mine)  # this shard's channels, each once, and no other
    assert 0 < len(mine) < len(names)
