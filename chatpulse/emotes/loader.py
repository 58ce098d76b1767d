"""Fetching emote sets over HTTP, with the disk cache in front and behind.

Policy of :meth:`EmoteLoader.load` for one (provider, scope):

1. a cached set younger than ``max_age_s`` is used as is (unless ``force``);
2. otherwise the provider is asked; the answer is cached and used. A 404 means "this channel has
   no emotes on that provider" and is cached as an empty set, not treated as a failure;
3. when the provider cannot be reached (no network, timeout, 5xx, a response of the wrong shape)
   a cached set of any age is used, with a warning; with no cached set at all,
   :class:`EmoteFetchError` is raised.

HTTP uses the standard library (``urllib``): one GET per set, a few per channel, rarely.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

from chatpulse.emotes.cache import EmoteCache, EmoteSet
from chatpulse.emotes.providers import PROVIDERS, Endpoints, ProviderName, ResponseShapeError, parse_response
from chatpulse.errors import ChatPulseError

log = logging.getLogger(__name__)
USER_AGENT: Final = "chatpulse (Twitch chat analytics; emote sets)"
MAX_RESPONSE_BYTES: Final = 32 * 1024 * 1024  # a 7TV set of 1,000 emotes is a few MB


class EmoteFetchError(ChatPulseError):
    """An emote set could not be fetched and no cached copy exists (CLI exit code 1)."""


class EmoteSetNotFound(Exception):
    """The provider answered 404: it has no emotes for that channel."""


HttpGet = Callable[[str, float], Any]
"""``(url, timeout_s) -> decoded JSON``; raises :class:`EmoteSetNotFound` on 404 and
:class:`EmoteFetchError` on any other failure."""


def http_get_json(url: str, timeout_s: float) -> Any:
    """GET ``url`` and decode its JSON body (stdlib only)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http"):
        raise EmoteFetchError(f"refusing non-HTTP URL scheme {parts.scheme!r}")
    host = parts.netloc
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - scheme checked above
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 - scheme checked
            body = response.read(MAX_RESPONSE_BYTES + 1)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise EmoteSetNotFound(url) from None
        raise EmoteFetchError(f"{host} answered HTTP {exc.code}") from None
    except urllib.error.URLError as exc:
        raise EmoteFetchError(f"cannot reach {host} ({_why(exc.reason)})") from None
    except (TimeoutError, OSError) as exc:
        raise EmoteFetchError(f"cannot reach {host} ({_why(exc)})") from None
    if len(body) > MAX_RESPONSE_BYTES:
        raise EmoteFetchError(f"{host}: response larger than {MAX_RESPONSE_BYTES} bytes")
    try:
        return json.loads(body)
    except ValueError:
        raise EmoteFetchError(f"{host}: response is not JSON") from None


def _why(reason: object) -> str:
    """``[Errno 111] Connection refused`` -> ``Connection refused``; timeouts say so."""
    if isinstance(reason, TimeoutError):
        return "timed out"
    return str(getattr(reason, "strerror", None) or reason)


@dataclass(slots=True)
class LoadReport:
    """What :meth:`EmoteLoader.load_all` got: the sets, and what went wrong on the way."""

    sets: list[EmoteSet] = field(default_factory=list)
    stale: list[tuple[str, str]] = field(default_factory=list)  # (what, why): served from the cache
    failed: list[tuple[str, str]] = field(default_factory=list)  # (what, why): nothing at all

    @property
    def ok(self) -> bool:
        return not self.stale and not self.failed

    def summary(self) -> str:
        """The problems on one line, one entry per distinct reason: ``reason (what, what)``."""
        by_reason: dict[str, list[str]] = {}
        for what, why in (*self.failed, *self.stale):
            by_reason.setdefault(why, []).append(what)
        return "; ".join(f"{why} ({', '.join(whats)})" for why, whats in by_reason.items())


class EmoteLoader:
    """Loads emote sets through the cache (see the module docstring for the policy)."""

    def __init__(
        self,
        cache: EmoteCache,
        endpoints: Endpoints = Endpoints(),  # noqa: B008 - frozen dataclass, safe default
        max_age_s: float = 6 * 3600.0,
        timeout_s: float = 10.0,
        http_get: HttpGet = http_get_json,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.cache = cache
        self.endpoints = endpoints
        self.max_age_s = max_age_s
        self.timeout_s = timeout_s
        self._get = http_get
        self._clock = clock

    def load(self, provider: ProviderName, channel_id: str | None, force: bool = False) -> EmoteSet:
        """One provider's set for a scope; raises :class:`EmoteFetchError` if there is none."""
        emote_set, problem = self._load(provider, channel_id, force)
        if emote_set is None:
            raise EmoteFetchError(": ".join(problem or ("emote set", "unavailable")))
        return emote_set

    def load_all(self, channel_ids: Iterable[str] = (), force: bool = False) -> LoadReport:
        """Global sets and each channel's sets, from every provider; failures are reported."""
        report = LoadReport()
        for channel_id in (None, *channel_ids):
            for provider in PROVIDERS:
                emote_set, problem = self._load(provider, channel_id, force)
                if emote_set is not None:
                    report.sets.append(emote_set)
                    if problem is not None:
                        report.stale.append(problem)
                elif problem is not None:
                    report.failed.append(problem)
        return report

    def _load(
        self, provider: ProviderName, channel_id: str | None, force: bool
    ) -> tuple[EmoteSet | None, tuple[str, str] | None]:
        """(set or None, None or (what, why)): a set with a problem is a stale cached one."""
        cached = self.cache.read(provider, channel_id)
        now = self._clock()
        if cached is not None and not force and now - cached.fetched_at < self.max_age_s:
            return cached, None
        url = self.endpoints.url(provider, channel_id)
        try:
            pairs = parse_response(provider, channel_id, self._get(url, self.timeout_s))
        except EmoteSetNotFound:
            pairs = []
        except (EmoteFetchError, ResponseShapeError) as exc:
            scope = "global" if channel_id is None else f"channel {channel_id}"
            problem = (f"{provider} {scope}", str(exc))
            if cached is None:
                return None, problem
            age_h = (now - cached.fetched_at) / 3600
            log.warning("%s: %s; using the cached set from %.1f h ago", *problem, age_h)
            return cached, problem
        fresh = EmoteSet(provider, channel_id, tuple(pairs), now)
        self.cache.write(fresh)
        return fresh, None
