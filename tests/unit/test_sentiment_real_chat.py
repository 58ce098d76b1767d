"""The hand-labeled real-chat set: what the captures hold, drawn as documented, with a fixed split."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from chatpulse.sentiment.chat_sample import draw_sample, split_of
from chatpulse.sentiment.evaluation import load_real_chat

REAL_CHAT = Path(__file__).resolve().parents[1] / "data" / "sentiment_real_chat.tsv"


def test_every_distinct_capture_text_is_labeled_once_in_the_documented_order(shared_data: Path) -> None:
    rows = load_real_chat(REAL_CHAT)
    drawn = draw_sample(shared_data, 10**6)
    assert [r.text for r in rows] == [s.text for s in drawn]
    assert [r.id for r in rows] == [s.id for s in drawn]
    assert len({r.text for r in rows}) == len(rows) >= 2000


def test_split_is_the_hash_of_the_message_id_about_sixty_forty() -> None:
    rows = load_real_chat(REAL_CHAT)
    assert all(r.split == split_of(r.id) for r in rows)
    held_out = sum(r.split == "heldout" for r in rows) / len(rows)
    assert 0.35 < held_out < 0.45
    assert len(load_real_chat(REAL_CHAT, "dev")) + len(load_real_chat(REAL_CHAT, "heldout")) == len(rows)


def test_every_class_is_present_in_both_parts() -> None:
    for split in ("dev", "heldout"):
        counts = Counter(r.label for r in load_real_chat(REAL_CHAT, split))
        assert min(counts[label] for label in ("positive", "neutral", "negative")) >= 100


def test_emote_spans_point_at_the_emote_names_in_the_text() -> None:
    rows = [r for r in load_real_chat(REAL_CHAT) if r.emotes]
    assert len(rows) > 300
    assert all(r.text[e.start : e.end] == e.name for r in rows for e in r.emotes)
