"""The sink's duplicate memory: what it lets through without asking the store, and what not.

A wrong answer here is what a user would see as double-counted minutes (a replayed row let
through) or lost chat (a new row dropped), so each case is one of those.
"""

from __future__ import annotations

import pyarrow as pa

from chatpulse.events import MessageEvent
from chatpulse.store.dedupe import ASK, DUP, NEW, NO_FLOOR, WrittenMemory
from chatpulse.store.rows import EVENT_SCHEMA, message_table

T0 = 1_700_000_000_000


def _table(*rows: tuple[str, str, int]) -> pa.Table:
    """``chat_messages`` rows (id, channel, sent_at) as the sink writes them."""
    return message_table([
        MessageEvent(received_at=at, source="irc", channel=channel, sent_at=at, id=key, user_login="u")
        for key, channel, at in rows
    ])  # fmt: skip


def test_live_chat_above_the_floor_is_new_without_asking() -> None:
    memory = WrittenMemory(capacity=1000)
    memory.set_floors({"a": T0})
    assert memory.classify(_table(("1", "a", T0 + 1), ("2", "a", T0 + 2)), "id", exclusive=True) is None


def test_a_row_at_or_below_the_floor_must_be_asked() -> None:
    memory = WrittenMemory(capacity=1000)
    memory.set_floors({"a": T0})
    states, keys = memory.classify(_table(("old", "a", T0), ("new", "a", T0 + 5)), "id", exclusive=True) or (
        [],
        [],
    )
    assert dict(zip(keys, states, strict=True)) == {"old": ASK, "new": NEW}


def test_a_written_row_replayed_is_a_duplicate_and_a_copy_in_one_batch_too() -> None:
    memory = WrittenMemory(capacity=1000)
    memory.set_floors({"a": NO_FLOOR})
    memory.remember(_table(("1", "a", T0 + 10)), EVENT_SCHEMA.empty_table())
    states, keys = memory.classify(
        _table(("1", "a", T0 + 10), ("2", "a", T0 + 10), ("2", "a", T0 + 10)), "id", exclusive=True
    ) or ([], [])
    assert list(zip(keys, states, strict=True)) == [("1", DUP), ("2", NEW), ("2", DUP)]


def test_a_shared_store_checks_every_row_not_remembered() -> None:
    memory = WrittenMemory(capacity=1000)
    memory.set_floors({"a": NO_FLOOR})  # ignored: another process may write the channel
    states, _ = memory.classify(_table(("1", "a", T0 + 1)), "id", exclusive=False) or ([], [])
    assert states == [ASK]


def test_forgotten_rows_raise_the_floor_so_their_replays_are_asked() -> None:
    memory = WrittenMemory(capacity=2)
    memory.set_floors({"a": NO_FLOOR})
    memory.remember(_table(("1", "a", T0 + 1), ("2", "a", T0 + 2)), EVENT_SCHEMA.empty_table())
    memory.remember(_table(("3", "a", T0 + 3), ("4", "a", T0 + 4)), EVENT_SCHEMA.empty_table())
    # the first batch left the memory: its rows may be stored, unknown to this sink now
    states, keys = memory.classify(_table(("1", "a", T0 + 1), ("4", "a", T0 + 4)), "id", exclusive=True) or (
        [],
        [],
    )
    assert dict(zip(keys, states, strict=True)) == {"1": ASK, "4": DUP}
    assert memory.message_time("4") == T0 + 4 and memory.message_time("1") is None
