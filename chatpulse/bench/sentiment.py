"""``chatpulse bench sentiment``: plain vaderSentiment vs the lexicon and transformer analyzers.

Quality (macro-F1, accuracy) on the project's labeled set (``tests/data/sentiment_eval_authored.tsv``,
or ``--opt eval=PATH``); speed on real chat (the shared xqcow and nymn captures, as parsed
events with their emote spans), all in one run on one CPU core (the process is pinned while
measuring). The lexicon analyzer is measured with a fresh cache each round, so only repeats
within the stream itself hit it, and once more with caching off.

The transformer row uses the tiny test model built into a temporary folder (speed shape only:
its F1 means nothing) unless ``--opt model=PATH_OR_ID`` names a real local model.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from chatpulse.bench import BenchOptions, Measurement
from chatpulse.events import MessageEvent
from chatpulse.irc.twitch import parse_line
from chatpulse.sentiment.base import MessageLike, label_for
from chatpulse.sentiment.evaluation import accuracy, load_labeled, macro_f1
from chatpulse.sentiment.lexicon import LexiconAnalyzer
from chatpulse.sources.replay import iter_lines

TARGET_MSGS_PER_S = 50_000
TARGET_F1_GAIN = 15.0  # points of macro-F1 above plain VADER
DEFAULT_EVAL = Path(__file__).resolve().parents[2] / "tests" / "data" / "sentiment_eval_authored.tsv"
CAPTURES = ("replay/xqcow-2019-09-15.irc.gz", "replay/nymn-2024-01-06.json")


@contextmanager
def _one_core() -> Iterator[None]:
    """Pin this process to one CPU while measuring (where the OS allows it)."""
    if not hasattr(os, "sched_getaffinity"):
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def _chat(shared: Path) -> list[MessageEvent]:
    events = []
    for capture in CAPTURES:
        for line in iter_lines(shared / capture):
            event = parse_line(line, 0, "replay")
            if isinstance(event, MessageEvent) and event.kind == "message":
                events.append(event)
    return events


def _best_rate(count: int, work: Callable[[], object], rounds: int) -> float:
    best = 0.0
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        best = max(best, count / (time.perf_counter() - started))
    return best


def _quality(bench: str, who: str, gold: Sequence[str], labels: Sequence[str]) -> list[Measurement]:
    return [
        Measurement(bench, f"{who}: macro-F1", 100 * macro_f1(gold, labels), "points"),
        Measurement(bench, f"{who}: accuracy", 100 * accuracy(gold, labels), "%"),
    ]


def _vader(
    texts: list[str], gold: list[str], chat: list[str], rounds: int
) -> tuple[float, list[Measurement]]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    vader = SentimentIntensityAnalyzer()
    labels = [label_for(vader.polarity_scores(t)["compound"]) for t in texts]
    rate = _best_rate(len(chat), lambda: [vader.polarity_scores(t) for t in chat], rounds)
    rows = _quality("sentiment", "plain vaderSentiment", gold, labels)
    rows.append(
        Measurement(
            "sentiment", f"plain vaderSentiment: speed ({len(chat):,} real chat msgs)", rate, "msgs/s"
        )
    )
    return macro_f1(gold, labels), rows


def _lexicon(
    texts: list[str], gold: list[str], chat: list[MessageEvent], rounds: int, vader_f1: float
) -> list[Measurement]:
    labels = [s.label for s in LexiconAnalyzer().analyze(texts)]
    gain = 100 * (macro_f1(gold, labels) - vader_f1)
    cold = _best_rate(len(chat), lambda: LexiconAnalyzer().analyze(chat), rounds)
    uncached = _best_rate(len(chat), lambda: LexiconAnalyzer(cache_size=0).analyze(chat), rounds)
    rows = _quality("sentiment", "lexicon", gold, labels)
    rows += [
        Measurement("sentiment", "lexicon: macro-F1 gain over plain VADER", gain, "points",
                    f">= {TARGET_F1_GAIN:.0f}", gain >= TARGET_F1_GAIN),
        Measurement("sentiment", f"lexicon: speed, fresh cache ({len(chat):,} real chat msgs)", cold,
                    "msgs/s", f">= {TARGET_MSGS_PER_S:,}", cold >= TARGET_MSGS_PER_S),
        Measurement("sentiment", "lexicon: speed, cache off (same msgs)", uncached, "msgs/s"),
    ]  # fmt: skip
    return rows


def _transformer(
    options: BenchOptions, texts: list[str], gold: list[str], chat: list[MessageEvent], rounds: int
) -> list[Measurement]:
    try:
        from chatpulse.sentiment.emotes import load_emote_map
        from chatpulse.sentiment.transformer import TransformerAnalyzer
    except ImportError as exc:
        return [Measurement("sentiment", "transformer: skipped", 0, "", note=f"missing {exc.name}")]
    model = options.extra.get("model")
    with tempfile.TemporaryDirectory(prefix="chatpulse-tiny-") as tmp:
        note = "real model"
        if model is None:
            try:
                from chatpulse.sentiment.tiny_model import build_tiny_model
            except ImportError as exc:  # pragma: no cover - onnx is a dev dependency
                return [Measurement("sentiment", "transformer: skipped", 0, "", note=f"missing {exc.name}")]
            model = str(build_tiny_model(Path(tmp) / "tiny-sentiment"))
            note = "tiny test model: speed shape only, F1 meaningless"
        analyzer = TransformerAnalyzer(
            model,
            backend="onnx",
            batch_size=int(options.extra.get("batch_size", "64")),
            emote_map=load_emote_map(),
        )
        labels = [s.label for s in analyzer.analyze(texts)]
        sample: Sequence[MessageLike] = (
            chat if note.startswith("tiny") else chat[: 500 if options.quick else 2000]
        )
        rate = _best_rate(len(sample), lambda: analyzer.analyze(sample), max(1, rounds // 2))
    who = f"transformer ONNX ({analyzer.model_id})"
    rows = _quality("sentiment", who, gold, labels)
    rows.append(
        Measurement("sentiment", f"{who}: speed ({len(sample):,} real chat msgs)", rate, "msgs/s", note=note)
    )
    return rows


def run(options: BenchOptions) -> list[Measurement]:
    labeled = load_labeled(Path(options.extra.get("eval", DEFAULT_EVAL)))
    texts = [row.text for row in labeled]
    gold = [row.label for row in labeled]
    chat = _chat(options.shared_data)
    rounds = 2 if options.quick else 5
    with _one_core():
        vader_f1, rows = _vader(texts, gold, [e.text for e in chat], rounds)
        rows += _lexicon(texts, gold, chat, rounds, vader_f1)
        rows += _transformer(options, texts, gold, chat, rounds)
    return rows
