"""Drawing the real-chat evaluation sample from the shared captures, and its fixed dev/held-out split.

The labeled file (``tests/data/sentiment_real_chat.tsv``) was made once with :func:`draw_sample`
(seeded shuffle of the captures' distinct message texts) and then labeled by hand; the split is a
hash of each message's id, so it never changes when rows are added, removed or reordered.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from chatpulse.events import MessageEvent
from chatpulse.irc.twitch import parse_line
from chatpulse.sentiment.base import clean_text
from chatpulse.sources.replay import iter_lines

CAPTURES: Final = ("replay/xqcow-2019-09-15.irc.gz", "replay/nymn-2024-01-06.json")
SEED: Final = 18  # the issue that asked for the set; any fixed number would do
HELD_OUT_PERCENT: Final = 40  # share of messages only the final measurement reads


@dataclass(frozen=True, slots=True)
class ChatSample:
    """One distinct chat message from a capture."""

    source: str  # capture file stem, e.g. "xqcow-2019-09-15"
    index: int  # position of the line in the capture (0-based)
    id: str  # the message's Twitch id (``id`` tag), or source:index when absent
    text: str
    emotes: tuple[str, ...]  # names the message's Twitch emote spans mark, first-seen order


def split_of(message_id: str) -> str:
    """``"dev"`` or ``"heldout"``: a stable function of the id (first bytes of its SHA-256)."""
    bucket = int.from_bytes(hashlib.sha256(message_id.encode("utf-8")).digest()[:4], "big") % 100
    return "heldout" if bucket < HELD_OUT_PERCENT else "dev"


def _tsv_safe(text: str) -> str:
    return " ".join(clean_text(text).replace("\t", " ").split())


def read_chat(shared_data: Path) -> list[ChatSample]:
    """Every chat message of the captures, in capture order."""
    out: list[ChatSample] = []
    for capture in CAPTURES:
        source = Path(capture).name.split(".")[0]
        for index, line in enumerate(iter_lines(shared_data / capture)):
            event = parse_line(line, 0, "replay")
            if not isinstance(event, MessageEvent) or event.kind != "message":
                continue
            text = _tsv_safe(event.text)
            if not text:
                continue
            names = tuple(dict.fromkeys(e.name for e in event.emotes))
            out.append(ChatSample(source, index, event.id or f"{source}:{index}", text, names))
    return out


def draw_sample(shared_data: Path, count: int, seed: int = SEED) -> list[ChatSample]:
    """``count`` messages with distinct texts (case-sensitive), in a seeded random order."""
    seen: set[str] = set()
    distinct: list[ChatSample] = []
    for sample in read_chat(shared_data):
        if sample.text not in seen:
            seen.add(sample.text)
            distinct.append(sample)
    random.Random(seed).shuffle(distinct)  # noqa: S311 - a reproducible sample, not a secret
    return distinct[:count]
