"""``chatpulse parse``: raw IRC lines -> event JSONL (one event per non-empty line, in order)."""

from __future__ import annotations

import sys
import time
from collections import Counter

import click

from chatpulse.irc.twitch import parse_line
from chatpulse.recording import require_recording
from chatpulse.sources.base import now_ms
from chatpulse.sources.replay import iter_lines
from chatpulse.wire import dumps


@click.command(name="parse")
@click.argument("file", default="-", type=click.Path(allow_dash=True, dir_okay=False))
@click.option(
    "--source",
    "source_name",
    default="replay",
    show_default=True,
    type=click.Choice(["irc", "replay", "synthetic"]),
    help="Value of each event's source field.",
)
def command(file: str, source_name: str) -> None:
    """Parse raw Twitch IRC lines from FILE (or - for stdin) into event JSONL on stdout.

    FILE may be plain text, .gz, a JSON array of lines, or recent-messages JSON
    ({"messages": [...]}). A summary goes to stderr.

    \b
    Example:
      chatpulse parse ../shared/data/replay/xqcow-2019-09-15.irc.gz > events.jsonl
    """
    if file != "-":
        require_recording(file, file)  # missing or not chat: exit 2, one line
    kinds: Counter[str] = Counter()
    started = time.perf_counter()
    out = sys.stdout
    for line in iter_lines(file):
        event = parse_line(line, now_ms(), source_name)
        kinds[event.kind] += 1
        out.write(dumps(event))
        out.write("\n")
    out.flush()
    elapsed = max(time.perf_counter() - started, 1e-9)
    total = sum(kinds.values())
    by_kind = ", ".join(f"{kind}={n}" for kind, n in kinds.most_common())
    click.echo(
        f"parsed {total} lines ({by_kind or 'none'}); errors={kinds['error']}; "
        f"{total / elapsed:,.0f} lines/s",
        err=True,
    )
