"""The analyzer extension point and helpers every analyzer shares.

An :class:`Analyzer` turns a batch of messages into one :class:`~chatpulse.events.Sentiment`
each. The enrich stage (``chatpulse.sentiment.enrich_events``, the ``sentiment`` CLI, the
pipeline) calls ``analyze`` with batches it has collected; analyzers never see other event kinds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Final, Protocol

from chatpulse.events import Sentiment, SentimentLabel


class EmoteSpan(Protocol):
    """Where an emote sits in a message's text: ``text[start:end] == name``."""

    @property
    def name(self) -> str: ...

    @property
    def start(self) -> int: ...

    @property
    def end(self) -> int: ...


class ChatText(Protocol):
    """A message as an analyzer reads it: its text and emote spans. Message and user-notice
    events are ChatTexts, and so are the enrich service's wire views of them."""

    @property
    def text(self) -> str: ...

    @property
    def emotes(self) -> Sequence[EmoteSpan]: ...


MessageLike = str | ChatText

# VADER's documented thresholds on the compound score; ChatPulse uses them for every analyzer
# that produces a continuous score (github.com/cjhutto/vaderSentiment, "About the scoring").
POSITIVE_THRESHOLD: Final = 0.05
NEGATIVE_THRESHOLD: Final = -0.05

# Characters that carry no meaning for sentiment: Twitch clients append U+E0000 (a "tag" code
# point, shown as nothing) to repeated messages to get past the duplicate-message filter, and
# emoji often carry a variation selector (U+FE0F) or a zero-width joiner.
INVISIBLE: Final = dict.fromkeys(map(ord, "\U000e0000\ufe0f\ufe0e\u200b\u200d\u2060"), " ")


class Analyzer(Protocol):
    """Scores chat messages.

    ``analyze`` is called by the enrich stage with a batch of messages (plain strings or
    message/usernotice events, whose emote spans the analyzer may use) and returns exactly one
    sentiment per input, in the same order. It must not raise for odd text (empty, emoji only,
    any language): such messages get a neutral sentiment. A model that cannot run at all is
    reported when the analyzer is created (:class:`~chatpulse.errors.ModelError`), not per batch.
    """

    name: str
    version: str

    @property
    def model_id(self) -> str:
        """``"<name>@<version>"``, written into ``Sentiment.model``."""
        ...

    def analyze(self, batch: Sequence[MessageLike]) -> list[Sentiment]:
        """One sentiment per message, same length and order as ``batch``."""
        ...


def text_of(message: MessageLike) -> str:
    """The words a message says (the event's ``text``, or the string itself)."""
    return message if isinstance(message, str) else message.text


def emote_names_of(message: MessageLike) -> frozenset[str]:
    """Names the message's emote spans mark as emotes (empty for plain strings)."""
    if isinstance(message, str) or not message.emotes:
        return frozenset()
    return frozenset(emote.name for emote in message.emotes)


def clean_text(text: str) -> str:
    """``text`` without invisible characters (see :data:`INVISIBLE`); ASCII passes untouched."""
    if text.isascii():
        return text
    return text.translate(INVISIBLE)


def label_for(score: float) -> SentimentLabel:
    """Positive/neutral/negative for a score in [-1, 1], by VADER's thresholds."""
    if score >= POSITIVE_THRESHOLD:
        return "positive"
    if score <= NEGATIVE_THRESHOLD:
        return "negative"
    return "neutral"


def sentiment_for_score(score: float, model: str) -> Sentiment:
    """A sentiment from a continuous score.

    Confidence grows with the distance from the decision boundary: a polar label gets
    ``0.5 + |score| / 2``; a neutral one is surest at 0 and falls to 0.5 at the thresholds.
    """
    label = label_for(score)
    if label == "neutral":
        confidence = 1.0 - 0.5 * abs(score) / POSITIVE_THRESHOLD
    else:
        confidence = 0.5 + 0.5 * min(abs(score), 1.0)
    return Sentiment(label=label, score=score, confidence=round(confidence, 4), model=model)


def tsv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, tab-separated fields) of each data row of a ChatPulse TSV file: blank lines,
    ``#`` comments and the first remaining row (the column header) are skipped."""
    header_seen = False
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        if not header_seen:
            header_seen = True
            continue
        yield number, line.split("\t")
