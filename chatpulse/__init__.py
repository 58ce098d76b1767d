"""ChatPulse: real-time analytics for Twitch chat.

The public Python API, for notebooks, Airflow tasks and other programs::

    from chatpulse import load_settings, parse_line, create_analyzer, enrich_events, open_store

Names are imported on first use (PEP 562), so ``import chatpulse`` and the CLI start fast and a
program that only parses never loads chDB, Kafka or ONNX Runtime.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chatpulse.config import Settings, load_settings
    from chatpulse.errors import ChatPulseError, ConfigError
    from chatpulse.events import (
        ChatEvent,
        ClearChatEvent,
        ClearMsgEvent,
        CoverageEvent,
        Emote,
        ErrorEvent,
        MessageEvent,
        Sentiment,
        ServerEvent,
        UserNoticeEvent,
    )
    from chatpulse.irc.twitch import parse_line
    from chatpulse.sentiment import create_analyzer, enrich_events
    from chatpulse.store import ClickHouseSink, open_store
    from chatpulse.wire import dumps, loads

_HOMES = {
    "ChatEvent": "chatpulse.events",
    "ChatPulseError": "chatpulse.errors",
    "ClearChatEvent": "chatpulse.events",
    "ClearMsgEvent": "chatpulse.events",
    "ClickHouseSink": "chatpulse.store",
    "ConfigError": "chatpulse.errors",
    "CoverageEvent": "chatpulse.events",
    "Emote": "chatpulse.events",
    "ErrorEvent": "chatpulse.events",
    "MessageEvent": "chatpulse.events",
    "Sentiment": "chatpulse.events",
    "ServerEvent": "chatpulse.events",
    "Settings": "chatpulse.config",
    "UserNoticeEvent": "chatpulse.events",
    "create_analyzer": "chatpulse.sentiment",
    "dumps": "chatpulse.wire",
    "enrich_events": "chatpulse.sentiment",
    "load_settings": "chatpulse.config",
    "loads": "chatpulse.wire",
    "open_store": "chatpulse.store",
    "parse_line": "chatpulse.irc.twitch",
}

__all__ = [
    "ChatEvent",
    "ChatPulseError",
    "ClearChatEvent",
    "ClearMsgEvent",
    "ClickHouseSink",
    "ConfigError",
    "CoverageEvent",
    "Emote",
    "ErrorEvent",
    "MessageEvent",
    "Sentiment",
    "ServerEvent",
    "Settings",
    "UserNoticeEvent",
    "create_analyzer",
    "dumps",
    "enrich_events",
    "load_settings",
    "loads",
    "open_store",
    "parse_line",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'chatpulse' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later look-ups skip this function
    return value
