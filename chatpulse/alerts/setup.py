"""Alerts for one run, from the settings: the detector's rules, one sender per webhook, the monitor."""

from __future__ import annotations

import logging
import socket
import time
from urllib.parse import urlsplit

from chatpulse.alerts.detect import AlertDetector, AlertRules
from chatpulse.alerts.format import Format, default_format
from chatpulse.alerts.monitor import AlertingSink, AlertMonitor, Target, VodLookup
from chatpulse.alerts.webhook import WebhookSender
from chatpulse.config import AlertSettings
from chatpulse.store import Sink

log = logging.getLogger(__name__)

REPLAY_SOURCES = frozenset({"replay"})  # sources whose chat is the past as a whole


def rules_from(settings: AlertSettings, quiet_before_ms: int | None) -> AlertRules:
    cooldown, events = settings.cooldown_s, settings.event_cooldown_s
    return AlertRules(
        raid_min_viewers=settings.raid_min_viewers,
        gift_bomb_min=settings.gift_bomb_min,
        mood_min_drop=settings.mood_min_drop,
        mood_k=settings.mood_k,
        mood_min_messages=settings.mood_min_messages,
        silence_minutes=settings.silence_minutes,
        active_per_minute=settings.active_per_minute,
        coverage_grace_s=settings.coverage_grace_s,
        # A mood stays low for a while once it drops: a longer wait than for hype.
        cooldown_s={
            "hype": cooldown,
            "chat_stopped": cooldown,
            "mood_drop": cooldown * 1.5,
            "raid": events,
            "gift_bomb": events,
        },  # fmt: skip
        quiet_before_ms=quiet_before_ms,
    )


def build_monitor(
    settings: AlertSettings,
    source_name: str,
    dashboard_url: str | None,
    vod_lookup: VodLookup | None = None,
) -> AlertMonitor | None:
    """The monitor for a run reading ``source_name``; None without webhooks, or for a replay
    unless ``on_replay``. Live chat read before now (the demo's back-fill) feeds the baselines
    but fires nothing unless ``on_replay``."""
    if not settings.webhooks:
        return None
    replay = source_name in REPLAY_SOURCES
    if replay and not settings.on_replay:
        log.warning("alerts: off for a replay (--alerts-on-replay turns them on)")
        return None
    quiet_before = None if settings.on_replay else time.time_ns() // 1_000_000
    targets = []
    for hook in settings.webhooks:
        url = hook.url.get_secret_value()
        fmt: Format = default_format(url) if hook.format == "auto" else hook.format
        sender = WebhookSender(
            url, queue_size=settings.queue_size, timeout_s=settings.timeout_s,
            max_attempts=settings.max_attempts, max_backoff_s=settings.max_backoff_s,
        )  # fmt: skip
        targets.append(Target(sender, fmt, frozenset(hook.kinds)))
        log.info("alerts: %s webhook %s", fmt, sender.name)
    return AlertMonitor(
        AlertDetector(rules_from(settings, quiet_before)),
        targets,
        dashboard_url=settings.dashboard_url or (reachable(dashboard_url) if dashboard_url else None),
        tick_wall_clock=not replay,
        drain_s=settings.drain_s,
        vod_lookup=vod_lookup,
    )


def reachable(url: str, hostname: str | None = None) -> str:
    """The served dashboard's URL as others can open it: a wildcard bind (``0.0.0.0``, ``::``)
    is this machine's host name (``alerts.dashboard_url`` says better where there is a proxy)."""
    parts = urlsplit(url)
    if parts.hostname not in ("0.0.0.0", "::"):  # noqa: S104 - recognising a wildcard bind, not binding
        return url
    return f"{parts.scheme}://{hostname or socket.gethostname()}:{parts.port}"


def with_alerts(sink: Sink, monitor: AlertMonitor | None) -> Sink:
    """``sink``, showing its batches to ``monitor`` when there is one."""
    return sink if monitor is None else AlertingSink(sink, monitor)
