"""Loading the Twitch lexicon data file (``twitch_lexicon.tsv``) that extends VADER's lexicon.

The file's header documents the columns and kinds. Loading is strict: a malformed or duplicate
entry raises :class:`~chatpulse.errors.ModelError` naming the file and line, because a silently
skipped emote would quietly change every score.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Final

from vaderSentiment.vaderSentiment import B_INCR

from chatpulse.errors import ModelError
from chatpulse.textfile import read_text

KINDS: Final = frozenset({"emote", "word", "emoji", "sarcasm", "booster", "phrase"})


@dataclass(frozen=True, slots=True)
class TwitchLexicon:
    """The parsed data file: valences keyed the way the scorer looks them up."""

    emotes: dict[str, float] = field(default_factory=dict)  # exact, case-sensitive names
    words: dict[str, float] = field(default_factory=dict)  # lower case
    emoji: dict[str, float] = field(default_factory=dict)  # one character each
    sarcasm: frozenset[str] = frozenset()  # exact names and their lower-case forms
    boosters: dict[str, float] = field(default_factory=dict)  # lower case -> +-B_INCR
    phrases: dict[tuple[str, str], float] = field(default_factory=dict)  # (first, second) lower


def _default_text() -> tuple[str, str]:
    source = resources.files("chatpulse.sentiment").joinpath("twitch_lexicon.tsv")
    return source.read_text(encoding="utf-8"), "twitch_lexicon.tsv"


def load_twitch_lexicon(path: Path | None = None) -> TwitchLexicon:
    """Parse ``path`` (default: the lexicon shipped with ChatPulse)."""
    if path is None:
        text, where = _default_text()
    else:
        text, where = read_text(path, f"Twitch lexicon {path}", ModelError), str(path)
    return parse_twitch_lexicon(text, where)


def parse_twitch_lexicon(text: str, where: str = "<lexicon>") -> TwitchLexicon:
    """Parse lexicon text; ``where`` names the file in error messages."""
    lexicon = TwitchLexicon()
    sarcasm: set[str] = set()
    seen: set[tuple[str, str]] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) < 3:
            raise ModelError(f"{where}:{number}: expected token<TAB>valence<TAB>kind")
        token, raw_valence, kind = parts[0], parts[1], parts[2]
        try:
            valence = float(raw_valence)
        except ValueError:
            raise ModelError(f"{where}:{number}: valence {raw_valence!r} is not a number") from None
        if kind not in KINDS:
            raise ModelError(f"{where}:{number}: unknown kind {kind!r}")
        if not -4.0 <= valence <= 4.0:
            raise ModelError(f"{where}:{number}: valence {valence} outside [-4, 4]")
        key = (kind, token if kind in ("emote", "sarcasm", "emoji") else token.lower())
        if key in seen:
            raise ModelError(f"{where}:{number}: duplicate {kind} {token!r}")
        seen.add(key)
        if kind == "emote":
            lexicon.emotes[token] = valence
        elif kind == "word":
            lexicon.words[token.lower()] = valence
        elif kind == "emoji":
            if len(token) != 1:
                raise ModelError(f"{where}:{number}: emoji entry must be one character")
            lexicon.emoji[token] = valence
        elif kind == "sarcasm":
            sarcasm.update((token, token.lower()))
        elif kind == "booster":
            lexicon.boosters[token.lower()] = B_INCR if valence >= 0 else -B_INCR
        else:
            first, _, second = token.lower().partition(" ")
            if not second or " " in second:
                raise ModelError(f"{where}:{number}: a phrase is exactly two words")
            lexicon.phrases[(first, second)] = valence
    return TwitchLexicon(
        emotes=lexicon.emotes,
        words=lexicon.words,
        emoji=lexicon.emoji,
        sarcasm=frozenset(sarcasm),
        boosters=lexicon.boosters,
        phrases=lexicon.phrases,
    )
