"""Twitch chat through the EventSub WebSocket (Twitch's recommended path for reading chat).

Flow, per Twitch's guide (https://dev.twitch.tv/docs/eventsub/handling-websocket-events/):

1. check the token (user token of ``client_id`` with scope ``user:read:chat``), look up the
   channels' user ids;
2. connect; the first message, ``session_welcome``, names the session and its keepalive timeout;
3. subscribe each channel to the five chat subscription types through Helix, with
   ``transport {method: websocket, session_id}``; the channel is then covered;
4. read: ``notification`` -> ChatEvent, ``session_keepalive`` -> nothing. Silence longer than the
   keepalive timeout means the connection is dead: reconnect, subscribe again, and record the
   gap as coverage events;
5. ``session_reconnect``: open the given URL while still reading the old socket; once the new one
   says ``session_welcome``, close the old one. Subscriptions move with the session, so nothing
   is subscribed again and no gap is recorded;
6. ``revocation``: log it and record a coverage gap; a channel whose authorization was revoked or
   whose user was removed is dropped.

Twitch delivers at least once and may resend a notification with the same message id; those
repeats are dropped here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Literal, TypeVar

from pydantic import SecretStr
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidURI, WebSocketException

from chatpulse.config import CHANNEL_PATTERN
from chatpulse.errors import AuthenticationError, ConfigError, SourceError
from chatpulse.events import ChatEvent, CoverageEvent, ErrorEvent
from chatpulse.sources.base import SourceItem, now_ms
from chatpulse.sources.dedupe import RecentIds
from chatpulse.sources.eventsub.helix import (
    DEFAULT_HELIX_URL,
    DEFAULT_VALIDATE_URL,
    HelixClient,
    SubscriptionLimitError,
    TokenInfo,
    TransientHttpError,
)
from chatpulse.sources.eventsub.mapping import (
    CHAT_SUBSCRIPTION_TYPES,
    SOURCE,
    Frame,
    FrameError,
    SessionInfo,
    event_from_notification,
    parse_frame,
    revocation_info,
    session_info,
)

if TYPE_CHECKING:
    from chatpulse.config import Settings

log = logging.getLogger(__name__)
_T = TypeVar("_T")

DEFAULT_WS_URL: Final = "wss://eventsub.wss.twitch.tv/ws"
SUBSCRIPTIONS_PER_SESSION: Final = 300  # Twitch: at most 300 enabled subscriptions per WebSocket
MAX_CHANNELS: Final = SUBSCRIPTIONS_PER_SESSION // len(CHAT_SUBSCRIPTION_TYPES)
_DEFAULT_KEEPALIVE_S: Final = 10  # Twitch's default keepalive_timeout_seconds
_STOPPING_STATUSES: Final = frozenset({"authorization_revoked", "user_removed"})
# Close codes Twitch documents (websocket-reference, "Close message").
_CLOSE_REASONS: Final = {
    4000: "internal server error",
    4001: "client sent inbound traffic",
    4002: "client failed ping-pong",
    4003: "connection unused (no subscription in time)",
    4004: "reconnect grace time expired",
    4005: "network timeout",
    4006: "network error",
    4007: "invalid reconnect",
}
_CONNECT_ERRORS: Final = (OSError, TimeoutError, WebSocketException, FrameError)


@dataclass(eq=False)
class _Connection:
    ws: ClientConnection
    session: SessionInfo
    reader: asyncio.Task[None] | None = None
    dropped: bool = False

    async def close(self) -> None:
        self.dropped = True
        if self.reader is not None:
            self.reader.cancel()
        with contextlib.suppress(Exception):
            await self.ws.close()


# What connection readers and the reconnect task tell the main loop, in arrival order.
@dataclass(frozen=True, slots=True)
class _Text:
    conn: _Connection
    text: str
    received_at: int


@dataclass(frozen=True, slots=True)
class _Closed:
    conn: _Connection
    reason: str


@dataclass(frozen=True, slots=True)
class _Welcomed:
    conn: _Connection


@dataclass(frozen=True, slots=True)
class _ReconnectFailed:
    reason: str


@dataclass(frozen=True, slots=True)
class _Stop:
    pass


_Item = _Text | _Closed | _Welcomed | _ReconnectFailed | _Stop


@dataclass
class EventSubCounters:
    """What happened on the way, for logs and metrics."""

    connects: int = 0
    connect_failures: int = 0
    keepalive_timeouts: int = 0
    connection_losses: int = 0
    session_reconnects: int = 0
    revocations: int = 0
    duplicates: int = 0
    subscriptions: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


class EventSubSource:
    """Chat of up to 60 channels over one EventSub WebSocket session, as ready ChatEvents.

    Called by the pipeline like every :class:`~chatpulse.sources.base.Source`: ``stream()`` once,
    ``close()`` to stop. Missing settings raise :class:`ConfigError` here; a token Twitch refuses
    (invalid, expired, wrong client id, missing ``user:read:chat``) raises
    :class:`AuthenticationError` out of the iterator; a subscription limit raises
    :class:`SubscriptionLimitError`. Network faults are retried with capped exponential backoff and
    jitter, and surface only as coverage events. Messages never contain the token.
    """

    in_history = False  # see Source.in_history

    def history_stored(self) -> None:
        """No history: nothing waits for it."""

    name = SOURCE

    def __init__(
        self,
        client_id: str | None,
        token: SecretStr | None,
        channels: Iterable[str],
        *,
        broadcaster_ids: Mapping[str, str] | None = None,
        ws_url: str = DEFAULT_WS_URL,
        helix_url: str = DEFAULT_HELIX_URL,
        validate_url: str = DEFAULT_VALIDATE_URL,
        keepalive_timeout_s: int | None = None,
        keepalive_grace_s: float = 2.0,
        connect_timeout_s: float = 10.0,
        http_timeout_s: float = 10.0,
        backoff_initial_s: float = 1.0,
        backoff_max_s: float = 60.0,
        subscribe_concurrency: int = 8,
        queue_size: int = 10_000,
        duplicate_window: int = 10_000,
    ) -> None:
        if not client_id:
            raise ConfigError(
                "twitch.client_id is required for the EventSub source (TWITCH_CLIENT_ID; the client id "
                "of the application the token was created for)"
            )
        if token is None or not token.get_secret_value().strip():
            raise ConfigError(
                "twitch.token is required for the EventSub source: a user access token with scope "
                "user:read:chat"
            )
        logins = tuple(dict.fromkeys(channel.strip().lstrip("#").lower() for channel in channels))
        if not logins:
            raise ConfigError("twitch.channels is empty: name at least one channel to read")
        bad = [login for login in logins if not re.match(CHANNEL_PATTERN, login)]
        if bad:
            raise ConfigError(f"twitch.channels: {bad[0]!r} is not a valid channel name")
        if len(logins) > MAX_CHANNELS:
            raise ConfigError(
                f"twitch.channels: {len(logins)} channels, but one EventSub WebSocket session holds "
                f"{SUBSCRIPTIONS_PER_SESSION} subscriptions ({len(CHAT_SUBSCRIPTION_TYPES)} per channel, "
                f"so at most {MAX_CHANNELS} channels): split them across shards or use --source irc"
            )
        if keepalive_timeout_s is not None and not 10 <= keepalive_timeout_s <= 600:
            raise ConfigError("keepalive_timeout_s must be between 10 and 600 (Twitch's range)")
        self.channels = logins
        self.ws_url = ws_url
        self.keepalive_timeout_s = keepalive_timeout_s
        self.keepalive_grace_s = keepalive_grace_s
        self.connect_timeout_s = connect_timeout_s
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.subscribe_concurrency = subscribe_concurrency
        self.queue_size = queue_size
        self.counters = EventSubCounters()
        self.token_info: TokenInfo | None = None
        self._known_ids = {k.lower(): v for k, v in (broadcaster_ids or {}).items()}
        self._helix = HelixClient(
            client_id, token, helix_url=helix_url, validate_url=validate_url, timeout_s=http_timeout_s
        )
        self._active: dict[str, str] = {}  # channel login -> broadcaster id, still being read
        self._by_id: dict[str, str] = {}  # broadcaster id -> login, every resolved channel
        self._recent = RecentIds(duplicate_window)
        self._current: _Connection | None = None
        self._pending: asyncio.Task[None] | None = None
        self._queue: asyncio.Queue[_Item] | None = None
        self._lost_reason = ""
        self._closed = False
        self._stop = asyncio.Event()

    # --- the Source protocol -----------------------------------------------------------------

    async def stream(self) -> AsyncIterator[SourceItem]:
        if self._closed:
            return
        self.token_info = await self._retrying(self._helix.validate)
        for event in await self._resolve_channels():
            yield event
        queue: asyncio.Queue[_Item] = asyncio.Queue(self.queue_size)
        self._queue = queue
        backoff = self.backoff_initial_s
        try:
            while not self._closed and self._active:
                try:
                    self._current = await self._open(self._first_url(), queue)
                except _CONNECT_ERRORS as exc:
                    self.counters.connect_failures += 1
                    log.warning("EventSub: cannot connect to %s: %s", self.ws_url, _describe(exc))
                    backoff = await self._backoff(backoff)
                    continue
                self.counters.connects += 1
                try:
                    events = await self._subscribe_all(self._current.session.id)
                except TransientHttpError as exc:
                    log.warning("EventSub: subscribing failed, reconnecting: %s", exc)
                    await self._drop_connections()
                    backoff = await self._backoff(backoff)
                    continue
                for event in events:
                    yield event
                backoff = self.backoff_initial_s
                self._lost_reason = ""
                async for event in self._read(queue):
                    yield event
                await self._drop_connections()
                if self._closed or not self._active:
                    break
                self.counters.connection_losses += 1
                log.warning("EventSub: connection lost (%s); reconnecting", self._lost_reason)
                for login in self._active:
                    yield self._coverage(login, "disconnected", self._lost_reason)
                backoff = await self._backoff(backoff)
        finally:
            await self._drop_connections()

    async def close(self) -> None:
        """Stop reading; the iterator ends soon after. Safe to call twice."""
        self._closed = True
        self._stop.set()
        if self._queue is not None:
            with contextlib.suppress(asyncio.QueueFull):
                self._queue.put_nowait(_Stop())

    # --- start-up ----------------------------------------------------------------------------

    async def _resolve_channels(self) -> list[ChatEvent]:
        ids = {login: self._known_ids[login] for login in self.channels if login in self._known_ids}
        missing = [login for login in self.channels if login not in ids]
        if missing:
            ids.update(await self._retrying(lambda: self._helix.user_ids(missing)))
        events: list[ChatEvent] = []
        for login in self.channels:
            if login in ids:
                self._active[login] = ids[login]
                self._by_id[ids[login]] = login
            else:
                log.warning("EventSub: no Twitch user named %r; skipping that channel", login)
                events.append(self._coverage(login, "disconnected", "no Twitch user with this login"))
        return events

    def _first_url(self) -> str:
        if self.keepalive_timeout_s is None:
            return self.ws_url
        parts = urllib.parse.urlsplit(self.ws_url)
        query = urllib.parse.parse_qsl(parts.query) + [
            ("keepalive_timeout_seconds", str(self.keepalive_timeout_s))
        ]
        return parts._replace(query=urllib.parse.urlencode(query)).geturl()

    async def _subscribe_all(self, session_id: str) -> list[ChatEvent]:
        """Subscribe every active channel; coverage events for those now read or given up."""
        assert self.token_info is not None  # noqa: S101  (set by stream() before connecting)
        user_id = self.token_info.user_id
        gate = asyncio.Semaphore(self.subscribe_concurrency)

        async def one(broadcaster_id: str, sub_type: str) -> None:
            async with gate:
                sub = await self._helix.subscribe(
                    sub_type, {"broadcaster_user_id": broadcaster_id, "user_id": user_id}, session_id
                )
            self.counters.subscriptions += 1
            if sub.max_total_cost and sub.total_cost is not None and sub.total_cost >= sub.max_total_cost:
                log.warning("EventSub: subscription cost %s reached max_total_cost", sub.total_cost)

        channels = list(self._active.items())
        results = await asyncio.gather(
            *(one(bid, sub_type) for _, bid in channels for sub_type in CHAT_SUBSCRIPTION_TYPES),
            return_exceptions=True,
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        for kind in (AuthenticationError, SubscriptionLimitError, TransientHttpError):
            for error in errors:
                if isinstance(error, kind):
                    raise error
        for error in errors:
            if not isinstance(error, SourceError):
                raise error
        events: list[ChatEvent] = []
        per_channel = len(CHAT_SUBSCRIPTION_TYPES)
        for index, (login, _) in enumerate(channels):
            failed = [r for r in results[index * per_channel : (index + 1) * per_channel] if r is not None]
            if failed:
                log.warning("EventSub: giving up on channel %s: %s", login, failed[0])
                self._stop_channel(login)
                events.append(self._coverage(login, "disconnected", f"subscription refused: {failed[0]}"))
            else:
                events.append(self._coverage(login, "connected", "subscribed"))
        return events

    # --- connections -------------------------------------------------------------------------

    async def _open(self, url: str, queue: asyncio.Queue[_Item], announce: bool = False) -> _Connection:
        """Connect, wait for ``session_welcome``, then start a reader feeding ``queue``."""
        # No client pings: Twitch pings us, and anything we send besides pongs may get us
        # disconnected (close code 4001).
        ws = await connect(url, open_timeout=self.connect_timeout_s, ping_interval=None, close_timeout=2)
        try:
            async with asyncio.timeout(self.connect_timeout_s):
                first = await ws.recv()
            frame = parse_frame(first if isinstance(first, str) else first.decode("utf-8", "replace"))
            if frame.message_type != "session_welcome":
                raise FrameError(f"expected session_welcome first, got {frame.message_type!r}")
            conn = _Connection(ws, session_info(frame))
            if announce:
                await queue.put(_Welcomed(conn))
        except BaseException:
            with contextlib.suppress(Exception):
                await ws.close()
            raise
        conn.reader = asyncio.create_task(self._reader(conn, queue))
        return conn

    async def _reader(self, conn: _Connection, queue: asyncio.Queue[_Item]) -> None:
        try:
            async for message in conn.ws:
                text = message if isinstance(message, str) else message.decode("utf-8", "replace")
                await queue.put(_Text(conn, text, now_ms()))  # full queue: back-pressure on Twitch
        except ConnectionClosed:
            pass
        code = conn.ws.close_code
        why = _CLOSE_REASONS.get(code or 0) or conn.ws.close_reason or "no reason given"
        await queue.put(_Closed(conn, f"connection closed (code {code}: {why})"))

    async def _reconnect(self, url: str, queue: asyncio.Queue[_Item]) -> None:
        try:
            await self._open(url, queue, announce=True)
        except _CONNECT_ERRORS as exc:
            await queue.put(_ReconnectFailed(_describe(exc)))

    async def _drop_connections(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            with contextlib.suppress(BaseException):
                await self._pending
            self._pending = None
        if self._current is not None:
            await self._current.close()
            self._current = None

    # --- reading -----------------------------------------------------------------------------

    async def _read(self, queue: asyncio.Queue[_Item]) -> AsyncIterator[ChatEvent]:
        """Events of the current session; returns when it is lost (``_lost_reason``) or closed."""
        while not self._closed and self._current is not None:
            keepalive = self._current.session.keepalive_timeout_s or _DEFAULT_KEEPALIVE_S
            try:
                async with asyncio.timeout(keepalive + self.keepalive_grace_s):
                    item = await queue.get()
            except TimeoutError:
                self.counters.keepalive_timeouts += 1
                self._lost_reason = f"no message within the {keepalive} s keepalive timeout"
                return
            if isinstance(item, _Stop):
                return
            if isinstance(item, _Welcomed):
                await self._switch_to(item.conn)
            elif isinstance(item, _ReconnectFailed):
                self._lost_reason = f"session reconnect failed: {item.reason}"
                return
            elif isinstance(item, _Closed):
                # The old socket may close while the new one is being opened: keep waiting then.
                if item.conn is self._current and self._pending is None:
                    self._lost_reason = item.reason
                    return
            else:
                try:
                    frame = parse_frame(item.text)
                except FrameError as exc:
                    yield ErrorEvent(
                        received_at=item.received_at, source=SOURCE, raw=item.text, error=str(exc)
                    )
                    continue
                async for event in self._handle(frame, item):
                    yield event
                if self._lost_reason:
                    return

    async def _handle(self, frame: Frame, item: _Text) -> AsyncIterator[ChatEvent]:
        kind = frame.message_type
        self.counters.by_status[kind] = self.counters.by_status.get(kind, 0) + 1
        if kind == "notification":
            if frame.message_id and self._recent.seen(frame.message_id):
                self.counters.duplicates += 1
                return
            event = event_from_notification(frame, item.received_at)
            if event.channel_id is None or self._by_id.get(event.channel_id) in self._active:
                yield event
        elif kind == "session_reconnect":
            if item.conn is not self._current or self._pending is not None:
                return
            try:
                url = session_info(frame).reconnect_url
            except FrameError:
                url = None
            if not url:
                self._lost_reason = "session_reconnect without reconnect_url"
                return
            self.counters.session_reconnects += 1
            log.info("EventSub: Twitch asked to move to a new connection")
            assert self._queue is not None  # noqa: S101
            self._pending = asyncio.create_task(self._reconnect(url, self._queue))
        elif kind == "revocation":
            for event in self._revoked(frame, item.received_at):
                yield event
        elif kind not in ("session_keepalive", "session_welcome"):
            log.debug("EventSub: ignoring message type %r", kind)

    async def _switch_to(self, new: _Connection) -> None:
        """The new connection was welcomed: it carries the subscriptions; close the old one."""
        if self._pending is None or new.dropped:  # a reconnect we already gave up on
            await new.close()
            return
        old, self._current, self._pending = self._current, new, None
        if old is not None:
            await old.close()
        log.info("EventSub: moved to session %s", new.session.id)

    def _revoked(self, frame: Frame, received_at: int) -> list[ChatEvent]:
        try:
            revocation = revocation_info(frame)
        except FrameError as exc:
            return [ErrorEvent(received_at=received_at, source=SOURCE, raw=frame.raw, error=str(exc))]
        self.counters.revocations += 1
        login = self._by_id.get(revocation.broadcaster_user_id or "")
        log.warning(
            "EventSub: Twitch revoked the %s subscription of channel %s: %s",
            revocation.subscription_type,
            login or revocation.broadcaster_user_id,
            revocation.status,
        )
        if login is None:
            return []
        reason = f"{revocation.subscription_type} subscription revoked: {revocation.status}"
        event = self._coverage(login, "disconnected", reason)
        if revocation.status in _STOPPING_STATUSES:
            self._stop_channel(login)
            if not self._active:
                error = AuthenticationError if revocation.status == "authorization_revoked" else SourceError
                raise error(
                    f"Twitch revoked the EventSub chat subscriptions of every channel ({revocation.status})"
                )
        return [event]

    # --- helpers -----------------------------------------------------------------------------

    def _stop_channel(self, login: str) -> None:
        self._active.pop(login, None)

    def _coverage(
        self, login: str, state: Literal["connected", "disconnected"], reason: str
    ) -> CoverageEvent:
        return CoverageEvent(
            received_at=now_ms(),
            source=SOURCE,
            channel=login,
            channel_id=self._active.get(login) or self._known_ids.get(login),
            state=state,
            reason=reason,
        )

    async def _backoff(self, current: float) -> float:
        """Sleep a jittered ``current`` seconds (or until closed); return the next, doubled."""
        delay = random.uniform(current / 2, current)  # noqa: S311  (jitter, not security)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), delay)
        return min(current * 2, self.backoff_max_s)

    async def _retrying(self, call: Callable[[], Awaitable[_T]]) -> _T:
        backoff = self.backoff_initial_s
        while True:
            try:
                return await call()
            except TransientHttpError as exc:
                if self._closed:
                    raise
                log.warning("EventSub: Twitch API unreachable, retrying: %s", exc)
                backoff = await self._backoff(backoff)


def _describe(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    return text if not isinstance(exc, InvalidURI) else "invalid WebSocket URL"


def build_eventsub_source(settings: Settings, channels: Iterable[str]) -> EventSubSource:
    """An :class:`EventSubSource` from the ``twitch`` settings (``client_id``, ``token``, URLs)."""
    twitch = settings.twitch
    return EventSubSource(
        twitch.client_id,
        twitch.token,
        channels,
        ws_url=twitch.eventsub_url,
        helix_url=twitch.helix_url,
        validate_url=twitch.validate_url,
    )
