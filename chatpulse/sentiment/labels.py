"""Mapping a model's ``id2label`` onto positive/neutral/negative. Pure.

Recognised label names (case-insensitive): anything containing ``pos``/``neg``/``neu``
(``positive``, ``NEGATIVE``, ``neutral``); star ratings (``1 star`` .. ``5 stars``: 1-2
negative, 3 neutral, 4-5 positive); and the generic ``LABEL_k`` names, read by the convention of
the common Twitter sentiment models (three classes: 0 negative, 1 neutral, 2 positive; two
classes: 0 negative, 1 positive).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from chatpulse.errors import ModelError
from chatpulse.events import SentimentLabel

_GENERIC: Final = re.compile(r"label_(\d+)")
_STARS: Final = re.compile(r"([1-5])\s*stars?")
_BY_POSITION: Final[dict[int, tuple[SentimentLabel, ...]]] = {
    2: ("negative", "positive"),
    3: ("negative", "neutral", "positive"),
}


def _named(name: str) -> SentimentLabel | None:
    lowered = name.lower()
    if "neg" in lowered:
        return "negative"
    if "pos" in lowered:
        return "positive"
    if "neu" in lowered:
        return "neutral"
    stars = _STARS.fullmatch(lowered.strip())
    if stars is not None:
        value = int(stars.group(1))
        return "negative" if value <= 2 else "neutral" if value == 3 else "positive"
    return None


def label_classes(id2label: Mapping[str, str] | Mapping[int, str]) -> list[SentimentLabel]:
    """The sentiment class of each output index, in index order; ModelError if unmappable."""
    try:
        pairs = sorted((int(index), str(name)) for index, name in id2label.items())
    except (TypeError, ValueError):
        raise ModelError("config.json id2label must map integer ids to names") from None
    if not pairs or [index for index, _ in pairs] != list(range(len(pairs))):
        raise ModelError("config.json id2label must cover ids 0..n-1")
    classes: list[SentimentLabel] = []
    for index, name in pairs:
        label = _named(name)
        if label is None and _GENERIC.fullmatch(name.lower()) and len(pairs) in _BY_POSITION:
            label = _BY_POSITION[len(pairs)][index]
        if label is None:
            names = ", ".join(name for _, name in pairs)
            raise ModelError(f"cannot map the model's labels ({names}) to positive/neutral/negative")
        classes.append(label)
    if "positive" not in classes or "negative" not in classes:
        raise ModelError("a sentiment model needs at least a positive and a negative label")
    return classes
