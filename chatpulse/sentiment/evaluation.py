"""Labeled evaluation sets and the scores the benchmark reports (macro-F1, accuracy). Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

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
    header_seen = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        if not header_seen:
            header_seen = True
            continue
        parts = line.split("\t")
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
    header_seen = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        if not header_seen:
            header_seen = True
            continue
        parts = line.split("\t")
        if len(parts) != 7 or parts[4] not in LABELS or parts[3] not in ("dev", "heldout"):
            raise ValueError(f"{path}:{number}: expected id, source, line, split, label, emotes, text")
        if split is None or parts[3] == split:
            names = [] if parts[5] == "-" else parts[5].split(" ")
            rows.append(ChatExample(parts[0], parts[3], parts[4], parts[6], _spans(parts[6], names)))
    return rows


def accuracy(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Share of predictions equal to the gold label."""
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted differ in length")
    return sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold) if gold else 0.0


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Unweighted mean of per-class F1 over positive, neutral and negative."""
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted differ in length")
    scores = []
    for label in LABELS:
        tp = sum(g == label and p == label for g, p in zip(gold, predicted, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return sum(scores) / len(scores)
