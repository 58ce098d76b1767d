"""Labeled evaluation sets and the scores the benchmark reports (macro-F1, accuracy). Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from chatpulse.sentiment.base import tsv_rows

LABELS: Final = ("positive", "neutral", "negative")


@dataclass(frozen=True, slots=True)
class LabeledMessage:
    """One evaluation message with the label a person gave it."""

    label: str
    category: str
    text: str


def load_labeled(path: Path) -> list[LabeledMessage]:
    """Read a ``label<TAB>category<TAB>text`` file (``#`` comments, one header row)."""
    rows: list[LabeledMessage] = []
    for number, parts in tsv_rows(path.read_text(encoding="utf-8")):
        if len(parts) != 3 or parts[0] not in LABELS:
            raise ValueError(f"{path}:{number}: expected label<TAB>category<TAB>text")
        rows.append(LabeledMessage(parts[0], parts[1], parts[2]))
    return rows


@dataclass(frozen=True, slots=True)
class EmoteAt:
    """An emote span of a labeled real-chat message (same shape as the events' ``Emote``)."""

    name: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class ChatExample:
    """One hand-labeled real chat message (``tests/data/sentiment_real_chat.tsv``)."""

    id: str
    source: str  # the capture it came from, e.g. "xqcow-2019-09-15"
    split: str  # "dev" or "heldout"
    label: str
    text: str
    emotes: tuple[EmoteAt, ...]  # where the message's Twitch emote names stand in ``text``


def _spans(text: str, names: list[str]) -> tuple[EmoteAt, ...]:
    """Emote spans for every whitespace-separated word of ``text`` that is one of ``names``."""
    wanted = set(names)
    spans: list[EmoteAt] = []
    at = 0
    for word in text.split(" "):
        if word in wanted:
            spans.append(EmoteAt(word, at, at + len(word)))
        at += len(word) + 1
    return tuple(spans)


def load_real_chat(path: Path, split: str | None = None) -> list[ChatExample]:
    """Read the real-chat set (``id, source, line, split, label, emotes, text`` columns, ``#``
    comments, one header row); ``split`` keeps only ``"dev"`` or ``"heldout"`` rows."""
    rows: list[ChatExample] = []
    for number, parts in tsv_rows(path.read_text(encoding="utf-8")):
        if len(parts) != 7 or parts[4] not in LABELS or parts[3] not in ("dev", "heldout"):
            raise ValueError(f"{path}:{number}: expected id, source, line, split, label, emotes, text")
        if split is None or parts[3] == split:
            names = [] if parts[5] == "-" else parts[5].split(" ")
            rows.append(
                ChatExample(parts[0], parts[1], parts[3], parts[4], parts[6], _spans(parts[6], names))
            )
    return rows


def accuracy(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Share of predictions equal to the gold label."""
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted differ in length")
    return sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold) if gold else 0.0


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Unweighted mean of per-class F1 over positive, neutral and negative."""
    scores = per_class_f1(gold, predicted)
    return sum(scores.values()) / len(scores)


def per_class_f1(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, float]:
    """F1 of each of positive, neutral and negative (0.0 for a class never gold nor predicted)."""
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted differ in length")
    out: dict[str, float] = {}
    for label in LABELS:
        tp = sum(g == label and p == label for g, p in zip(gold, predicted, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted, strict=True))
        out[label] = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return out


def confusion(gold: Sequence[str], predicted: Sequence[str]) -> list[list[int]]:
    """Counts ``[gold][predicted]`` in :data:`LABELS` order (rows: what people said)."""
    index = {label: i for i, label in enumerate(LABELS)}
    matrix = [[0] * len(LABELS) for _ in LABELS]
    for g, p in zip(gold, predicted, strict=True):
        matrix[index[g]][index[p]] += 1
    return matrix


def reliability(
    gold: Sequence[str], predicted: Sequence[str], confidence: Sequence[float], edges: Sequence[float] = ()
) -> list[tuple[float, float, int, float, float]]:
    """Per confidence band ``[low, high)``: (low, high, count, mean confidence, share correct);
    empty bands are left out. Default bands: 1/3, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0 (last one closed)."""
    bands = list(edges) or [1 / 3, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    out = []
    for k, (low, high) in enumerate(zip(bands, bands[1:], strict=False)):
        last = k == len(bands) - 2
        picked = [
            (c, g == p)
            for g, p, c in zip(gold, predicted, confidence, strict=True)
            if low <= c < high or (last and c == high)
        ]
        if picked:
            count = len(picked)
            out.append(
                (low, high, count, sum(c for c, _ in picked) / count, sum(ok for _, ok in picked) / count)
            )
    return out
