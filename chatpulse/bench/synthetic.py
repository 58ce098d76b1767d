"""``chatpulse bench synthetic``: the synthetic firehose and third-party emote matching, one core.

Measures, in one run: lines/s of :func:`generate_lines`; lines/s of parsing those lines; and
msgs/s of :meth:`EmoteIndex.annotate` on the parsed messages with a 1,000-emote table, beside the
naive baseline a quick script would write (a precompiled whole-word regex per emote name).
"""

from __future__ import annotations

import re
import time

from chatpulse.bench import BenchOptions, Measurement
from chatpulse.emotes import EmoteIndex, EmoteSet
from chatpulse.events import MessageEvent
from chatpulse.irc.twitch import parse_line
from chatpulse.sources.synthetic import vocabulary as vocab
from chatpulse.sources.synthetic.chat import generate_lines

GENERATOR_TARGET = 100_000  # lines/s: the issue asks for "well over 100k" on one core


def _emote_table() -> list[tuple[str, str]]:
    typed = {*vocab.POSITIVE_EMOTES, *vocab.NEGATIVE_EMOTES, *vocab.NEUTRAL_EMOTES} - set(vocab.TWITCH_EMOTES)
    fillers = [f"chan{i:04d}Emote" for i in range(1000 - len(typed))]
    return [(f"id{i}", name) for i, name in enumerate(sorted(typed) + fillers)]


def naive_find(text: str, patterns: list[tuple[str, re.Pattern[str]]]) -> list[tuple[str, int]]:
    """The baseline: every emote name searched for as a whole word (precompiled regexes)."""
    found = []
    for name, pattern in patterns:
        for match in pattern.finditer(text):
            found.append((name, match.start()))
    return found


def run(options: BenchOptions) -> list[Measurement]:
    count = 50_000 if options.quick else 300_000
    started = time.perf_counter()
    lines = list(generate_lines(count, channels=8, seed=1))
    generated = count / (time.perf_counter() - started)

    started = time.perf_counter()
    for line in lines:  # streamed, as in the pipeline: keeping 300k events would time the GC
        parse_line(line, 0, "synthetic")
    parsed = count / (time.perf_counter() - started)
    messages = [e for e in map(parse_line, lines[:100_000], [0] * 100_000) if isinstance(e, MessageEvent)]

    table = _emote_table()
    index = EmoteIndex([EmoteSet("7tv", None, tuple(table), 0.0)])
    started = time.perf_counter()
    for message in messages:
        index.annotate(message)
    annotated = len(messages) / (time.perf_counter() - started)

    patterns = [(name, re.compile(rf"(?<!\S){re.escape(name)}(?!\S)")) for _, name in table]
    sample = messages[: 500 if options.quick else 2000]
    started = time.perf_counter()
    for message in sample:
        naive_find(message.text, patterns)
    naive = len(sample) / (time.perf_counter() - started)
    return [
        Measurement("synthetic", f"generate_lines ({count:,} lines, 8 channels)", generated, "lines/s",
                    f">= {GENERATOR_TARGET:,}", generated >= GENERATOR_TARGET),
        Measurement("synthetic", "parse_line on synthetic lines", parsed, "lines/s"),
        Measurement("synthetic", "EmoteIndex.annotate (1,000 emotes)", annotated, "msgs/s"),
        Measurement("synthetic", "naive: one regex per emote name (same table)", naive, "msgs/s"),
        Measurement("synthetic", "annotate / naive", annotated / naive, "ratio"),
    ]  # fmt: skip
