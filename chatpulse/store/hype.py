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
from collections.abc import Collection, Mapping
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


@dataclass(frozen=True, slots=True)
class HypeBar:
    """The bar a minute must clear, from the minutes before it: the one hype rule, shared by
    :func:`find_hype_moments` (report, dashboard) and the live alerts (:mod:`chatpulse.alerts`)."""

    baseline: float  # median of the previous minutes
    scale: float  # max(1.4826 * MAD, sqrt(median), 1)
    bar: float  # baseline + k * scale: a hype minute has more messages than this
    min_messages: int

    def is_hype(self, messages: int) -> bool:
        return messages >= self.min_messages and messages > self.bar

    def score(self, messages: int) -> float:
        """How many noise widths above the baseline ``messages`` stands."""
        return (messages - self.baseline) / self.scale


def hype_bar(
    history: Collection[int], *, k: float = 4.0, min_messages: int = 10, min_history: int = 5
) -> HypeBar | None:
    """The bar for the minute after ``history`` (the previous minutes' counts, zeros included);
    None while fewer than ``min_history`` minutes are known."""
    if len(history) < min_history:
        return None
    middle, spread = median_spread(history)
    scale = max(spread, math.sqrt(middle), 1.0)
    return HypeBar(middle, scale, middle + k * scale, min_messages)


def median_spread(values: Collection[float]) -> tuple[float, float]:
    """(median, 1.4826 * MAD) of non-empty ``values``: a centre and a standard-deviation estimate
    that one earlier outlier does not move (also the alerts' mood baseline)."""
    middle = float(median(values))
    return middle, 1.4826 * float(median(abs(v - middle) for v in values))


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
        if messages >= min_messages:  # the bar costs two medians: only where it can matter
            bar = hype_bar(history, k=k, min_messages=min_messages, min_history=min_history)
            if bar is not None and bar.is_hype(messages):
                moments.append(HypeMoment(minute, messages, bar.baseline, bar.score(messages)))
        history.append(messages)
    return moments
