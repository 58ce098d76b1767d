"""Which chat messages are not English: a cheap gate, then a language identifier where it matters.

English rules read foreign words as English ("fin" is not an ending, "bad" in Swedish chat is a
bath, "die" is not dying), so a message in another language gets ``lang`` and a neutral label
with the confidence of a guess instead. Most chat is English or emotes only, so the identifier
(lingua, whose models ship inside its wheel: nothing is downloaded) runs only when the gate
finds a word in a non-Latin script, or more common words of another language than of English
(:mod:`chatpulse.sentiment.english`, plus VADER's lexicon as English). A Latin-script verdict
also needs the identifier to name one of the languages whose common words were found; emotes,
mentions and links are left out of the counts and of what the identifier reads.
"""

from __future__ import annotations

import importlib.util
import re
import string
from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

from chatpulse.errors import ModelError
from chatpulse.sentiment.english import FOREIGN_WORDS

if TYPE_CHECKING:
    from lingua import LanguageDetector

MIN_CONFIDENCE: Final = 0.5  # the identifier's probability a non-English verdict needs
# Non-Latin-script languages common in Twitch chat, asked about words in those scripts.
NON_LATIN: Final = frozenset({"ru", "uk", "ja", "ko", "zh", "ar"})
_STRIP: Final = string.punctuation + "…¿¡«»“”"
# An emote-like token: mixed case after the first letter (PogU, monkaS, xqcL, KEKW is all caps
# and handled as a known emote or as caps).
_MIXED_CASE: Final = re.compile(r".+[a-z].*[A-Z]|.*[A-Z].*[a-z].*[A-Z]")


_Word = tuple[str, bool, bool, tuple[str, ...]]  # lower-case word, English, non-Latin, languages
_UNSEEN: Final = ("", False, False, ())
_WORD_CACHE_LIMIT: Final = 200_000


def _non_latin(word: str) -> bool:
    """Letters beyond Latin Extended-B (Cyrillic, CJK, Hangul, Arabic, ...)."""
    return any(c.isalpha() and ord(c) > 0x24F for c in word)


class LanguageGate:
    """``language(text, emote_names)``: an ISO 639-1 code when the message is not English."""

    def __init__(self, english: Iterable[str], emotes: Iterable[str]) -> None:
        if importlib.util.find_spec("lingua") is None:
            raise ModelError("language identification needs lingua: pip install lingua-language-detector")
        self._english = frozenset(w.lower() for w in english)
        self._emotes = frozenset(emotes)
        # word -> the languages whose common words include it (never English words)
        self._foreign: dict[str, tuple[str, ...]] = {}
        for code, words in FOREIGN_WORDS.items():
            for word in frozenset(words.split()) - self._english:
                self._foreign[word] = (*self._foreign.get(word, ()), code)
        self._detectors: dict[frozenset[str], LanguageDetector] = {}
        self._words: dict[str, _Word | None] = {}

    def clear_caches(self) -> None:
        """Forget every analysed word (benchmarks measure from cold caches)."""
        self._words.clear()

    def _word(self, word: str) -> _Word | None:
        """What the gate knows of a token (cached): None for emotes, mentions, links, numbers."""
        info = self._words.get(word, _UNSEEN)
        if info is not _UNSEEN:
            return info
        if len(self._words) >= _WORD_CACHE_LIMIT:
            self._words.clear()
        info = None
        if (
            word not in self._emotes
            and not word.startswith(("@", "!", "http"))
            and not _MIXED_CASE.match(word)
        ):
            stripped = word.strip(_STRIP)
            if len(stripped) >= 2 and stripped.replace("'", "").isalpha():
                lower = stripped.lower()
                info = (lower, lower in self._english, _non_latin(lower), self._foreign.get(lower, ()))
        self._words[word] = info
        return info

    def words(self, text: str, emote_names: frozenset[str] = frozenset()) -> list[str]:
        """The words the gate and the identifier read: no emotes, mentions, links or numbers."""
        return [info[0] for info in self._infos(text, emote_names)]

    def _infos(self, text: str, emote_names: frozenset[str]) -> list[_Word]:
        out = []
        for word in text.split():
            if word in emote_names:
                continue
            info = self._word(word)
            if info is not None:
                out.append(info)
        return out

    @staticmethod
    def _candidates(infos: list[_Word]) -> frozenset[str] | None:
        """Languages (ISO 639-1) the identifier may name; None: do not ask it (the message reads
        as English or has nothing to go on); empty: a non-Latin script, any of those."""
        if not infos:
            return None
        if any(info[2] for info in infos):
            return frozenset()
        hits: dict[str, int] = {}
        english = 0
        for _, is_english, _, foreign in infos:
            english += is_english
            for code in foreign:
                hits[code] = hits.get(code, 0) + 1
        found = frozenset(code for code, n in hits.items() if n > english)
        return found or None

    def _maybe_foreign(self, text: str, emote_names: frozenset[str]) -> bool:
        """The fast path most chat takes: no word of another language's lists, no non-Latin
        script -> English (or emotes), decided in one pass over cached words."""
        cache = self._words
        for word in text.split():
            info = cache.get(word, _UNSEEN)
            if info is _UNSEEN:
                info = self._word(word)
            if info is not None and (info[2] or info[3]) and word not in emote_names:
                return True
        return False

    def language(self, text: str, emote_names: frozenset[str] = frozenset()) -> str | None:
        """The message's language when it is not English (and the identifier agrees), else None."""
        if not self._maybe_foreign(text, emote_names):
            return None
        infos = self._infos(text, emote_names)
        allowed = self._candidates(infos)
        if allowed is None:
            return None
        # Only the candidate languages and English (or the non-Latin ones): each detector loads
        # the models of its languages on first use, a few at a time.
        languages = (allowed or NON_LATIN) | {"en"}
        detector = self._detectors.get(languages)
        if detector is None:
            detector = self._detectors[languages] = _build_detector(languages)
        values = detector.compute_language_confidence_values(" ".join(info[0] for info in infos))
        if not values:
            return None
        best = values[0]
        code = str(best.language.iso_code_639_1.name.lower())
        if best.value < MIN_CONFIDENCE or code == "en" or (allowed and code not in allowed):
            return None
        return code


def _build_detector(codes: frozenset[str]) -> LanguageDetector:
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    isos = [getattr(IsoCode639_1, code.upper()) for code in sorted(codes)]
    # Low-accuracy mode reads trigrams only: ~10x faster and lighter to load; it only has to
    # confirm a language the gate already suspects.
    return LanguageDetectorBuilder.from_iso_codes_639_1(*isos).with_low_accuracy_mode().build()
