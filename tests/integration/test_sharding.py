"""Three shards of 1,000 channels against the IRC test server: every channel joined exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter

from chatpulse.config import TwitchSettings
from chatpulse.events import CoverageEvent
from chatpulse.sources.sharding import shard_channels
from chatpulse.sources.twitch_irc.source import IrcTimings, TwitchIrcSource
from chatpulse.testing.irc_server import TwitchIrcTestServer

CHANNELS = [f"streamer_{n:04d}" for n in range(1000)]


async def test_three_shards_join_every_channel_exactly_once() -> None:
    # The join rate is raised for this test: pacing is tested on its own with a small count.
    async with TwitchIrcTestServer(joins_per_window=100_000, join_window_s=1) as server:
        settings = TwitchSettings(irc_url=server.url, joins_per_window=100_000, join_window_s=1)
        shards = [shard_channels(CHANNELS, index, 3) for index in range(3)]
        sources = [
            TwitchIrcSource(settings, shard, timings=IrcTimings(join_timeout_s=20)) for shard in shards
        ]
        connected: list[Counter[str]] = [Counter() for _ in sources]

        async def consume(index: int) -> None:
            async for item in sources[index].stream():
                if isinstance(item, CoverageEvent) and item.state == "connected":
                    connected[index][item.channel or ""] += 1

        tasks = [asyncio.create_task(consume(index)) for index in range(3)]
        await server.wait_for(lambda: sum(len(c) for c in connected) == len(CHANNELS), timeout=60)

        joined = Counter(record.channel for record in server.accepted_joins())
        assert sorted(joined) == sorted(CHANNELS)
        assert set(joined.values()) == {1}  # each channel joined once, by one shard
        for index, source in enumerate(sources):
            assert source.covered == set(shards[index])
            assert set(connected[index].values()) == {1}
            assert source.counters.join_failures == 0
            assert source.connections == -(-len(shards[index]) // 50)  # 50 channels per connection
        assert len({record.nick for record in server.accepted_joins()}) == 3  # one login per shard
        for source in sources:
            await source.close()
        await asyncio.wait_for(asyncio.gather(*tasks), 10)
