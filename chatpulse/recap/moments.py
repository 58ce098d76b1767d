"""The pure parts of a recap: offsets from the stream start, VOD links, which minutes turned
negative, and how a stream compares with the channel's previous ones. No I/O, no clock.

Hype moments are not decided here: the recap asks :func:`chatpulse.store.hype.find_hype_moments`
(the rule of ``chatpulse report``, ``/api/hype`` and the alerts), with the baseline taken from
the stream's own minutes, so silence before the stream does not make its first minutes "hype".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from chatpulse.store.hype import median_spread

_VOD_URL: Final = "https://www.twitch.tv/videos/{id}?t={h}h{m}m{s}s"


def format_offset(seconds: int) -> str:
    """Seconds from the stream start as ``H:MM:SS`` (``3723`` -> ``1:02:03``); never negative."""
    hours, rest = divmod(max(0, int(seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def vod_url(vod_id: str | None, offset_s: int) -> str | None:
    """The link that opens the VOD ``vod_id`` at ``offset_s`` (``?t=1h2m3s``, Twitch's player
    parameter); None without a VOD id or for a non-numeric one."""
    if not vod_id or not vod_id.isdigit():
        return None
    hours, rest = divmod(max(0, int(offset_s)), 3600)
    minutes, secs = divmod(rest, 60)
    return _VOD_URL.format(id=vod_id, h=hours, m=minutes, s=secs)


def place(at_ms: int, start_ms: int, vod_id: str | None) -> dict[str, Any]:
    """Where a moment at ``at_ms`` is in the stream: ``offset_s``, ``offset`` text, ``vod_url``."""
    offset_s = max(0, (at_ms - start_ms) // 1000)
    return {"offset_s": offset_s, "offset": format_offset(offset_s), "vod_url": vod_url(vod_id, offset_s)}


@dataclass(frozen=True, slots=True)
class MoodMinute:
    """One minute's mood: when, how many scored messages, their mean score."""

    minute: int
    scored: int
    mean: float


@dataclass(frozen=True, slots=True)
class MoodRule:
    """When a minute counts as chat turning negative (the alerts' mood-drop defaults)."""

    min_messages: int = 20  # scored messages a minute needs to be judged
    k: float = 3.0  # robust standard deviations below the stream's median mood ...
    min_drop: float = 0.15  # ... and at least this far below it


@dataclass(frozen=True, slots=True)
class NegativeMoment:
    """A minute whose mood fell far below the stream's usual mood."""

    minute: int
    mean: float
    baseline: float
    drop: float
    scored: int
    turned: bool  # True: it clears the rule; False: only among the stream's lowest minutes


DEFAULT_MOOD_RULE: Final = MoodRule()


def negative_moments(
    minutes: Sequence[MoodMinute], rule: MoodRule = DEFAULT_MOOD_RULE, lowest: int = 3
) -> list[NegativeMoment]:
    """Minutes where chat turned negative: a judged minute (``rule.min_messages`` scored) whose
    mean lies below the median of the stream's judged minutes by more than
    ``max(k * 1.4826 * MAD, min_drop)``, only the first of a run of such minutes. When none
    clears it, the ``lowest`` minutes by mood, marked ``turned=False``. Oldest first."""
    judged = [m for m in minutes if m.scored >= rule.min_messages]
    if not judged:
        return []
    middle, spread = median_spread([m.mean for m in judged])
    bar = max(rule.k * spread, rule.min_drop)
    found: list[NegativeMoment] = []
    before = False
    for m in sorted(judged, key=lambda m: m.minute):
        low = m.mean < middle - bar
        if low and not before:
            found.append(NegativeMoment(m.minute, m.mean, middle, middle - m.mean, m.scored, True))
        before = low
    if found:
        return found
    worst = sorted(judged, key=lambda m: (m.mean, m.minute))[:lowest]
    return sorted(
        (NegativeMoment(m.minute, m.mean, middle, middle - m.mean, m.scored, False) for m in worst),
        key=lambda n: n.minute,
    )


COMPARED: Final = ("rate", "chatters", "mood")


def comparison(
    this: Mapping[str, float | None], previous: Sequence[Mapping[str, float | None]]
) -> dict[str, Any]:
    """This stream's rate (messages a minute), chatters and mood beside the mean of the previous
    streams', with the relative change (rate, chatters) or the difference (mood)."""
    out: dict[str, Any] = {"streams": len(previous)}
    for key in COMPARED:
        values = [float(v) for p in previous if (v := p.get(key)) is not None]
        mean = sum(values) / len(values) if values else None
        current = this.get(key)
        change: float | None = None
        if mean is not None and current is not None:
            if key == "mood":
                change = round(float(current) - mean, 4)
            elif mean > 0:
                change = round((float(current) - mean) / mean, 4)
        out[key] = {"this": current, "previous": None if mean is None else round(mean, 4), "change": change}
    return out
