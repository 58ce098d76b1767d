"""``chatpulse tail``: live chat from any source, human-readable, on stdout.

One line per event: time, channel, the user in their chat colour, the text with emotes
highlighted. Subs, raids, bans, deletions and server notices are marked so they stand out;
unparseable lines are flagged, never hidden. Connection gaps (coverage events) are shown too.
A summary goes to stderr when the command ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Final

import click
from rich.console import Console
from rich.text import Text

from chatpulse.cli.options import channel_list, live_chat_options
from chatpulse.config import load_settings
from chatpulse.events import (
    ChatEvent,
    ClearChatEvent,
    ClearMsgEvent,
    CoverageEvent,
    Emote,
    ErrorEvent,
    MessageEvent,
    ServerEvent,
    UserNoticeEvent,
)
from chatpulse.irc.twitch import parse_line
from chatpulse.run.silence import silence_error
from chatpulse.sources.base import Source
from chatpulse.sources.select import build_source, parse_speed

# Shown only with --all: protocol chatter a human watching chat does not need.
QUIET_KINDS: Final = frozenset(
    {"roomstate", "userstate", "globaluserstate", "join", "part", "ping", "pong", "cap", "numeric", "other"}
)
# Colours for users who never picked one (Twitch shows a default colour too).
_PALETTE: Final = ("#FF4500", "#1E90FF", "#2E8B57", "#DAA520", "#9ACD32", "#FF69B4", "#8A2BE2", "#00CED1")
_HEX_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
_EMOTE_STYLE: Final = "bold magenta"
_CLOSE_GRACE_S: Final = 5.0


def user_color(login: str, color: str | None) -> str:
    """The user's own chat colour when valid, else a stable one picked from their login."""
    if color and _HEX_COLOR.match(color):
        return color
    return _PALETTE[zlib.crc32(login.encode("utf-8")) % len(_PALETTE)]


def _clock(event: ChatEvent, tz: tzinfo | None) -> str:
    moment = event.sent_at if event.sent_at is not None else event.received_at
    return datetime.fromtimestamp(moment / 1000, tz).strftime("%H:%M:%S")


def _with_emotes(text: str, emotes: tuple[Emote, ...], base_style: str = "") -> Text:
    out = Text(text, style=base_style)
    for emote in emotes:
        if 0 <= emote.start < emote.end <= len(text):
            out.stylize(_EMOTE_STYLE, emote.start, emote.end)
    return out


def render_event(event: ChatEvent, tz: tzinfo | None = None, show_all: bool = False) -> Text | None:
    """One event as one styled line, or ``None`` for protocol chatter (unless ``show_all``)."""
    body = _body(event)
    if body is None:
        if not show_all and event.kind in QUIET_KINDS:
            return None
        body = Text(f"{event.kind}: {event.raw or ''}", style="dim")
    line = Text()
    line.append(_clock(event, tz), style="dim")
    line.append(" ")
    line.append(f"#{event.channel}" if event.channel else "-", style="bold")
    line.append(" ")
    line.append_text(body)
    return line


def _body(event: ChatEvent) -> Text | None:
    if isinstance(event, MessageEvent):
        return _message(event)
    if isinstance(event, UserNoticeEvent):
        line = Text(f"★ {event.system_text or event.notice_type}", style="bold yellow")
        if event.text:
            line.append(" ")
            line.append_text(_with_emotes(event.text, event.emotes))
        return line
    if isinstance(event, ClearChatEvent):
        if event.target_user_login is None:
            return Text("⛔ chat cleared by a moderator", style="bold red")
        if event.ban_duration is None:
            return Text(f"⛔ {event.target_user_login} banned", style="bold red")
        return Text(f"⛔ {event.target_user_login} timed out for {event.ban_duration}s", style="red")
    if isinstance(event, ClearMsgEvent):
        return Text(f"✂ message by {event.user_login} deleted: {event.text}", style="red")
    if isinstance(event, CoverageEvent):
        if event.state == "connected":
            return Text("── receiving chat", style="green")
        return Text(f"── not receiving chat: {event.reason or 'disconnected'}", style="bold red")
    if isinstance(event, ErrorEvent):
        return Text(f"!! unparseable line ({event.error}): {event.raw}", style="bold red reverse")
    if isinstance(event, ServerEvent) and event.kind in ("notice", "reconnect", "hosttarget"):
        return Text(
            f"ⓘ {event.kind.upper()} {event.text or ' '.join(event.params[1:])}".rstrip(), style="cyan"
        )
    return None


def _message(event: MessageEvent) -> Text:
    name = event.user_name or event.user_login
    color = user_color(event.user_login, event.color)
    line = Text()
    if event.kind == "whisper":
        line.append("(whisper) ", style="dim italic")
    if event.reply_parent is not None:
        line.append(f"↪ @{event.reply_parent.user_login} ", style="dim")
    if event.is_action:
        line.append(f"* {name} ", style=f"bold {color}")
        line.append_text(_with_emotes(event.text, event.emotes, base_style=f"italic {color}"))
    else:
        line.append(name, style=f"bold {color}")
        line.append(": ")
        line.append_text(_with_emotes(event.text, event.emotes))
    if event.bits:
        line.append(f"  [{event.bits} bits]", style="bold yellow")
    if event.first_msg:
        line.append("  (first message)", style="green")
    return line


@dataclass
class TailStats:
    """What ``tail`` saw; filled in as it goes, so it is complete even after Ctrl-C."""

    kinds: Counter[str] = field(default_factory=Counter)
    gaps: int = 0  # coverage "disconnected" events before tail itself stopped the source

    def summary(self) -> str:
        return (
            f"tail: {sum(self.kinds.values())} events, {self.kinds['message']} messages, "
            f"{self.kinds['error']} unparseable, {self.gaps} coverage gaps"
        )


async def tail(
    source: Source,
    console: Console,
    duration: float | None = None,
    tz: tzinfo | None = None,
    show_all: bool = False,
    stats: TailStats | None = None,
) -> TailStats:
    """Print ``source`` until it ends or ``duration`` passes; errors of the source propagate."""
    stats = stats if stats is not None else TailStats()
    stopping = False

    async def consume() -> None:
        async for item in source.stream():
            event = (
                item if isinstance(item, ChatEvent) else parse_line(item.line, item.received_at, source.name)
            )
            stats.kinds[event.kind] += 1
            if isinstance(event, CoverageEvent) and event.state == "disconnected" and not stopping:
                stats.gaps += 1  # ones caused by our own close() at --duration are not gaps
            line = render_event(event, tz, show_all)
            if line is not None:
                console.print(line, soft_wrap=True)

    task = asyncio.create_task(consume())
    try:
        done, _ = await asyncio.wait({task}, timeout=duration)
        if not done:
            stopping = True
            await source.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), _CLOSE_GRACE_S)
        if task.done():
            task.result()  # re-raise what the source raised (e.g. login refused)
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await source.close()
    return stats


@click.command(name="tail")
@click.option(
    "--channel", "channels", multiple=True, metavar="NAME", help="Live Twitch channel (repeatable)."
)
@live_chat_options
@click.option("--replay", type=click.Path(dir_okay=False, allow_dash=True), default=None,
              help="Replay a recording (plain, .gz, JSON array, recent-messages JSON).")  # fmt: skip
@click.option("--speed", default=None, metavar="X|max", help="Replay speed factor, or max.  [default: 1]")
@click.option("--loop", is_flag=True, help="Replay the file again and again.")
@click.option("--synthetic", is_flag=True, help="Synthetic multi-channel chat (no network).")
@click.option("--rate", type=float, default=None, help="Synthetic lines per second.")
@click.option(
    "--duration", type=click.FloatRange(min=0, min_open=True), default=None, help="Stop after S seconds."
)
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None, help="Settings file.")
@click.option("--all", "show_all", is_flag=True, help="Also show joins, pings, room states and numerics.")
@click.option("--color/--no-color", default=None, help="Colours (default: when stdout is a terminal).")
def command(
    channels: tuple[str, ...],
    channels_file: str | None,
    live_source: str | None,
    irc_url: str | None,
    replay: str | None,
    speed: str | None,
    loop: bool,
    synthetic: bool,
    rate: float | None,
    duration: float | None,
    config_file: str | None,
    show_all: bool,
    color: bool | None,
) -> None:
    """Show live chat, human-readable, from Twitch, a recording or synthetic chat.

    \b
    Examples:
      chatpulse tail --channel xqc --channel nymn
      chatpulse tail --replay ../shared/data/replay/xqcow-2019-09-15.irc.gz --speed max
      chatpulse tail --synthetic --duration 10
    """
    settings = load_settings(config_file, overrides={"twitch.irc_url": irc_url, "twitch.source": live_source})
    source = build_source(
        settings, channels=channel_list(channels, channels_file), replay=replay,
        speed=parse_speed(speed), loop=loop, synthetic=synthetic, synthetic_rate=rate,
    )  # fmt: skip
    console = Console(
        file=sys.stdout, highlight=False, markup=False, emoji=False,
        force_terminal=color, no_color=color is False,
    )  # fmt: skip
    stats = TailStats()
    started = time.monotonic()
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how a live tail normally ends
        asyncio.run(tail(source, console, duration, None, show_all, stats))
    click.echo(stats.summary(), err=True)
    silent = silence_error(source, sum(stats.kinds.values()), duration, time.monotonic() - started)
    if silent is not None:
        raise silent  # a live tail that got nothing in its --duration failed (exit 1)
