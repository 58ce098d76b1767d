"""Sentiment analysis: analyzers and the enrich step.

- :class:`~chatpulse.sentiment.base.Analyzer` is the extension point (``analyze(batch)``).
- ``lexicon`` (default): :class:`~chatpulse.sentiment.lexicon.LexiconAnalyzer`, VADER's rules
  plus a Twitch lexicon; pure Python, no model files.
- ``transformer``: :class:`~chatpulse.sentiment.transformer.TransformerAnalyzer`, any Hugging
  Face sequence-classification model on ONNX Runtime or PyTorch (imported only when chosen).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from chatpulse.config import SentimentSettings
from chatpulse.events import ChatEvent
from chatpulse.sentiment.base import Analyzer, MessageLike

__all__ = ["Analyzer", "MessageLike", "create_analyzer", "enrich_events"]


def create_analyzer(settings: SentimentSettings) -> Analyzer:
    """The analyzer ``settings`` describe. Raises :class:`~chatpulse.errors.ModelError` (CLI exit
    2) with a one-line how-to-get-it when a model, lexicon or backend library is missing."""
    if settings.analyzer == "lexicon":
        from chatpulse.sentiment.lexicon import LexiconAnalyzer

        return LexiconAnalyzer(settings.lexicon)
    from chatpulse.sentiment.emotes import load_emote_map
    from chatpulse.sentiment.transformer import TransformerAnalyzer

    return TransformerAnalyzer(
        settings.model,
        backend=settings.backend,
        device=settings.device,
        batch_size=settings.batch_size,
        max_length=settings.max_length,
        emote_map=load_emote_map(settings.emote_map) if settings.emote_normalization else None,
    )


def enrich_events(events: Sequence[ChatEvent], analyzer: Analyzer) -> list[ChatEvent]:
    """``events`` in order, chat messages (and user notices with text) with ``sentiment`` set;
    every other event passes through unchanged. One ``analyze`` call for the whole batch."""
    from chatpulse.stages import score  # the one scoring rule (imported here: stages imports us)

    verdicts = score(events, analyzer)
    out = list(events)
    for i, verdict in verdicts.items():
        out[i] = dataclasses.replace(events[i], sentiment=verdict)  # type: ignore[call-arg]
    return out
