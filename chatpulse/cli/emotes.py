"""``chatpulse emotes``: fetch, cache and list third-party emote sets (7TV, BTTV, FFZ)."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from pathlib import Path

import click

from chatpulse.config import EmoteSettings, load_settings
from chatpulse.emotes.cache import EmoteCache, EmoteSet
from chatpulse.emotes.loader import EmoteFetchError, EmoteLoader
from chatpulse.emotes.providers import Endpoints

_LOGIN = re.compile(r"^[a-z0-9_]{1,25}$")

_cache_dir_option = click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Emote cache folder [default: emotes.cache_dir, else ~/.cache/chatpulse/emotes].",
)


def _cache(settings: EmoteSettings, cache_dir: Path | None) -> EmoteCache:
    return EmoteCache(cache_dir or settings.cache_folder())


def _login(channel: str | None) -> str | None:
    if channel is None:
        return None
    login = channel.lower().lstrip("#")
    if not _LOGIN.match(login):
        raise click.BadParameter("expected a Twitch login (1-25 of a-z, 0-9, _)", param_hint="--channel")
    return login


@click.group(name="emotes")
def command() -> None:
    """Third-party emotes (7TV, BTTV, FFZ): refresh the cached sets, list them.

    The providers key channel sets by Twitch user id: pass --channel-id once, it is remembered
    for the channel name.

    \b
    Example:
      chatpulse emotes refresh --channel xqcow --channel-id 71092938
      chatpulse emotes list --channel xqcow | head
    """


@command.command(name="refresh")
@click.option("--channel", help="Channel login; without it only the global sets are refreshed.")
@click.option("--channel-id", help="The channel's Twitch user id (remembered for later).")
@_cache_dir_option
def refresh(channel: str | None, channel_id: str | None, cache_dir: Path | None) -> None:
    """Fetch the global sets (and a channel's) from 7TV, BTTV and FFZ into the cache.

    Exits 1 with one line when a provider cannot be reached; sets already cached stay usable.

    \b
    Example:
      chatpulse emotes refresh --channel xqcow --channel-id 71092938
    """
    settings = load_settings().emotes
    login = _login(channel)
    if channel_id is not None and (login is None or not channel_id.isdigit()):
        raise click.BadParameter(
            "needs --channel and must be a numeric Twitch user id", param_hint="--channel-id"
        )
    cache = _cache(settings, cache_dir)
    if login is not None and channel_id is not None:
        cache.remember_channel_id(login, channel_id)
    elif login is not None:
        channel_id = cache.channel_id(login)
        if channel_id is None:
            raise click.UsageError(
                f"no Twitch user id known for channel {login!r}: pass --channel-id "
                "(7TV, BTTV and FFZ key channel emote sets by user id)"
            )
    loader = EmoteLoader(
        cache,
        Endpoints(settings.seventv_api, settings.bttv_api, settings.ffz_api),
        max_age_s=settings.refresh_interval_s,
        timeout_s=settings.timeout_s,
    )
    # This command reports problems itself, in one line; the loader's per-set warnings would repeat it.
    logging.getLogger("chatpulse.emotes.loader").setLevel(logging.ERROR)
    report = loader.load_all([channel_id] if channel_id else [], force=True)
    if not report.ok:
        kept = " (older cached sets stay in use)" if report.stale else ""
        raise EmoteFetchError(f"emote sets not refreshed: {report.summary()}{kept}")
    counts = ", ".join(f"{s.provider} {s.scope}: {len(s.emotes)}" for s in report.sets)
    click.echo(f"refreshed {counts} (cache: {cache.folder})", err=True)


@command.command(name="list")
@click.option("--channel", help="Channel login; without it only the global sets are listed.")
@_cache_dir_option
def list_emotes(channel: str | None, cache_dir: Path | None) -> None:
    """List cached emotes as JSONL (name, id, provider, scope); no network.

    \b
    Example:
      chatpulse emotes list --channel xqcow | grep '"7tv"'
    """
    settings = load_settings().emotes
    login = _login(channel)
    cache = _cache(settings, cache_dir)
    sets: list[EmoteSet] = cache.read_sets(None)
    if login is not None:
        channel_id = cache.channel_id(login)
        channel_sets = cache.read_sets(channel_id) if channel_id else []
        if not channel_sets:
            raise EmoteFetchError(
                f"no cached emotes for channel {login!r}: run chatpulse emotes refresh --channel {login}"
            )
        sets += channel_sets
    if not sets:
        raise EmoteFetchError("no cached emotes: run chatpulse emotes refresh")
    out = sys.stdout
    for emote_set in sets:
        scope = "global" if emote_set.channel_id is None else "channel"
        for emote_id, name in emote_set.emotes:
            row = {"name": name, "id": emote_id, "provider": emote_set.provider, "scope": scope}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    oldest = min(s.fetched_at for s in sets)
    total = sum(len(s.emotes) for s in sets)
    click.echo(
        f"{total} emotes in {len(sets)} sets; oldest fetched {(time.time() - oldest) / 3600:.1f} h ago",
        err=True,
    )
