"""Webhook URLs: whether one can be used, and how to name it in logs without its secret. Pure."""

from __future__ import annotations

from urllib.parse import urlsplit


def check_url(url: str) -> str | None:
    """Why ``url`` cannot be a webhook (never quoting it: it holds a token), or None when it can."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return "not a valid URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http:// or https:// URL with a host"
    if any(ch <= " " or ch == "\x7f" for ch in url):
        return "must not contain spaces or control characters"
    return None


def redact(url: str) -> str:
    """``https://discord.com/…``: the URL without its path, query or user info (the secret parts)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<webhook>"
    return f"{parts.scheme or '?'}://{host}{port}/…"
