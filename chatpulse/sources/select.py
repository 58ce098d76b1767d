"""Build the :class:`~chatpulse.sources.base.Source` the command line asked for.

Called by ``chatpulse tail`` (and any command that reads chat): exactly one of live channels,
a replay file, or synthetic chat. Bad combinations raise :class:`ConfigError` with a one-line
reason (the CLI exits 2).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from chatpulse.config import Settings
from chatpulse.errors import ConfigError
from chatpulse.sources.base import Source
from chatpulse.sources.channels import normalize_channels
from chatpulse.sources.sharding import Shard


def parse_speed(text: str | None) -> float | None:
    """``--speed``: ``"max"`` -> ``None`` (as fast as possible), ``"10"`` -> ``10.0``."""
    if text is None:
        return 1.0
    if text.strip().lower() == "max":
        return None
    try:
        speed = float(text)
    except ValueError:
        raise ConfigError(f"invalid --speed {text!r}: use a positive number or 'max'") from None
    if not speed > 0 or speed == float("inf"):
        raise ConfigError(f"invalid --speed {text!r}: use a positive number or 'max'")
    return speed


def build_source(
    settings: Settings,
    *,
    channels: Sequence[str] = (),
    replay: str | Path | None = None,
    speed: float | None = 1.0,
    loop: bool = False,
    synthetic: bool = False,
    synthetic_rate: float | None = None,
    shard: Shard | None = None,
) -> Source:
    """Live chat for ``channels`` (else ``settings.twitch.channels``), a replay, or synthetic chat.

    Live chat comes over IRC, EventSub or both, as ``settings.twitch.source`` says.

    ``shard`` keeps only this process's share of the live channels (see
    :mod:`chatpulse.sources.sharding`).
    """
    chosen = [name for name, on in (("--channel", bool(channels)), ("--replay", replay is not None),
                                     ("--synthetic", synthetic)) if on]  # fmt: skip
    if len(chosen) > 1:
        raise ConfigError(f"choose one source: {' and '.join(chosen)} cannot be combined")
    if replay is not None:
        from chatpulse.sources.replay import ReplaySource

        if str(replay) != "-":
            from chatpulse.recording import require_recording

            require_recording(replay, f"--replay {replay}")  # a binary is refused before it is stored
        return ReplaySource(replay, speed=speed, loop=loop)
    if synthetic:
        from chatpulse.sources.synthetic.chat import SyntheticSource  # lands separately; imported lazily

        names = normalize_channels(channels or settings.twitch.channels)
        if synthetic_rate is None:
            return SyntheticSource(channels=names or 4)
        return SyntheticSource(channels=names or 4, rate=synthetic_rate)
    live = normalize_channels(channels or settings.twitch.channels)
    if shard is not None:
        from chatpulse.sources.sharding import shard_channels

        mine = tuple(shard_channels(live, shard.index, shard.count))
        if live and not mine:
            raise ConfigError(f"shard {shard} holds none of the {len(live)} channels; use fewer shards")
        live = mine
    if not live:
        raise ConfigError(
            "no source: give --channel NAME (or twitch.channels in the config), --replay FILE or --synthetic"
        )
    return _live_source(settings, live)


def _live_source(settings: Settings, channels: tuple[str, ...]) -> Source:
    """IRC, EventSub, or both merged (``twitch.source``); both paths dedupe by message id."""
    from chatpulse.sources.twitch_irc.source import TwitchIrcSource

    kind = settings.twitch.source
    if kind == "irc":
        return TwitchIrcSource(settings.twitch, channels)
    from chatpulse.sources.eventsub.source import build_eventsub_source

    eventsub = build_eventsub_source(settings, channels)
    if kind == "eventsub":
        return eventsub
    from chatpulse.sources.dedupe import MergedSource

    return MergedSource([TwitchIrcSource(settings.twitch, channels), eventsub])
