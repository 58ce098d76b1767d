"""Hype moments: minutes whose message count stands far above the channel's recent baseline. Pure.

For each minute, the baseline is the previous ``baseline_minutes`` minutes of the same channel
(minutes without messages count as 0, but only from the channel's first minute with data on:
the time before a recording starts is unknown, not silent). A minute is a hype moment when

    messages >= min_messages  and  messages > median + k * scale,
    scale = max(1.4826 * MAD, sqrt(median), 1)

Median and MAD (median absolute deviation; 1.4826 * MAD estimates the standard deviation of
normal data) are robust: one earlier spike does not lift the bar for the next. The sqrt(median)
floor is the Poisson noise of a steady chat, so a perfectly regular chat (MAD = 0) does not flag
every small wobble.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from statistics import median

MINUTE_MS = 60_000


@dataclass(frozen=True, slots=True)
class HypeMoment:
    """One minute far above its baseline."""

    minute: int  # ms since epoch, start of the minute
    messages: int
    baseline: float  # median of the previous minutes
    score: float  # (messages - baseline) / scale: how many "noise widths" above


def find_hype_moments(
    counts: Mapping[int, int],
    start_ms: int,
    until_ms: int,
    *,
    baseline_minutes: int = 30,
    k: float = 4.0,
    min_messages: int = 10,
    min_history: int = 5,
) -> list[HypeMoment]:
    """Hype minutes in ``[start_ms, until_ms)`` given per-minute message counts (minute ms -> n)."""
    if not counts:
        return []
    first = max(start_ms - start_ms % MINUTE_MS, min(counts))
    history: deque[int] = deque(maxlen=baseline_minutes)
    moments: list[HypeMoment] = []
    for minute in range(first, until_ms, MINUTE_MS):
        messages = counts.get(minute, 0)
        if len(history) >= min_history and messages >= min_messages:
            middle = median(history)
            mad = median(abs(n - middle) for n in history)
            scale = max(1.4826 * mad, math.sqrt(middle), 1.0)
            if messages > middle + k * scale:
                moments.append(HypeMoment(minute, messages, float(middle), (messages - middle) / scale))
        history.append(messages)
    return moments
