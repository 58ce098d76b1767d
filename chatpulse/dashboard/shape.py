"""Pure helpers that turn query rows into the dashboard API's JSON: windows, buckets, emote
images, the events timeline and hype moments (found by :mod:`chatpulse.store.hype`, the same
detector as ``chatpulse report``). No I/O, no clock (callers pass ``now_ms``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from chatpulse.dashboard.params import Window
from chatpulse.store.hype import HypeMoment

LIVE_WITHIN_MS: Final = 60_000  # newest message this recent: the window ends now and is "live"
# Emote image URLs by provider. Twitch's CDN path and the "default/dark/1.0" variant follow
# dev.twitch.tv/docs/irc/emotes ("Getting emote images"); the third-party CDNs are the ones
# their public APIs hand out (7TV v3, BTTV v3, FFZ v1 emote URLs), at their smallest size.
EMOTE_IMAGES: Final = {
    "twitch": "https://static-cdn.jtvnw.net/emoticons/v2/{id}/default/dark/1.0",
    "7tv": "https://cdn.7tv.app/emote/{id}/1x.webp",
    "bttv": "https://cdn.betterttv.net/emote/{id}/1x",
    "ffz": "https://cdn.frankerfacez.com/emote/{id}/1",
}


@dataclass(frozen=True, slots=True)
class Resolved:
    """A window with both ends known, the bucket size for its charts, and whether it is live."""

    from_ms: int
    to_ms: int
    bucket_s: int
    live: bool

    def as_json(self) -> dict[str, Any]:
        return {"from": self.from_ms, "to": self.to_ms, "bucket_s": self.bucket_s, "live": self.live}


def bucket_for(span_ms: int) -> int:
    """Chart resolution: about 90-300 points for any window."""
    for limit_ms, bucket_s in ((30 * 60_000, 10), (3 * 3_600_000, 60), (26 * 3_600_000, 300)):
        if span_ms <= limit_ms:
            return bucket_s
    return 3600


def resolve(window: Window, latest_ms: int | None, now_ms: int) -> Resolved:
    """Explicit bounds stay; a relative range ends now when chat is live, else at the newest
    message (so a finished recording still shows its last minutes)."""
    if window.span_ms is None:
        assert window.start_ms is not None and window.end_ms is not None  # noqa: S101 - params.window
        live = latest_ms is not None and window.end_ms >= now_ms - LIVE_WITHIN_MS
        span = window.end_ms - window.start_ms
        return Resolved(window.start_ms, window.end_ms, bucket_for(span), live)
    live = latest_ms is None or latest_ms >= now_ms - LIVE_WITHIN_MS
    end = max(now_ms, latest_ms or 0) + 1 if live else (latest_ms or now_ms) + 1
    return Resolved(end - window.span_ms, end, bucket_for(window.span_ms), live)


def emote_image(provider: str, emote_id: str) -> str | None:
    """The emote's image URL on its provider's CDN, None when unknown."""
    template = EMOTE_IMAGES.get(provider)
    if template is None or not emote_id or not emote_id.replace("_", "").replace("-", "").isalnum():
        return None
    return template.format(id=emote_id)


def emote_json(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": row["emote_name"],
        "provider": row["provider"],
        "id": row["emote_id"],
        "uses": int(row["uses"]),
        "image_url": emote_image(row["provider"], row["emote_id"]),
    }


def score(value: Any) -> float | None:
    """A mean score for JSON: None for no data (ClickHouse avg of nothing is NULL or nan)."""
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else round(number, 4)


NOTICE_TYPES: Final = {
    "sub": "sub",
    "resub": "resub",
    "subgift": "subgift",
    "submysterygift": "giftbomb",
    "raid": "raid",
    "announcement": "announcement",
}


def timeline(
    events: Iterable[Mapping[str, Any]], cheers: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Event rows and cheer rows -> ``{t, channel, type, user_login, amount, detail}``, oldest first.

    Types: sub, resub, subgift, giftbomb, raid, announcement, bits, timeout, ban, clear, deleted,
    gap (a source lost the channel) and connected (it came back).
    """
    out: list[dict[str, Any]] = []
    for row in events:
        item = _event_item(row)
        if item is not None:
            out.append(item)
    for row in cheers:
        out.append(
            {
                "t": int(row["t"]), "channel": row["channel"], "type": "bits",
                "user_login": row["user_login"], "amount": int(row["bits"]),
                "detail": f"{row['user_login']} cheered {int(row['bits']):,} bits",
            }
        )  # fmt: skip
    out.sort(key=lambda item: (item["t"], item["channel"], item["type"]))
    return out


def _event_item(row: Mapping[str, Any]) -> dict[str, Any] | None:
    kind, notice = row["kind"], row["notice_type"]
    user, target = row["user_login"], row["target_user_login"]
    params: Mapping[str, str] = row.get("params") or {}
    if isinstance(params, list):  # Arrow returns a Map column as a list of (key, value) pairs
        params = dict(params)
    amount = 1
    if kind == "usernotice":
        kind_name = NOTICE_TYPES.get(notice)
        if kind_name is None:
            return None
        if kind_name == "giftbomb":
            amount = _int(params.get("mass-gift-count"), 1)
            detail = f"{user} gifted {amount} subs"
        elif kind_name == "raid":
            amount = _int(params.get("viewerCount"), 1)
            detail = f"raid from {params.get('login') or user} with {amount:,} viewers"
        else:
            detail = row["system_text"] or f"{user}: {notice}"
    elif kind == "clearchat":
        kind_name = notice if notice in ("ban", "timeout", "clear") else "clear"
        if kind_name == "timeout":
            amount = _int(row["ban_duration"], 1)
            detail = f"{target} timed out for {amount:,} s"
        elif kind_name == "ban":
            detail = f"{target} banned"
        else:
            detail = "chat cleared"
    elif kind == "clearmsg":
        kind_name = "deleted"
        detail = f"message by {user} deleted"
    elif kind == "coverage":
        kind_name = "gap" if notice == "disconnected" else "connected"
        detail = f"source {notice}" + (f": {row['text']}" if row["text"] else "")
    else:
        return None
    return {"t": int(row["t"]), "channel": row["channel"], "type": kind_name,
            "user_login": user or target, "amount": amount, "detail": detail}  # fmt: skip


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def strongest_moments(found: Mapping[str, Sequence[HypeMoment]], limit: int) -> list[tuple[str, HypeMoment]]:
    """The ``limit`` strongest hype moments of all channels, as ``(channel, moment)``: most noise
    widths above the baseline first, then most messages, then by channel and time."""
    pairs = [(channel, moment) for channel, moments in found.items() for moment in moments]
    pairs.sort(key=lambda p: (-p[1].score, -p[1].messages, p[0], p[1].minute))
    return pairs[:limit]


def hype_json(channel: str, moment: HypeMoment) -> dict[str, Any]:
    """A hype moment for the API: the minute (``t``), its messages, the baseline (median of the
    previous minutes), ``score`` (noise widths above it) and ``ratio`` (messages / baseline)."""
    return {
        "channel": channel,
        "t": moment.minute,
        "messages": moment.messages,
        "baseline": round(moment.baseline, 2),
        "score": round(moment.score, 2),
        "ratio": round(moment.messages / max(moment.baseline, 1.0), 2),
    }
