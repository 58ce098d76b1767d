"""An alert as a webhook body: Discord, Slack or plain JSON. Pure.

Discord's execute-webhook body takes ``content`` and up to 10 ``embeds`` (title <= 256 chars,
description <= 4096, field values <= 1024) and ``allowed_mentions``; Slack's incoming webhooks
take ``text`` (the notification fallback) and Block Kit ``blocks`` (a ``section``'s text <= 3000
chars), with ``&``, ``<`` and ``>`` escaped (discord.com/developers/docs/resources/webhook,
api.slack.com/messaging/webhooks, api.slack.com/reference/surfaces/formatting#escaping).
Names from chat (a raider's display name) are untrusted: Discord gets no mentions parsed, so a
name like ``@everyone`` pings nobody, and Slack gets them escaped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal
from urllib.parse import urlencode, urlsplit

from chatpulse.alerts.detect import Alert, Number
from chatpulse.store.hype import MINUTE_MS
from chatpulse.times import format_time

Format = Literal["discord", "slack", "json"]
# The dashboard window a link opens: some context before the moment, a little after.
LINK_BEFORE_MS: Final = 15 * MINUTE_MS
LINK_AFTER_MS: Final = 5 * MINUTE_MS
_DISCORD_HOSTS: Final = frozenset({"discord.com", "discordapp.com", "ptb.discord.com", "canary.discord.com"})
_SLACK_HOSTS: Final = frozenset({"hooks.slack.com"})
_COLORS: Final = {"hype": 0x9147FF, "mood_drop": 0xEF4E4E, "raid": 0x3BA4F5, "gift_bomb": 0xFF5CF0,
                  "chat_stopped": 0x8A8F98}  # fmt: skip
_TITLES: Final = {"hype": "Hype moment", "mood_drop": "Mood drop", "raid": "Raid", "gift_bomb": "Gift bomb",
                  "chat_stopped": "Chat stopped"}  # fmt: skip
_LABELS: Final = {
    "messages": "messages", "seconds": "seconds into the minute", "baseline_per_min": "baseline / min",
    "bar": "hype bar", "score": "noise widths above", "ratio": "x baseline", "mood": "mean mood",
    "baseline": "baseline mood", "drop": "drop", "viewers": "viewers", "gifts": "gifts", "from": "from",
    "gap_s": "gap (s)", "silent_min": "silent for (min)", "per_min_before": "messages / min before",
    "reason": "reason",
}  # fmt: skip


def default_format(url: str) -> Format:
    """Discord or Slack by the webhook's host (their webhook URLs), else plain JSON."""
    host = (urlsplit(url).hostname or "").lower()
    if host in _DISCORD_HOSTS:
        return "discord"
    if host in _SLACK_HOSTS:
        return "slack"
    return "json"


def summary(alert: Alert) -> str:
    """One line of plain text: what, where, the headline figures."""
    n, where = alert.numbers, f"#{alert.channel}"
    if alert.kind == "hype":
        ratio = n.get("ratio")
        times = f", {ratio}x its baseline of {n['baseline_per_min']}/min" if isinstance(ratio, float) else ""
        return f"Hype in {where}: {n['messages']} messages in {n['seconds']} s{times}"
    if alert.kind == "mood_drop":
        return f"Mood drop in {where}: mean {_signed(n['mood'])} vs its baseline {_signed(n['baseline'])}"
    if alert.kind == "raid":
        return f"Raid on {where}: {n['viewers']} viewers from {n['from']}"
    if alert.kind == "gift_bomb":
        return f"Gift bomb in {where}: {n['gifts']} subs from {n['from']}"
    if "silent_min" in n:
        before = f"{n['per_min_before']}/min before"
        return f"Chat stopped in {where}: no messages for {n['silent_min']} min ({before})"
    reason = n["reason"] or "no reason given"
    return f"Chat stopped in {where}: the source lost the channel {n['gap_s']} s ago ({reason})"


def dashboard_link(alert: Alert, dashboard_url: str | None) -> str | None:
    """The dashboard on this channel around the moment (``channel``, ``from``, ``to`` in ms)."""
    if not dashboard_url:
        return None
    query = urlencode(
        {"channel": alert.channel, "from": alert.at_ms - LINK_BEFORE_MS, "to": alert.at_ms + LINK_AFTER_MS}
    )
    return f"{dashboard_url.rstrip('/')}/?{query}"


def plain(alert: Alert, dashboard_url: str | None) -> dict[str, Any]:
    """The plain JSON body (also what the other formats are built from)."""
    return {
        "type": "chatpulse.alert",
        "kind": alert.kind,
        "channel": alert.channel,
        "at": format_time(alert.at_ms),
        "minute": format_time(alert.minute_ms) if alert.minute_ms is not None else None,
        "summary": summary(alert),
        "numbers": dict(alert.numbers),
        "dashboard_url": dashboard_link(alert, dashboard_url),
        "vod": {"video_id": alert.vod.video_id, "offset_s": alert.vod.offset_s, "url": alert.vod.url}
        if alert.vod is not None
        else None,
    }


def render(alert: Alert, fmt: Format, dashboard_url: str | None) -> dict[str, Any]:
    """The body to POST for ``alert`` in ``fmt``."""
    body = plain(alert, dashboard_url)
    if fmt == "discord":
        return _discord(alert, body)
    if fmt == "slack":
        return _slack(alert, body)
    return body


def _discord(alert: Alert, body: Mapping[str, Any]) -> dict[str, Any]:
    fields = [
        {"name": _LABELS.get(k, k), "value": _clip(str(v), 1024), "inline": True}
        for k, v in alert.numbers.items()
    ]
    if body["vod"] is not None:
        fields.append({"name": "VOD", "value": body["vod"]["url"], "inline": False})
    embed: dict[str, Any] = {
        "title": _clip(f"{_TITLES[alert.kind]} in #{alert.channel}", 256),
        "description": _clip(body["summary"], 4096),
        "timestamp": body["at"],
        "color": _COLORS[alert.kind],
        "fields": fields[:25],
        "footer": {"text": "ChatPulse"},
    }
    if body["dashboard_url"]:
        embed["url"] = body["dashboard_url"]
    return {"content": _clip(body["summary"], 2000), "embeds": [embed], "allowed_mentions": {"parse": []}}


def _slack(alert: Alert, body: Mapping[str, Any]) -> dict[str, Any]:
    text = _slack_escape(body["summary"])
    figures = "  ".join(f"*{_LABELS.get(k, k)}:* {_slack_escape(str(v))}" for k, v in alert.numbers.items())
    links = [f"<{body['dashboard_url']}|dashboard>"] if body["dashboard_url"] else []
    if body["vod"] is not None:
        links.append(f"<{body['vod']['url']}|VOD>")
    context = [f"{body['at']}", *links]
    return {
        "text": text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": _clip(f"*{text}*\n{figures}", 3000)}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(context)}]},
        ],
    }


def _signed(value: Number) -> str:
    return f"{value:+.2f}" if isinstance(value, float) else str(value)


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
