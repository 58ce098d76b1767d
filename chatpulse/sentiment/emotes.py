"""Emote -> emoji normalisation before transformer models (``emote_emoji.tsv``). Pure.

Tweet-trained models know "😂" but not "LUL". Emotes are replaced where the message's emote spans
mark them and, for names in the map, wherever they stand alone as a word.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path

from chatpulse.errors import ModelError
from chatpulse.sentiment.base import EmoteSpan
from chatpulse.textfile import read_text


def parse_emote_map(text: str, where: str) -> dict[str, str]:
    """``name<TAB>replacement`` lines (``#`` comments) -> mapping; bad lines raise ModelError."""
    table: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        name, sep, replacement = line.partition("\t")
        if not sep or not name or " " in name:
            raise ModelError(f"{where}:{number}: expected emote<TAB>replacement")
        table[name] = replacement.strip()
    return table


def load_emote_map(extra: Path | None = None) -> dict[str, str]:
    """The shipped map, updated with ``extra`` (a file in the same format) when given."""
    shipped = resources.files("chatpulse.sentiment").joinpath("emote_emoji.tsv")
    table = parse_emote_map(shipped.read_text(encoding="utf-8"), "emote_emoji.tsv")
    if extra is not None:
        text = read_text(extra, f"emote map {extra}", ModelError)
        table.update(parse_emote_map(text, str(extra)))
    return table


def normalize_emotes(text: str, table: Mapping[str, str], spans: Sequence[EmoteSpan] = ()) -> str:
    """``text`` with mapped emotes replaced by their emoji; unmapped span emotes are kept."""
    if spans:
        pieces: list[str] = []
        at = 0
        for span in sorted(spans, key=lambda e: e.start):
            if span.start < at or text[span.start : span.end] != span.name:
                continue  # overlapping or stale span: leave the text as it is
            pieces.append(text[at : span.start])
            pieces.append(table.get(span.name, span.name))
            at = span.end
        pieces.append(text[at:])
        text = "".join(pieces)
    words = text.split(" ")
    if any(word in table for word in words):
        text = " ".join(table.get(word, word) for word in words)
    return text
