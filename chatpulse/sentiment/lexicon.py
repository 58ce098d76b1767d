"""``LexiconAnalyzer``: the default analyzer, VADER's rules plus the Twitch lexicon, read through a
learned linear layer (:mod:`chat_model`). Pure and fast.

The rules give a compound score; the layer combines it with the message's tokens, emotes and shape
(:mod:`chat_features`) into calibrated class probabilities: the label is the likeliest class,
``confidence`` its probability, ``score`` P(positive) - P(negative). ``learned=False`` keeps the
rules alone (version 1: label by VADER's thresholds on the compound score).

A message the language gate (:mod:`language`) finds not to be English is not read by English
rules: it gets ``lang``, label neutral, score 0 and confidence 1/3 (a guess among three classes).

Chat repeats itself (emote spam, copypasta, "W", "LUL"), so verdicts are cached by message
text (and emote-span names, which can change how a token is read). The cache is bounded: when
full, the oldest entries go first.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Final

from chatpulse.events import Sentiment
from chatpulse.sentiment.base import MessageLike, clean_text, sentiment_for_score
from chatpulse.sentiment.chat_features import ChatFeatures
from chatpulse.sentiment.chat_model import CLASSES, ChatModel, load_chat_model
from chatpulse.sentiment.english import COMMON_WORDS
from chatpulse.sentiment.language import LanguageGate
from chatpulse.sentiment.twitch_lexicon import load_twitch_lexicon
from chatpulse.sentiment.vader_rules import RuleScorer

DEFAULT_CACHE_SIZE: Final = 100_000
NON_ENGLISH_CONFIDENCE: Final = round(1 / 3, 4)


class LexiconAnalyzer:
    """Scores messages with :class:`~chatpulse.sentiment.vader_rules.RuleScorer`.

    ``lexicon_path`` replaces the shipped Twitch lexicon (same TSV format); a malformed file
    raises :class:`~chatpulse.errors.ModelError` here, never during ``analyze``. ``model``
    replaces the shipped learned layer; ``learned=False`` uses the rules alone;
    ``detect_language=False`` reads every message as English.
    ``cache_size=0`` turns caching off.
    """

    name = "lexicon"

    def __init__(
        self,
        lexicon_path: Path | None = None,
        cache_size: int = DEFAULT_CACHE_SIZE,
        *,
        learned: bool = True,
        model: ChatModel | None = None,
        detect_language: bool = True,
    ) -> None:
        lexicon = load_twitch_lexicon(lexicon_path)
        self._scorer = RuleScorer(lexicon)
        known = frozenset(lexicon.emotes) | lexicon.sarcasm
        self._features = ChatFeatures(known)
        self._model = (model or load_chat_model()) if learned else None
        english = self._scorer.vader_words | COMMON_WORDS
        self._language = LanguageGate(english, known) if detect_language else None
        # bump when the rules, the shipped lexicon or the shipped layer change verdicts
        self.version = "2" if learned else "1"
        self._cache: dict[object, Sentiment] = {}
        self._cache_size = cache_size
        self._model_id = f"{self.name}@{self.version}"

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def language_gate(self) -> LanguageGate | None:
        """What decides which messages are not English (None with ``detect_language=False``)."""
        return self._language

    def analyze(self, batch: Sequence[MessageLike]) -> list[Sentiment]:
        cache = self._cache
        out: list[Sentiment] = []
        for message in batch:
            key: object
            if isinstance(message, str):
                text = key = message
                names: frozenset[str] = frozenset()
            else:
                text = message.text
                names = frozenset(e.name for e in message.emotes) if message.emotes else frozenset()
                key = (text, names) if names else text
            verdict = cache.get(key)
            if verdict is None:
                verdict = self._verdict(text, names)
                if self._cache_size:
                    if len(cache) >= self._cache_size:
                        del cache[next(iter(cache))]
                    cache[key] = verdict
            out.append(verdict)
        return out

    def clear_caches(self) -> None:
        """Forget every verdict and analysed token, keeping the loaded lexicon and layer: the
        state of a fresh analyzer without re-reading its data files."""
        self._cache.clear()
        self._scorer.clear_caches()
        self._features.clear_caches()
        if self._language is not None:
            self._language.clear_caches()

    def _verdict(self, text: str, names: frozenset[str]) -> Sentiment:
        if self._language is not None:
            lang = self._language.language(clean_text(text), names)
            if lang is not None:
                return Sentiment("neutral", 0.0, NON_ENGLISH_CONFIDENCE, self._model_id, lang)
        compound = self._scorer.compound(text, names)
        if self._model is None:
            return sentiment_for_score(compound, self._model_id)
        pos, neu, neg = self._model.probabilities(self._features.features(clean_text(text), compound, names))
        best = 0 if pos >= neu and pos >= neg else 1 if neu >= neg else 2
        return Sentiment(
            label=CLASSES[best],
            score=round(pos - neg, 4),
            confidence=round(max(pos, neu, neg), 4),
            model=self._model_id,
        )

    def score(self, text: str) -> float:
        """The compound score of one text, uncached (for tools and tests)."""
        return self._scorer.compound(text)
