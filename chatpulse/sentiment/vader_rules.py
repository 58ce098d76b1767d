"""A fast scorer that applies VADER's rules, optionally extended for Twitch chat. Pure: no I/O.

VADER (Hutto & Gilbert, ICWSM 2014; the ``vaderSentiment`` package) sums word valences from its
lexicon after a few rules: boosters/dampeners in the three preceding words (scaled 1, 0.95, 0.9),
negation in the same window (x -0.74), ALL-CAPS emphasis when only some words are capitalised
(+0.733), "no" before a lexicon word, "least", the contrastive "but" (earlier words x0.5, later
x1.5), a handful of idioms, and "!"/"?" emphasis; the sum is normalised with
``s / sqrt(s^2 + 15)``. Its reference implementation re-lowers the word list for every word and
every rule, which makes it slow (~15k messages/s). :class:`RuleScorer` applies the same rules
with each distinct token analysed once and cached, and skips the rule pass entirely for the many
chat messages that contain no sentiment word.

With ``twitch=None`` the scorer reproduces plain VADER's compound score (tests check this against
the package). With a :class:`~chatpulse.sentiment.twitch_lexicon.TwitchLexicon` it adds:

- emotes by exact name, from the message's emote spans, and as the suffix of channel emotes
  (``forsenPog`` -> ``Pog``); emotes never get ALL-CAPS emphasis and do not count as shouting;
- chat slang, non-English chat words and emoji with chat meanings (overriding VADER's valence);
- repeated letters (``noooo``, ``POGGGG``) read as the word plus booster-sized emphasis;
- the same emote/slang/emoji repeated in one message counts once, plus emphasis per repeat
  (capped at three), instead of as many words;
- two-word phrases (``lets go``, ``skill issue``);
- sarcasm markers (Kappa, Keepo, Clueless, /s): a positive message turns negative at half
  strength, a negative one is halved;
- a fallback to the punctuation-stripped word where VADER keeps short tokens whole (``L!``).
"""

from __future__ import annotations

import math
import re
import string
from importlib import resources
from typing import Final

from vaderSentiment.vaderSentiment import (
    B_INCR,
    BOOSTER_DICT,
    C_INCR,
    N_SCALAR,
    NEGATE,
    SPECIAL_CASES,
)

from chatpulse.sentiment.base import INVISIBLE
from chatpulse.sentiment.twitch_lexicon import TwitchLexicon

ALPHA: Final = 15.0  # VADER's normalisation constant
MAX_REPEAT_EMPHASIS: Final = 3  # repeats of one emote that still add emphasis
SARCASM_FLIP: Final = -0.5  # positive text with a sarcasm marker
SARCASM_DAMPEN: Final = 0.5  # negative text with a sarcasm marker
_TOKEN_CACHE_LIMIT: Final = 200_000

_NEGATE: Final = frozenset(NEGATE)
_SO_THIS: Final = ("so", "this")
# A channel (sub) emote: the broadcaster's lower-case prefix, then a capitalised name.
_CHANNEL_EMOTE: Final = re.compile(r"[a-z][a-z0-9]{2,}([A-Z0-9][A-Za-z0-9]*)")
_RUN3: Final = re.compile(r"(.)\1{2,}")
_LAUGH: Final = re.compile(r"(?:h+a+){2,}h*|(?:a+h+){2,}a*")


class Token:
    """What the rules need to know about one whitespace-separated token (built once, cached)."""

    __slots__ = (
        "booster",
        "emote",
        "emphasis",
        "in_lexicon",
        "is_booster",
        "lower",
        "negation",
        "repeatable",
        "sarcasm",
        "upper",
        "valence",
    )

    def __init__(
        self,
        lower: str,
        *,
        valence: float = 0.0,
        in_lexicon: bool = False,
        upper: bool = False,
        booster: float = 0.0,
        is_booster: bool = False,
        emote: bool = False,
        repeatable: bool = False,
        sarcasm: bool = False,
        emphasis: float = 0.0,
    ) -> None:
        self.lower = lower  # the lower-case word the rules compare with ("no", "but", ...)
        self.valence = valence  # lexicon valence; 0.0 for words VADER does not score
        self.in_lexicon = in_lexicon  # VADER skips lexicon words when looking for modifiers
        self.upper = upper  # ALL CAPS (VADER's str.isupper on the token)
        self.booster = booster  # booster/dampener increment when this token modifies another
        self.is_booster = is_booster  # scores 0 itself, even if also in the lexicon
        self.negation = lower in _NEGATE or "n't" in lower
        self.emote = emote  # exempt from caps emphasis and from the caps count
        self.repeatable = repeatable  # repeats count as emphasis, not as more words
        self.sarcasm = sarcasm
        self.emphasis = emphasis  # extra intensity from elongation ("noooo")


def vader_lexicon() -> dict[str, float]:
    """VADER's word lexicon, read from the vaderSentiment package data."""
    text = resources.files("vaderSentiment").joinpath("vader_lexicon.txt").read_text(encoding="utf-8")
    lexicon: dict[str, float] = {}
    for line in text.splitlines():
        parts = line.strip().split("\t")
        if len(parts) >= 2:
            lexicon[parts[0]] = float(parts[1])  # later duplicates win, as in VADER
    return lexicon


def vader_emoji_descriptions() -> dict[str, str]:
    """VADER's emoji -> description table; only single characters can ever match."""
    source = resources.files("vaderSentiment").joinpath("emoji_utf8_lexicon.txt")
    table: dict[str, str] = {}
    for line in source.read_text(encoding="utf-8").splitlines():
        emoji, _, description = line.strip().partition("\t")
        if len(emoji) == 1 and description:
            table[emoji] = description
    return table


def punctuation_emphasis(text: str) -> float:
    """VADER's "!" (up to four, 0.292 each) and "?" (two or more) amplifier."""
    marks = text.count("!")
    amplifier = min(marks, 4) * 0.292
    questions = text.count("?")
    if questions > 1:
        amplifier += questions * 0.18 if questions <= 3 else 0.96
    return amplifier


def normalize(total: float) -> float:
    """VADER's normalisation of a summed valence into [-1, 1]."""
    score = total / math.sqrt(total * total + ALPHA)
    return max(-1.0, min(1.0, score))


class RuleScorer:
    """Compound sentiment scores in [-1, 1] by VADER's rules (see the module docstring)."""

    def __init__(self, twitch: TwitchLexicon | None = None) -> None:
        self._twitch = twitch
        vader = vader_lexicon()
        self.vader_words = frozenset(vader)  # English words VADER scores (the language gate reads them)
        descriptions = vader_emoji_descriptions()
        self._descriptions = descriptions
        self._boosters: dict[str, float] = dict(BOOSTER_DICT)
        self._lexicon = dict(vader)
        self._emoji: dict[str, float] = {}
        self._emotes: dict[str, float] = {}
        self._phrases: dict[tuple[str, str], float] = {}
        self._phrase_tails: frozenset[str] = frozenset()
        self._sarcasm: frozenset[str] = frozenset()
        if twitch is not None:
            self._lexicon.update(twitch.words)
            self._boosters.update(twitch.boosters)
            self._emotes = dict(twitch.emotes)
            self._sarcasm = twitch.sarcasm
            self._phrases = dict(twitch.phrases)
            self._phrase_tails = frozenset(second for _, second in twitch.phrases)
            for emoji, description in descriptions.items():
                valence = sum(vader.get(word, 0.0) for word in description.split())
                if valence:
                    self._emoji[emoji] = max(-4.0, min(4.0, valence))
            self._emoji.update(twitch.emoji)
            # One str.translate both drops invisible characters and puts spaces around emoji, so
            # each is a token: a regex character class of ~3,500 emoji took ~0.3 ms per message.
            spacing: dict[int, str] = {ord(c): f" {c} " for c in set(descriptions) | set(twitch.emoji)}
            spacing.update(INVISIBLE)
            self._spacing = spacing
        self._tokens: dict[str, Token] = {}
        self._span_emotes: dict[str, Token] = {}
        self._phrase_tokens: dict[tuple[str, str, bool, float], Token] = {}

    # --- public ----------------------------------------------------------------------------

    def compound(self, text: str, emote_names: frozenset[str] = frozenset()) -> float:
        """The compound score of ``text``; ``emote_names`` are names its emote spans mark."""
        if self._twitch is None:
            text = self._describe_emoji(text) if not text.isascii() else text
        elif not text.isascii():
            text = text.translate(self._spacing)
        words = text.split()
        if not words:
            return 0.0
        cache = self._tokens
        tails = self._phrase_tails
        tokens: list[Token] = []
        polar = False
        for word in words:
            token = cache.get(word)
            if token is None:
                token = self._make_token(word)
            if emote_names and word in emote_names:
                token = self._span_emote(word)
            if token.valence or token.sarcasm or token.lower in tails:
                polar = True
            tokens.append(token)
        if not polar:
            return 0.0  # no sentiment word: VADER's sum is 0 whatever the modifiers
        repeats: dict[int, int] = {}
        if self._twitch is not None:
            if tails:
                self._apply_phrases(tokens)
            if len(tokens) > 1:
                tokens, repeats = self._merge_repeats(tokens)
        return self._score(tokens, text, repeats)

    def clear_caches(self) -> None:
        """Forget every analysed token (benchmarks measure from cold caches)."""
        self._tokens.clear()
        self._span_emotes.clear()
        self._phrase_tokens.clear()

    # --- tokens ----------------------------------------------------------------------------

    def _make_token(self, word: str) -> Token:
        if len(self._tokens) >= _TOKEN_CACHE_LIMIT:
            self._tokens.clear()  # bounded memory; rebuilt from hot tokens within seconds
        token = self._build_token(word)
        self._tokens[word] = token
        return token

    def _build_token(self, word: str) -> Token:
        stripped = word.strip(string.punctuation)
        # VADER keeps short tokens whole so emoticons like ":)" survive punctuation stripping.
        item = stripped if len(stripped) > 2 else word
        lower = item.lower()
        upper = item.isupper()
        lexicon = self._lexicon
        if self._twitch is None:
            return self._word_token(lower, upper, lexicon.get(lower))
        for candidate in (item, stripped) if stripped != item else (item,):
            special = self._twitch_token(candidate)
            if special is not None:
                return special
        for candidate in (lower, stripped.lower()):
            if candidate in lexicon or candidate in self._boosters:
                return self._word_token(candidate, upper, lexicon.get(candidate))
        if word.startswith("!") and len(word) > 1:
            return Token(lower)  # a bot command ("!discord", "!uptime"): not an opinion
        elongated = self._elongated_token(stripped, upper)
        if elongated is not None:
            return elongated
        if _RUN3.search(lower):
            lower = _RUN3.sub(r"\1", lower)  # "gooooo" -> "go", so phrases still match
        return self._word_token(lower, upper, None)

    def _word_token(self, lower: str, upper: bool, valence: float | None) -> Token:
        twitch_word = self._twitch is not None and lower in self._twitch.words
        return Token(
            lower,
            valence=valence or 0.0,
            in_lexicon=valence is not None,
            upper=upper,
            booster=self._boosters.get(lower, 0.0),
            is_booster=lower in self._boosters,
            repeatable=twitch_word,
        )

    def _twitch_token(self, item: str) -> Token | None:
        """Sarcasm markers, emotes (exact name or channel-emote suffix) and emoji."""
        if item in self._sarcasm:
            return Token(item.lower(), in_lexicon=True, emote=True, sarcasm=True)
        valence = self._emotes.get(item)
        if valence is None and len(item) == 1:
            valence = self._emoji.get(item)
        if valence is None:
            match = _CHANNEL_EMOTE.fullmatch(item)
            if match is None:
                return None
            valence = self._suffix_valence(match.group(1))
            if valence is None:
                return None
        return Token(item.lower(), valence=valence, in_lexicon=True, emote=True, repeatable=True)

    def _suffix_valence(self, suffix: str) -> float | None:
        if suffix in self._emotes:
            return self._emotes[suffix]
        # Only longer suffixes fall back to words: "xqcL" is a heart, not the slang "L".
        if len(suffix) >= 3:
            return self._lexicon.get(suffix.lower())
        return None

    def _span_emote(self, name: str) -> Token:
        token = self._span_emotes.get(name)
        if token is None:
            known = self._twitch_token(name) if self._twitch is not None else None
            if known is None:
                # An emote we have no entry for keeps the meaning of the word it spells ("LOVE"),
                # but as an emote: no caps emphasis, repeats merged.
                word = self._build_token(name)
                known = Token(word.lower, valence=word.valence, in_lexicon=True, emote=True, repeatable=True)
            token = known
            self._span_emotes[name] = token
        return token

    def _elongated_token(self, stripped: str, upper: bool) -> Token | None:
        """``noooo`` -> ``no`` with emphasis; ``hahahaha`` -> ``haha``."""
        lower = stripped.lower()
        candidates: list[str] = []
        if _RUN3.search(lower):
            candidates += [_RUN3.sub(r"\1\1", lower), _RUN3.sub(r"\1", lower)]
        if _LAUGH.fullmatch(lower):
            candidates.append("haha")
        for candidate in candidates:
            valence = self._lexicon.get(candidate)
            if valence is not None:
                token = self._word_token(candidate, upper, valence)
                token.emphasis = B_INCR
                return token
        return None

    def _apply_phrases(self, tokens: list[Token]) -> None:
        phrases = self._phrases
        for i in range(1, len(tokens)):
            tail = tokens[i]
            if tail.lower not in self._phrase_tails:
                continue
            valence = phrases.get((tokens[i - 1].lower, tail.lower))
            if valence is None:
                continue
            key = (tokens[i - 1].lower, tail.lower, tail.upper, tail.emphasis)
            merged = self._phrase_tokens.get(key)
            if merged is None:
                merged = Token(tail.lower, valence=valence, in_lexicon=True, upper=tail.upper)
                merged.emphasis = tail.emphasis
                self._phrase_tokens[key] = merged
            tokens[i] = merged
            tokens[i - 1] = _PHRASE_HEAD

    @staticmethod
    def _merge_repeats(tokens: list[Token]) -> tuple[list[Token], dict[int, int]]:
        """Drop repeats of emotes/slang/emoji; count them against their first occurrence."""
        first_at: dict[str, int] = {}
        repeats: dict[int, int] = {}
        kept: list[Token] = []
        for token in tokens:
            if token.repeatable:
                at = first_at.get(token.lower)
                if at is not None:
                    repeats[at] = repeats.get(at, 0) + 1
                    continue
                first_at[token.lower] = len(kept)
            kept.append(token)
        return kept, repeats

    def _describe_emoji(self, text: str) -> str:
        """VADER's own emoji handling: each emoji becomes its description's words."""
        out: list[str] = []
        prev_space = True
        for char in text:
            description = self._descriptions.get(char)
            if description is not None:
                if not prev_space:
                    out.append(" ")
                out.append(description)
                prev_space = False
            else:
                out.append(char)
                prev_space = char == " "
        return "".join(out).strip()

    # --- rules -----------------------------------------------------------------------------

    def _score(self, tokens: list[Token], text: str, repeats: dict[int, int]) -> float:
        count = len(tokens)
        capitals = counted = 0
        for token in tokens:
            if not token.emote:
                counted += 1
                capitals += token.upper
        is_cap_diff = 0 < counted - capitals < counted
        lowers = [token.lower for token in tokens]
        sentiments: list[float] = []
        sarcastic = False
        for i, token in enumerate(tokens):
            if token.sarcasm:
                sarcastic = True
            if (
                not token.in_lexicon
                or token.is_booster
                or (token.lower == "kind" and i + 1 < count and lowers[i + 1] == "of")
            ):
                sentiments.append(0.0)
                continue
            sentiments.append(self._valence(tokens, lowers, i, is_cap_diff))
        for at, extra in repeats.items():
            value = sentiments[at]
            if value:
                boost = min(extra, MAX_REPEAT_EMPHASIS) * B_INCR
                sentiments[at] = value + boost if value > 0 else value - boost
        if "but" in lowers:
            at = lowers.index("but")
            sentiments = [s * 0.5 if k < at else s * 1.5 if k > at else s for k, s in enumerate(sentiments)]
        total = sum(sentiments)
        if total:
            amplifier = punctuation_emphasis(text)
            total = total + amplifier if total > 0 else total - amplifier
        if sarcastic:
            total = total * SARCASM_FLIP if total > 0 else total * SARCASM_DAMPEN
        return normalize(total)

    def _valence(self, tokens: list[Token], lowers: list[str], i: int, is_cap_diff: bool) -> float:
        token = tokens[i]
        valence = token.valence
        last = len(tokens) - 1
        # Chat says "no no no" for one emphatic no; VADER would read each as negating the next.
        chained_no = self._twitch is not None and token.lower == "no"
        if token.lower == "no" and i != last and tokens[i + 1].in_lexicon and not chained_no:
            valence = 0.0  # "no" negates the next word instead of scoring itself
        if not chained_no and (
            (i > 0 and lowers[i - 1] == "no")
            or (i > 1 and lowers[i - 2] == "no")
            or (i > 2 and lowers[i - 3] == "no" and lowers[i - 1] in ("or", "nor"))
        ):
            valence = token.valence * N_SCALAR
        if token.upper and is_cap_diff and not token.emote:
            valence = valence + C_INCR if valence > 0 else valence - C_INCR
        if token.emphasis:
            valence = valence + token.emphasis if valence > 0 else valence - token.emphasis
        for distance in range(3):
            j = i - distance - 1
            if j < 0:
                break
            modifier = tokens[j]
            if modifier.in_lexicon:
                continue
            scalar = modifier.booster
            if scalar:
                if valence < 0:
                    scalar = -scalar
                if modifier.upper and is_cap_diff:
                    scalar = scalar + C_INCR if valence > 0 else scalar - C_INCR
                if distance == 1:
                    scalar *= 0.95
                elif distance == 2:
                    scalar *= 0.9
                valence += scalar
            valence = _negation(valence, tokens, lowers, distance, i)
            if distance == 2:
                valence = _idioms(valence, lowers, i)
        if (
            i > 0
            and lowers[i - 1] == "least"
            and not tokens[i - 1].in_lexicon
            and (i == 1 or lowers[i - 2] not in ("at", "very"))
        ):
            valence *= N_SCALAR
        return valence


_PHRASE_HEAD: Final = Token("", in_lexicon=True)  # first word of a matched phrase: scores 0


def _negation(valence: float, tokens: list[Token], lowers: list[str], distance: int, i: int) -> float:
    if distance == 0:
        return valence * N_SCALAR if tokens[i - 1].negation else valence
    if distance == 1:
        if lowers[i - 2] == "never" and lowers[i - 1] in _SO_THIS:
            return valence * 1.25
        if lowers[i - 2] == "without" and lowers[i - 1] == "doubt":
            return valence
        return valence * N_SCALAR if tokens[i - 2].negation else valence
    # VADER's condition reads "(never and so/this two back) or so/this one back".
    if (lowers[i - 3] == "never" and lowers[i - 2] in _SO_THIS) or lowers[i - 1] in _SO_THIS:
        return valence * 1.25
    if lowers[i - 3] == "without" and "doubt" in (lowers[i - 2], lowers[i - 1]):
        return valence
    return valence * N_SCALAR if tokens[i - 3].negation else valence


def _idioms(valence: float, lowers: list[str], i: int) -> float:
    """VADER's special-case idioms and two/three-word boosters around position ``i`` (i >= 3)."""
    w3, w2, w1, w0 = lowers[i - 3], lowers[i - 2], lowers[i - 1], lowers[i]
    for sequence in (f"{w1} {w0}", f"{w2} {w1} {w0}", f"{w2} {w1}", f"{w3} {w2} {w1}", f"{w3} {w2}"):
        if sequence in SPECIAL_CASES:
            valence = SPECIAL_CASES[sequence]
            break
    if len(lowers) - 1 > i:
        pair = f"{w0} {lowers[i + 1]}"
        if pair in SPECIAL_CASES:
            valence = SPECIAL_CASES[pair]
    if len(lowers) - 1 > i + 1:
        triple = f"{w0} {lowers[i + 1]} {lowers[i + 2]}"
        if triple in SPECIAL_CASES:
            valence = SPECIAL_CASES[triple]
    for ngram in (f"{w3} {w2} {w1}", f"{w3} {w2}", f"{w2} {w1}"):
        if ngram in BOOSTER_DICT:
            valence += BOOSTER_DICT[ngram]
    return valence
