"""Features the learned chat layer reads: the rules' compound score, tokens and emotes, message shape.

Shared by the offline trainer (``train_chat_model``) and the analyzer, so both see exactly the same
features. Pure; a message's features are a set of names (all binary) — the linear layer sums the
weights of the names it knows and ignores the rest, so a token never seen in training costs
nothing and changes nothing.
"""

from __future__ import annotations

import re
import string
from bisect import bisect_left
from typing import Final

# The rules' compound score, bucketed: the layer learns how far to trust each strength.
_SCORE_EDGES: Final = (-0.6, -0.3, -0.05, 0.05, 0.3, 0.6)
_CHANNEL_EMOTE: Final = re.compile(r"[a-z][a-z0-9]{2,}([A-Z0-9][A-Za-z0-9]*)")
_RUN3: Final = re.compile(r"(.)\1{2,}")
_STRIP: Final = string.punctuation + "…"


_BANDS: Final = tuple(f"r:{band}" for band in range(len(_SCORE_EDGES) + 1))
_LENGTHS: Final = tuple(f"n:{n if n < 5 else 4 if n < 9 else 9}" for n in range(10))


def score_bucket(compound: float) -> str:
    """``"r:k"``: which of the bands between :data:`_SCORE_EDGES` the rules' score falls in."""
    return _BANDS[bisect_left(_SCORE_EDGES, compound)]


def token_key(word: str) -> str:
    """The vocabulary form of a token: lower case, outer punctuation stripped (unless that leaves
    nothing: ``?``, ``<3``, ``:)``), runs of three or more of one character shortened to one."""
    stripped = word.strip(_STRIP)
    base = (stripped or word).lower()
    return _RUN3.sub(r"\1", base) if len(base) > 2 else base


_TOKEN_CACHE_LIMIT: Final = 200_000


class ChatFeatures:
    """Computes :meth:`features`; what it learns about each distinct token is cached (bounded)."""

    def __init__(self, known_emotes: frozenset[str] | dict[str, float] = frozenset()) -> None:
        self._known = known_emotes
        # word -> (token feature, channel-suffix feature or "", emote-like, letters, upper-case letters)
        self._tokens: dict[str, tuple[str, str, bool, int, int]] = {}

    def clear_caches(self) -> None:
        """Forget every analysed token (benchmarks measure from cold caches)."""
        self._tokens.clear()

    def _token(self, word: str) -> tuple[str, str, bool, int, int]:
        if len(self._tokens) >= _TOKEN_CACHE_LIMIT:
            self._tokens.clear()
        match = _CHANNEL_EMOTE.fullmatch(word)
        letters = sum(map(str.isalpha, word))
        upper = sum(map(str.isupper, word))
        suffix = "s:" + match.group(1).lower() if match is not None else ""
        info = ("t:" + token_key(word), suffix, match is not None or word in self._known, letters, upper)
        self._tokens[word] = info
        return info

    def features(self, text: str, compound: float, emote_names: frozenset[str] = frozenset()) -> set[str]:
        """The feature names of one message (``text`` already cleaned of invisible characters);
        ``emote_names`` are the names its emote spans mark (third-party emotes such as ``LULW``
        have none: the known-emote set covers those)."""
        words = text.split()
        out = {"bias", _BANDS[bisect_left(_SCORE_EDGES, compound)]}
        if not words:
            out.add("empty")
            return out
        cache = self._tokens
        emotes = letters = upper = 0
        keys = set()
        for word in words:
            info = cache.get(word)
            if info is None:
                info = self._token(word)
            keys.add(info[0])
            if info[1]:
                out.add(info[1])  # xqcL, greekL -> the "L" family
            if info[2] or word in emote_names:
                emotes += 1
            letters += info[3]
            upper += info[4]
        out |= keys
        count = len(words)
        out.add(_LENGTHS[min(count, 9)])
        if len(keys) < count and count >= 3:
            out.add("repeat")  # spam: the same token several times
        if emotes == count:
            out.add("emote_only")
        if letters >= 3:
            if upper == letters:
                out.add("all_caps")
            elif upper * 2 > letters:
                out.add("mostly_caps")
        if "?" in text:
            out.add("question")
            if not letters:
                out.add("only_marks")
        if "!" in text:
            out.add("exclaim")
        first = words[0]
        if first.startswith("!"):
            out.add("command")
        elif first.startswith("@"):
            out.add("mention")
        if not text.isascii():
            out.add("non_ascii")
        return out
