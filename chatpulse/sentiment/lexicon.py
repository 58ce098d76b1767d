"""``LexiconAnalyzer``: the default analyzer, VADER's rules plus the Twitch lexicon. Pure and fast.

Chat repeats itself (emote spam, copypasta, "W", "LUL"), so verdicts are cached by message
text (and emote-span names, which can change how a token is read). The cache is bounded: when
full, the oldest entries go first.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Final

from chatpulse.events import Sentiment
from chatpulse.sentiment.base import MessageLike, sentiment_for_score
from chatpulse.sentiment.twitch_lexicon import load_twitch_lexicon
from chatpulse.sentiment.vader_rules import RuleScorer

DEFAULT_CACHE_SIZE: Final = 100_000


class LexiconAnalyzer:
    """Scores messages with :class:`~chatpulse.sentiment.vader_rules.RuleScorer`.

    ``lexicon_path`` replaces the shipped Twitch lexicon (same TSV format); a malformed file
    raises :class:`~chatpulse.errors.ModelError` here, never during ``analyze``.
    ``cache_size=0`` turns caching off.
    """

    name = "lexicon"
    version = "1"  # bump when the rules or the shipped lexicon change scores

    def __init__(self, lexicon_path: Path | None = None, cache_size: int = DEFAULT_CACHE_SIZE) -> None:
        self._scorer = RuleScorer(load_twitch_lexicon(lexicon_path))
        self._cache: dict[object, Sentiment] = {}
        self._cache_size = cache_size
        self._model_id = f"{self.name}@{self.version}"

    @property
    def model_id(self) -> str:
        return self._model_id

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
                verdict = sentiment_for_score(self._scorer.compound(text, names), self._model_id)
                if self._cache_size:
                    if len(cache) >= self._cache_size:
                        del cache[next(iter(cache))]
                    cache[key] = verdict
            out.append(verdict)
        return out

    def score(self, text: str) -> float:
        """The compound score of one text, uncached (for tools and tests)."""
        return self._scorer.compound(text)
