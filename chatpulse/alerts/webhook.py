"""Webhook delivery: one thread per webhook, a bounded queue, retries with capped backoff and jitter.

Whoever raises an alert only appends to a queue (never waits for the network): a slow, failing
or hanging webhook delays its own alerts, never the chat pipeline. When the queue is full the
oldest alert is dropped (a newer one matters more), counted and logged. A 5xx, 408, 429 or a
network error is retried up to ``max_attempts`` times (429's ``Retry-After`` is honoured, up to
the cap); any other 4xx means the request itself is wrong and is not retried.

A webhook URL is a credential (Discord and Slack put the token in the path), so logs and errors
name it only as :func:`redact` shows it: scheme, host and port.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from chatpulse.alerts.urls import redact
from chatpulse.backoff import backoff_delay

log = logging.getLogger(__name__)

USER_AGENT: Final = "ChatPulse-alerts"
_RETRIED_STATUS: Final = frozenset({408, 425, 429})


@dataclass(slots=True)
class SenderStats:
    queued: int = 0
    sent: int = 0
    retries: int = 0
    dropped: int = 0  # pushed out of a full queue
    failed: int = 0  # given up on (attempts used up, refused, or still queued at shutdown)
    last_error: str = ""
    statuses: dict[int, int] = field(default_factory=dict)


class WebhookSender:
    """POSTs JSON bodies to one webhook from a thread of its own."""

    def __init__(
        self,
        url: str,
        *,
        name: str | None = None,
        queue_size: int = 100,
        timeout_s: float = 10.0,
        max_attempts: int = 5,
        base_backoff_s: float = 1.0,
        max_backoff_s: float = 60.0,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.url = url
        self.name = name or redact(url)
        self.timeout_s = timeout_s
        self.max_attempts = max_attempts
        self.base_backoff_s = base_backoff_s
        self.max_backoff_s = max_backoff_s
        self.stats = SenderStats()
        self._queue: deque[dict[str, Any]] = deque()
        self._queue_size = queue_size
        self._cond = threading.Condition()
        self._closing = False
        self._busy = False
        self._wake = threading.Event()  # cuts a backoff sleep short at shutdown
        self._sleep = sleep or self._interruptible_sleep
        self._thread = threading.Thread(target=self._run, name=f"chatpulse-webhook {self.name}", daemon=True)
        self._thread.start()

    def send(self, body: dict[str, Any]) -> None:
        """Queue ``body``; returns at once. A full queue drops its oldest body."""
        with self._cond:
            if self._closing:
                self.stats.failed += 1
                return
            if len(self._queue) >= self._queue_size:
                self._queue.popleft()
                self.stats.dropped += 1
                log.warning("alerts: webhook %s is behind: dropped its oldest queued alert "
                            "(%d dropped so far)", self.name, self.stats.dropped)  # fmt: skip
            self._queue.append(body)
            self.stats.queued += 1
            self._cond.notify()

    def close(self, drain_s: float = 5.0) -> None:
        """Deliver what is queued for at most ``drain_s``, then give up on the rest (counted).
        An attempt under way is not waited for beyond that: the thread is a daemon."""
        deadline = time.monotonic() + drain_s
        with self._cond:
            while (self._queue or self._busy) and time.monotonic() < deadline:
                self._cond.wait(min(0.05, max(0.0, deadline - time.monotonic())))
            self._closing = True
            # The queued alerts, and one being attempted (its thread stops counting at closing).
            left = len(self._queue) + int(self._busy)
            self._queue.clear()
            self._cond.notify_all()
        self._wake.set()
        if left:
            self.stats.failed += left
            log.warning("alerts: webhook %s: %d alerts not delivered before shutdown", self.name, left)
        self._thread.join(timeout=0.1)

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._queue) + int(self._busy)

    # -- the thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closing:
                    self._cond.wait()
                if self._closing:
                    return
                body = self._queue.popleft()
                self._busy = True
            try:
                self._deliver(json.dumps(body).encode("utf-8"))
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _deliver(self, payload: bytes) -> None:
        for attempt in range(self.max_attempts):
            if self._closing:
                return  # counted by close()
            status, retry_after, error = self._post(payload)
            if self._closing:
                return  # an attempt that outlasted close(): already counted as failed there
            if status is not None:
                self.stats.statuses[status] = self.stats.statuses.get(status, 0) + 1
            if status is not None and 200 <= status < 300:
                self.stats.sent += 1
                return
            retried = status is None or status >= 500 or status in _RETRIED_STATUS
            self.stats.last_error = error
            if not retried or attempt == self.max_attempts - 1:
                break
            self.stats.retries += 1
            delay = backoff_delay(attempt, self.base_backoff_s, self.max_backoff_s)
            if retry_after is not None:
                delay = min(max(delay, retry_after), self.max_backoff_s)
            log.info("alerts: webhook %s: %s; retrying in %.1f s", self.name, error, delay)
            self._sleep(delay)
        self.stats.failed += 1
        log.warning("alerts: webhook %s: gave up on an alert: %s", self.name, self.stats.last_error)

    def _post(self, payload: bytes) -> tuple[int | None, float | None, str]:
        """(HTTP status or None for a network error, Retry-After seconds, error text)."""
        request = urllib.request.Request(  # noqa: S310 - check_url allows http(s) only
            self.url, data=payload, method="POST",
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT},
        )  # fmt: skip
        try:
            with _OPENER.open(request, timeout=self.timeout_s) as response:
                response.read(65536)
                return int(response.status), None, ""
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, _retry_after(exc.headers.get("Retry-After")), f"HTTP {exc.code}"
        except Exception as exc:  # noqa: BLE001 - any failure of one POST is that POST's, never the thread's
            # Only the class name and errno: some exceptions (http.client.InvalidURL, ValueError)
            # quote the URL, and the URL holds the token.
            reason = getattr(exc, "reason", exc)
            errno = getattr(reason, "errno", None)
            return None, None, type(reason).__name__ + (f" (errno {errno})" if errno else "")

    def _interruptible_sleep(self, seconds: float) -> None:
        self._wake.wait(seconds)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A webhook that redirects is refused (HTTP 30x, not retried): urllib would turn the POST
    into a GET without its body, and the alert would count as delivered."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER: Final = urllib.request.build_opener(_NoRedirects)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: rare for webhooks; the backoff applies
