"""The learned chat layer: a linear model over :mod:`chat_features`, shipped as ``chat_model.tsv``.

Three weights per feature name (positive, neutral, negative); a message's class scores are the
sums over its features, divided by the calibration temperature, and its probabilities their
softmax. The file is written by ``python -m chatpulse.sentiment.train_chat_model`` from the
development part of the hand-labeled real-chat set only; its header says how it was trained.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Final

from chatpulse.errors import ModelError
from chatpulse.events import SentimentLabel
from chatpulse.sentiment.base import tsv_rows

CLASSES: Final[tuple[SentimentLabel, SentimentLabel, SentimentLabel]] = ("positive", "neutral", "negative")
SHIPPED: Final = "chat_model.tsv"


@dataclass(frozen=True, slots=True)
class ChatModel:
    """Weights by feature name, and the temperature that calibrates the probabilities."""

    weights: dict[str, tuple[float, float, float]]
    temperature: float = 1.0

    def probabilities(self, names: Iterable[str]) -> tuple[float, float, float]:
        """P(positive), P(neutral), P(negative) for a message with feature ``names``."""
        weights = self.weights
        pos = neu = neg = 0.0
        for name in names:
            w = weights.get(name)
            if w is not None:
                pos += w[0]
                neu += w[1]
                neg += w[2]
        t = self.temperature
        top = max(pos, neu, neg)
        ep, eu, en = math.exp((pos - top) / t), math.exp((neu - top) / t), math.exp((neg - top) / t)
        total = ep + eu + en
        return ep / total, eu / total, en / total

    def to_text(self, header: str) -> str:
        """The TSV form :func:`parse_chat_model` reads (``header`` lines become ``#`` comments)."""
        lines = [f"# {line}".rstrip() for line in header.splitlines()]
        lines.append("feature\tpositive\tneutral\tnegative")
        lines.append(f"@temperature\t{self.temperature:.4f}\t\t")
        for name in sorted(self.weights):
            p, u, n = self.weights[name]
            lines.append(f"{name}\t{p:.4f}\t{u:.4f}\t{n:.4f}")
        return "\n".join(lines) + "\n"


def parse_chat_model(text: str, where: str) -> ChatModel:
    """Parse the TSV; a malformed line raises :class:`~chatpulse.errors.ModelError`."""
    weights: dict[str, tuple[float, float, float]] = {}
    temperature = 1.0
    for number, parts in tsv_rows(text):
        try:
            if parts[0] == "@temperature":
                temperature = float(parts[1])
                if not temperature > 0:
                    raise ValueError
                continue
            if len(parts) != 4:
                raise ValueError
            weights[parts[0]] = (float(parts[1]), float(parts[2]), float(parts[3]))
        except (ValueError, IndexError):
            raise ModelError(f"{where}:{number}: expected feature<TAB>3 weights") from None
    if "bias" not in weights:
        raise ModelError(f"{where}: no bias row: not a chat model file")
    return ChatModel(weights, temperature)


def load_chat_model(path: Path | None = None) -> ChatModel:
    """The model at ``path``, or the one shipped with ChatPulse."""
    if path is None:
        source = resources.files("chatpulse.sentiment").joinpath(SHIPPED)
        return parse_chat_model(source.read_text(encoding="utf-8"), SHIPPED)
    try:
        return parse_chat_model(path.read_text(encoding="utf-8"), str(path))
    except OSError as exc:
        raise ModelError(f"chat model {path}: {exc.strerror}") from exc
