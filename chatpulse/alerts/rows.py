"""The store's rows of one batch as the alert detector's inputs. Pure.

Both run shapes hand the sink a :class:`~chatpulse.store.rows.StoreBatch` (Arrow tables), so
the detector reads those, not events: per channel and minute one count (grouped in Arrow, not
per message in Python), and the few rows that can be alerts (raids, gift bombs, coverage).
"""

from __future__ import annotations

from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc

from chatpulse.alerts.detect import Alert, AlertDetector
from chatpulse.store.hype import MINUTE_MS
from chatpulse.store.rows import StoreBatch

_NOTICES: Final = pa.array(["raid", "submysterygift"])


def feed_batch(detector: AlertDetector, batch: StoreBatch) -> list[Alert]:
    """Everything ``batch`` tells the detector, then a :meth:`~AlertDetector.tick` at its
    newest time; returns the alerts decided."""
    alerts: list[Alert] = []
    for row in minute_groups(batch.messages):
        alerts += detector.messages(
            row["channel"], row["minute"], row["t_count"], row["s_sum"] or 0.0, row["s_count"],
            last_ms=row["t_max"], first_ms=row["t_min"],
        )  # fmt: skip
    for event in notable_events(batch.events):
        alerts += feed_event(detector, event)
    alerts += detector.tick()
    return alerts


def minute_groups(messages: pa.Table) -> list[dict[str, Any]]:
    """Per (channel, minute), in minute order: ``t_count`` messages from ``t_min`` to ``t_max``
    (ms), ``s_count`` of them scored, their scores summing to ``s_sum``."""
    if not messages.num_rows:
        return []
    times = pc.cast(messages["sent_at"], pa.int64())
    minutes = pc.multiply(pc.divide(times, MINUTE_MS), MINUTE_MS)
    table = pa.table({
        "channel": messages["channel"], "minute": minutes, "t": times,
        "s": pc.cast(messages["sentiment_score"], pa.float64()),
    })  # fmt: skip
    grouped = table.group_by(["channel", "minute"]).aggregate(
        [("t", "count"), ("t", "min"), ("t", "max"), ("s", "sum"), ("s", "count")]
    )
    return grouped.sort_by([("minute", "ascending"), ("channel", "ascending")]).to_pylist()  # type: ignore[no-any-return]


def notable_events(events: pa.Table) -> list[dict[str, Any]]:
    """The ``chat_events`` rows the detector looks at (raids, gift bombs, coverage), in time order."""
    if not events.num_rows:
        return []
    kind = events["kind"]
    wanted = pc.or_(
        pc.and_(pc.equal(kind, "usernotice"), pc.is_in(events["notice_type"], value_set=_NOTICES)),
        pc.equal(kind, "coverage"),
    )
    picked = events.filter(wanted)
    if not picked.num_rows:
        return []
    columns = ["kind", "channel", "sent_at", "notice_type", "user_login", "text", "system_text", "params"]
    rows = picked.select(columns).to_pylist()
    for row in rows:
        row["at_ms"] = int(row.pop("sent_at").timestamp() * 1000)
        row["params"] = dict(row["params"] or ())
    rows.sort(key=lambda r: r["at_ms"])
    return rows  # type: ignore[no-any-return]


def feed_event(detector: AlertDetector, row: dict[str, Any]) -> list[Alert]:
    """One row of :func:`notable_events` into the detector."""
    channel, at, params = row["channel"], row["at_ms"], row["params"]
    if not channel:
        return []
    if row["kind"] == "coverage":
        detector.coverage(channel, at, row["notice_type"] == "connected", row["text"])
        return []
    if row["notice_type"] == "raid":
        who = params.get("displayName") or params.get("login") or row["user_login"]
        return detector.raid(channel, at, _count(params.get("viewerCount")), who)
    # submysterygift: the gifter's display name is in the system text; the login always is.
    gifter = row["user_login"] or "an anonymous gifter"
    return detector.gift_bomb(channel, at, _count(params.get("mass-gift-count")), gifter)


def _count(value: object) -> int:
    """A ``msg-param`` count (text from chat tags: anything, so 0 when not a number)."""
    try:
        return max(0, int(str(value)))
    except ValueError:
        return 0
