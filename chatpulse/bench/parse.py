"""``chatpulse bench parse``: ChatPulse's parser vs a naive ``str.split`` parse, same lines, one core."""

from __future__ import annotations

import time
from collections.abc import Callable

from chatpulse.bench import BenchOptions, Measurement
from chatpulse.irc.parser import SPLIT_IRC_IMPLEMENTATION
from chatpulse.irc.twitch import parse_line
from chatpulse.sources.replay import iter_lines

TARGET_LINES_PER_S = 200_000
# Which split_irc parse_line runs on, named in the result: the native one (chatpulse/irc/_fastirc.c)
# or the pure-Python one (no compiler at install, or CHATPULSE_PURE_PYTHON=1).
_SPLIT_IRC = "native C" if SPLIT_IRC_IMPLEMENTATION == "native" else "pure-Python"


def naive_split_parse(line: str) -> tuple[dict[str, str], list[str]]:
    """The baseline: what a quick script does (no unescaping, no validation, no typed event)."""
    tags: dict[str, str] = {}
    if line.startswith("@"):
        block, _, line = line[1:].partition(" ")
        for item in block.split(";"):
            key, _, value = item.partition("=")
            tags[key] = value
    head, _, trailing = line.partition(" :")
    return tags, [*head.split(" "), trailing]


def _seconds(lines: list[str], parse: Callable[[str], object]) -> float:
    started = time.perf_counter()
    for line in lines:
        parse(line)
    return time.perf_counter() - started


def _best_rates(
    lines: list[str], ours: Callable[[str], object], baseline: Callable[[str], object], rounds: int
) -> tuple[float, float]:
    """Best-of-``rounds`` lines/s for both parsers on the same lines.

    The two alternate round by round, so a slow spell of a shared CPU hits both alike.
    """
    best_ours = best_baseline = float("inf")
    for _ in range(rounds):
        best_ours = min(best_ours, _seconds(lines, ours))
        best_baseline = min(best_baseline, _seconds(lines, baseline))
    return len(lines) / best_ours, len(lines) / best_baseline


def run(options: BenchOptions) -> list[Measurement]:
    lines = list(iter_lines(options.shared_data / "replay" / "xqcow-2019-09-15.irc.gz"))
    rounds = 2 if options.quick else 9
    ours, naive = _best_rates(lines, lambda line: parse_line(line, 0, "replay"), naive_split_parse, rounds)
    return [
        Measurement("parse", f"chatpulse parse_line (xqcow, 5,000 lines; {_SPLIT_IRC} split_irc)", ours,
                    "lines/s", f">= {TARGET_LINES_PER_S:,}", ours >= TARGET_LINES_PER_S),
        Measurement("parse", "naive str.split baseline (same lines)", naive, "lines/s"),
        Measurement("parse", "chatpulse / naive", ours / naive, "ratio"),
    ]  # fmt: skip
