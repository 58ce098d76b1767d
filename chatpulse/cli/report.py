"""``chatpulse report``: one channel's activity, sentiment, emotes, chatters, events and hype."""

from __future__ import annotations

import json
import math
import re
import sys
from typing import Any

import click
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from chatpulse.cli.db import open_cli_store, store_options
from chatpulse.config import CHANNEL_PATTERN
from chatpulse.errors import ConfigError
from chatpulse.store.report import build_report, parse_duration
from chatpulse.times import format_time, parse_time

_MAX_ROWS = 20  # activity rows shown; longer windows are bucketed
_BAR = 30


@click.command(name="report")
@click.option("--channel", required=True, metavar="NAME", help="Channel login, e.g. xqcow.")
@click.option("--since", default="1h", show_default=True, help="Window length: 90s, 15m, 1h, 1h30m, 2d.")
@click.option(
    "--until",
    default=None,
    metavar="TIME",
    help="Window end, ISO-8601 UTC (default: the channel's newest stored message).",
)
@click.option("--all", "whole", is_flag=True, help="The channel's whole stored history.")
@click.option("--top", type=click.IntRange(1, 100), default=10, show_default=True, help="Rows per top list.")
@click.option(
    "--events", "events_limit", type=click.IntRange(0, 100_000), default=50, show_default=True,
    help="Events listed at most (the report says how many more there are).",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@store_options
def command(
    channel: str,
    since: str,
    until: str | None,
    whole: bool,
    top: int,
    events_limit: int,
    as_json: bool,
    config_file: str | None,
    store_dsn: str | None,
) -> None:
    """Report on one channel: messages/min, unique chatters, sentiment mix over time, top emotes,
    top chatters, events timeline and hype moments.

    The window ends at the channel's newest stored message (so a replayed recording reports on
    its own last hour) or at --until, and reaches back --since.

    The printed report is trimmed to the channel's stored chat: --since 1h on an 8-minute
    recording shows its 8 minutes (--json keeps the window asked for). Piped, the report fits
    80 columns (COLUMNS sets another width) and draws the sentiment mix with + = - instead of
    colours.

    \b
    Examples:
      chatpulse report --channel xqcow --since 15m
      chatpulse report --channel xqcow --all --json > xqcow.json
    """
    channel = channel.lower().lstrip("#")
    if not re.match(CHANNEL_PATTERN, channel):
        raise ConfigError(f"invalid channel name {channel!r}: expected {CHANNEL_PATTERN}")
    since_s = None if whole else parse_duration(since)
    try:
        until_ms = parse_time(until) if until else None
    except ValueError:
        raise ConfigError(f"invalid --until {until!r}: use ISO-8601, e.g. 2019-09-15T01:00:00Z") from None
    store = open_cli_store(config_file, store_dsn)
    try:
        # JSON keeps the window asked for (the Airflow reports write the same JSON for their
        # hour or day); the tables a person reads leave out the minutes before the chat began.
        report = build_report(
            store, channel, since_s, until_ms, top=top, events_limit=events_limit, trim=not as_json
        )
    finally:
        store.close()
    if as_json:
        sys.stdout.write(json.dumps(report, ensure_ascii=False, default=str) + "\n")
    elif report["empty"]:
        click.echo(f"no messages stored for #{channel}", err=True)
    else:
        render(report, Console(highlight=False, markup=False, emoji=False), asked_s=since_s)


def render(report: dict[str, Any], console: Console, asked_s: float | None = None) -> None:
    """The report as terminal tables, fitted to ``console.width``; ``asked_s`` is the --since
    asked for (said when the window was trimmed to the stored chat)."""
    t = report["totals"]
    minutes = (report["until_ms"] - report["since_ms"]) / 60_000
    console.print(
        Text(f"#{report['channel']}  {report['since']} -> {report['until']}  ({minutes:,.0f} min)", "bold")
    )
    if asked_s is not None and minutes * 60 < asked_s - 60:
        note = f"(the stored chat covers {minutes:,.1f} of the {asked_s / 60:,.0f} minutes asked for)"
        console.print(Text(note, "dim"))
    scored = (t.get("positive") or 0) + (t.get("neutral") or 0) + (t.get("negative") or 0)
    mean = t.get("sentiment_mean")
    console.print(
        f"messages {t.get('messages', 0):,}  ({t.get('messages_per_minute', 0):,.1f}/min)   "
        f"unique chatters {t.get('chatters', 0):,}   bits {t.get('bits', 0):,}   subs {t.get('subs', 0):,}   "
        f"deleted {t.get('deleted', 0):,}   sentiment "
        + (f"mean {mean:+.2f}, " if mean is not None else "")
        + _mix_text(t.get("positive") or 0, t.get("neutral") or 0, t.get("negative") or 0, scored)
    )
    console.print(_activity_table(report, console))
    console.print(_hype_table(report["hype_moments"]))
    console.print(Group(_top_table("Top emotes", report["top_emotes"], "name", "uses"),
                        _top_table("Top chatters", report["top_chatters"], "login", "messages")))  # fmt: skip
    console.print(_events_table(report["events"], report.get("events_total", len(report["events"]))))


def _mix_text(pos: int, neu: int, neg: int, scored: int) -> str:
    if not scored:
        return "not scored"
    return f"{100 * pos / scored:.0f}% pos / {100 * neu / scored:.0f}% neu / {100 * neg / scored:.0f}% neg"


def _activity_table(report: dict[str, Any], console: Console) -> Table:
    since, until = report["since_ms"], report["until_ms"]
    first_minute = since - since % 60_000
    total_minutes = max(1, math.ceil((until - first_minute) / 60_000))
    bucket = max(1, math.ceil(total_minutes / _MAX_ROWS))
    rows: dict[int, dict[str, float]] = {}
    for m in report["minutes"]:
        start = first_minute + ((m["minute"] - first_minute) // (bucket * 60_000)) * bucket * 60_000
        row = rows.setdefault(start, dict.fromkeys(("messages", "chatters", "pos", "neu", "neg"), 0.0))
        row["messages"] += m["messages"]
        row["chatters"] = max(row["chatters"], m["chatters"])
        row["pos"] += m["positive"]
        row["neu"] += m["neutral"]
        row["neg"] += m["negative"]
    starts = range(first_minute, until, bucket * 60_000)
    empty = dict.fromkeys(("messages", "chatters", "pos", "neu", "neg"), 0.0)
    peak = max((r["messages"] / bucket for r in rows.values()), default=1.0) or 1.0
    shown = [
        (format_time(start)[11:16] if total_minutes < 1440 else format_time(start)[:16],
         f"{rows.get(start, empty)['messages'] / bucket:,.1f}", f"{rows.get(start, empty)['chatters']:,.0f}")
        for start in starts
    ]  # fmt: skip
    widths = [max(len(header), *(len(row[i]) for row in shown)) for i, header in enumerate(_TEXT_COLUMNS)]
    bar, mix = _bar_widths(console.width, widths)
    table = Table(title=f"Activity ({bucket} min per row; chatters: peak per minute)", title_justify="left")
    table.add_column(_TEXT_COLUMNS[0], no_wrap=True)
    table.add_column(_TEXT_COLUMNS[1], justify="right", no_wrap=True)
    table.add_column("", width=bar, no_wrap=True)
    table.add_column(_TEXT_COLUMNS[2], justify="right", no_wrap=True)
    table.add_column("+ / = / -", width=mix, no_wrap=True)
    colour = console.color_system is not None
    for start, (when, rate, chatters) in zip(starts, shown, strict=True):
        row = rows.get(start, empty)
        scored = row["pos"] + row["neu"] + row["neg"]
        length = round(bar * row["messages"] / bucket / peak)
        table.add_row(when, rate, Text("█" * length, "cyan"), chatters,
                      _mix_bar(row["pos"], row["neu"], row["neg"], scored, mix, colour))  # fmt: skip
    return table


_TEXT_COLUMNS = ("from", "msgs/min", "chatters")
_TABLE_FRAME = 6 + 10  # a 5-column table: 6 borders, and one space either side of each cell


def _bar_widths(width: int, text_widths: list[int]) -> tuple[int, int]:
    """Widths of the activity bar and the sentiment-mix bar that fit the console beside the text
    columns, each within sensible bounds."""
    room = width - sum(text_widths) - _TABLE_FRAME
    mix = max(6, min(20, room // 3))
    return max(5, min(_BAR, room - mix)), mix


def _mix_bar(pos: float, neu: float, neg: float, scored: float, width: int = 20, colour: bool = True) -> Text:
    """The positive / neutral / negative shares as one bar: coloured blocks, or + = - without
    colour (piped output), so the mix stays readable either way."""
    if not scored:
        return Text("-" if colour else "", "dim")
    p, n = round(width * pos / scored), round(width * neg / scored)
    text = Text()
    text.append(("█" if colour else "+") * p, "green")
    text.append(("█" if colour else "=") * max(0, width - p - n), "grey50")
    text.append(("█" if colour else "-") * n, "red")
    return text


def _hype_table(moments: list[dict[str, Any]]) -> Table:
    table = Table(title="Hype moments (far above the rolling 30-minute baseline)", title_justify="left")
    for name in ("minute", "messages", "baseline", "score"):
        table.add_column(name, justify="left" if name == "minute" else "right")
    for m in moments:
        table.add_row(format_time(m["minute"])[:16], f"{m['messages']:,}", f"{m['baseline']:,.0f}",
                      f"{m['score']:.1f}")  # fmt: skip
    if not moments:
        table.add_row("none", "", "", "")
    return table


def _top_table(title: str, rows: list[dict[str, Any]], key: str, value: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(key)
    table.add_column(value, justify="right")
    for row in rows:
        table.add_row(str(row[key]), f"{row[value]:,}")
    return table


def _events_table(events: list[dict[str, Any]], total: int) -> Table:
    more = total - len(events)
    caption = f"… and {more:,} more; --events N lists more" if more > 0 else None
    table = Table(title="Events", title_justify="left", caption=caption, caption_justify="left")
    for name in ("time", "kind", "who", "detail"):
        table.add_column(name, overflow="fold")
    for e in events:
        kind = f"{e['kind']}/{e['notice_type']}" if e["notice_type"] else e["kind"]
        who = e["target_user_login"] or e["user_login"]
        detail = e["system_text"] or e["text"]
        if e["ban_duration"] is not None:
            detail = f"{e['ban_duration']} s {detail}".strip()
        table.add_row(format_time(e["at"])[11:19], kind, who, detail)
    if not events:
        table.add_row("-", "none", "", "")
    return table
