"""Why a selected channel shows nothing: its newest stored message lies outside the window."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from chatpulse.store import Store

LATEST_BY_CHANNEL_SQL: Final = """
SELECT channel, toUnixTimestamp64Milli(max(sent_at)) AS latest
FROM chat_messages
WHERE channel IN {channels:Array(String)}
GROUP BY channel
"""


def quiet_channels(
    store: Store, selected: Iterable[str], with_messages: Iterable[str], from_ms: int
) -> list[dict[str, Any]]:
    """The selected channels without messages in the window (``with_messages`` are those with):
    ``{channel, last_message (ms, None when nothing is stored), before_window (it is older than
    from_ms: a wider range would show it)}``, in the order selected."""
    shown = set(with_messages)
    empty = [channel for channel in selected if channel not in shown]
    if not empty:
        return []
    latest = {r["channel"]: int(r["latest"]) for r in store.query(LATEST_BY_CHANNEL_SQL, {"channels": empty})}
    return [
        {"channel": channel, "last_message": latest.get(channel),
         "before_window": channel in latest and latest[channel] < from_ms}
        for channel in empty
    ]  # fmt: skip
