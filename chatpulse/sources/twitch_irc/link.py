"""One logged-in IRC connection of a :class:`~chatpulse.sources.twitch_irc.source.TwitchIrcSource`.

A link logs in, joins channels (paced by the source's shared :class:`JoinPacer`), answers the
server's PINGs, sends its own PING after ``idle_ping_s`` of silence and gives up when nothing
comes back within ``pong_timeout_s``. Every line it receives goes to the source, in order,
exactly once. It reports a channel as covered when Twitch confirms the JOIN with ROOMSTATE, and
as uncovered when the connection ends. It never reconnects by itself: the session that owns it
(:mod:`chatpulse.sources.twitch_irc.session`) does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Final, Protocol

from chatpulse.errors import AuthenticationError, IrcParseError
from chatpulse.irc.parser import IrcMessage, parse_irc
from chatpulse.sources.base import RawLine, SourceItem, now_ms
from chatpulse.sources.twitch_irc.connection import IrcConnection
from chatpulse.sources.twitch_irc.endpoint import IrcEndpoint, IrcLogin
from chatpulse.sources.twitch_irc.framing import LineTooLongError
from chatpulse.sources.twitch_irc.pacing import JoinPacer

log = logging.getLogger("chatpulse.sources.twitch_irc.source")

# NOTICE texts Twitch sends instead of the welcome when it refuses a login
# (dev.twitch.tv/docs/irc/authenticate-bot, "Authentication failures").
AUTH_FAILURE_TEXTS: Final = ("Login authentication failed", "Improperly formatted auth")
# NOTICE msg-ids that answer a JOIN the server refused (dev.twitch.tv/docs/irc/msg-id).
JOIN_FAILURE_IDS: Final = frozenset(
    {"msg_channel_suspended", "msg_banned", "msg_channel_blocked", "tos_ban", "invalid_channel"}
)
# Commands the link acts on; every other line is only forwarded, without a full parse.
_CONTROL: Final = frozenset({"PING", "PONG", "RECONNECT", "ROOMSTATE", "NOTICE", "CAP"})


@dataclass
class IrcTimings:
    """Timeouts and intervals, in seconds (tests shrink them)."""

    connect_timeout_s: float = 10.0
    login_timeout_s: float = 10.0
    join_timeout_s: float = 10.0  # no ROOMSTATE within this after the JOIN: try again
    join_attempts: int = 3  # JOINs sent per channel before it counts as failed
    idle_ping_s: float = 60.0  # silence before we PING the server ourselves
    pong_timeout_s: float = 10.0  # silence after our PING before the link counts as dead
    backoff_base_s: float = 1.0
    backoff_cap_s: float = 60.0


@dataclass
class IrcCounters:
    """What happened so far; read by status and metrics."""

    connects: int = 0  # successful logins
    connect_failures: int = 0
    reconnects: int = 0
    lines: int = 0  # lines forwarded
    joins: int = 0  # channels confirmed joined (a rejoin counts again)
    join_failures: int = 0
    duplicates_dropped: int = 0  # messages seen on both links during a RECONNECT hand-over


class LinkHost(Protocol):
    """What a link needs from its source. Implemented by ``TwitchIrcSource``."""

    endpoint: IrcEndpoint
    login: IrcLogin
    timings: IrcTimings
    counters: IrcCounters
    pacer: JoinPacer

    async def emit(self, item: SourceItem) -> None:
        """Hand one item to the consumer; waits while its queue is full (back-pressure)."""
        ...

    def channel_up(self, channel: str) -> None:
        """A link now receives ``channel``."""
        ...

    def channel_down(self, channel: str, reason: str) -> None:
        """A link stopped receiving ``channel``."""
        ...

    def join_failed(self, channel: str, reason: str) -> None:
        """The server refused or ignored a JOIN."""
        ...


def command_of(line: str) -> str:
    """The command word of a raw line, without parsing tags or params."""
    start = 0
    if line.startswith("@"):
        start = line.find(" ") + 1
    if line.startswith(":", start):
        start = line.find(" ", start) + 1
    if start <= 0 and line[:1] in ("@", ":"):
        return ""
    end = line.find(" ", start)
    return line[start:] if end < 0 else line[start:end]


def _channel_param(msg: IrcMessage) -> str | None:
    if msg.params and msg.params[0].startswith("#"):
        return msg.params[0][1:].lower()
    return None


class IrcLink:
    """One connection: login, joins, keep-alive, forwarding. Created by the session."""

    def __init__(self, host: LinkHost, conn: IrcConnection, number: int, dedup: set[str] | None) -> None:
        self.host = host
        self.conn = conn
        self.number = number
        self.joined: set[str] = set()
        self.reconnect_requested = asyncio.Event()
        self.settled = asyncio.Event()  # every JOIN sent so far answered (joined or failed)
        self.end_reason = "source stopped"  # replaced when the link ends for another reason
        self.dedup = dedup  # message ids seen, while two links overlap; None otherwise
        self._pending: dict[str, asyncio.TimerHandle] = {}
        self._attempts: Counter[str] = Counter()
        self._wanted: set[str] = set()
        self._join_tasks: set[asyncio.Task[None]] = set()
        self._ping_pending = False
        self.serve_task: asyncio.Task[None] | None = None  # set by the session once logged in

    @property
    def serving(self) -> asyncio.Task[None]:
        """The task running :meth:`serve`."""
        if self.serve_task is None:
            raise RuntimeError("link is not serving yet")
        return self.serve_task

    async def stop(self) -> None:
        """End the link now (its channels are reported uncovered); safe to call twice."""
        if self.serve_task is None:
            await self.conn.close()
            return
        if not self.serve_task.done():
            self.serve_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.serve_task

    # --- login -----------------------------------------------------------------------------

    async def log_in(self) -> None:
        """Send CAP/PASS/NICK and wait for the welcome (001); forward what arrives meanwhile.

        Raises :class:`AuthenticationError` (never naming the token) when Twitch refuses the
        login, :class:`TimeoutError` or :class:`ConnectionError` when it does not answer.
        """
        login = self.host.login
        await self.conn.send_lines(login.lines())  # holds PASS: never logged
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.host.timings.login_timeout_s
        welcomed = False
        while not welcomed:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError("no welcome from the server")
            lines = await asyncio.wait_for(self.conn.read_lines(), remaining)
            if not lines:
                raise ConnectionResetError("server closed the connection during login")
            for line in lines:
                command = command_of(line)
                if command == "001":
                    welcomed = True
                elif command == "NOTICE" and any(text in line for text in AUTH_FAILURE_TEXTS):
                    reason = next(text for text in AUTH_FAILURE_TEXTS if text in line)
                    who = "anonymous login" if login.anonymous else f"login as {login.nick}"
                    raise AuthenticationError(f"Twitch refused the {who}: {reason} (check twitch.token)")
                elif command == "CAP" and " NAK " in line:
                    log.warning("server refused capabilities (%s): tags or notices will be missing", line)
                await self._handle(line)

    # --- joins -----------------------------------------------------------------------------

    def start_joins(self, channels: list[str], wanted: set[str]) -> None:
        """JOIN ``channels`` in the background, paced; skip any no longer ``wanted`` by then."""
        self._wanted = wanted
        if not channels:
            self.settled.set()
            return
        self.settled.clear()
        task = asyncio.create_task(self._join_all(channels, wanted), name=f"irc-join-{self.number}")
        self._join_tasks.add(task)
        task.add_done_callback(self._join_tasks.discard)

    async def _join_all(self, channels: list[str], wanted: set[str]) -> None:
        loop = asyncio.get_running_loop()
        try:
            for channel in channels:
                if channel not in wanted or channel in self.joined or channel in self._pending:
                    continue
                await self.host.pacer.acquire()
                if channel not in wanted:
                    continue
                timeout = self.host.timings.join_timeout_s
                self._pending[channel] = loop.call_later(timeout, self._join_timed_out, channel)
                await self.conn.send_lines([f"JOIN #{channel}"])
        except (ConnectionError, OSError):
            pass  # the read loop notices the dead link and ends it
        finally:
            self._maybe_settled()

    def _join_timed_out(self, channel: str) -> None:
        if self._pending.pop(channel, None) is None:
            return
        # Twitch drops JOINs over its rate limit without a word, so silence earns a retry.
        self._attempts[channel] += 1
        if self._attempts[channel] < self.host.timings.join_attempts and channel in self._wanted:
            log.info("link %d: no answer to JOIN #%s; trying again", self.number, channel)
            self.start_joins([channel], self._wanted)
        else:
            self.host.join_failed(channel, f"no ROOMSTATE after {self._attempts[channel]} JOINs")
        self._maybe_settled()

    def _maybe_settled(self) -> None:
        if not self._pending and not self._join_tasks - {asyncio.current_task()}:
            self.settled.set()

    async def part(self, channel: str) -> None:
        timer = self._pending.pop(channel, None)
        if timer is not None:
            timer.cancel()
        if channel in self.joined:
            self.joined.discard(channel)
            self.host.channel_down(channel, "parted")
        with contextlib.suppress(ConnectionError, OSError):
            await self.conn.send_lines([f"PART #{channel}"])

    # --- reading ---------------------------------------------------------------------------

    async def serve(self) -> None:
        """Read until the connection ends; ``end_reason`` says why. Never raises on I/O faults."""
        timings = self.host.timings
        try:
            while True:
                timeout = timings.pong_timeout_s if self._ping_pending else timings.idle_ping_s
                try:
                    lines = await asyncio.wait_for(self.conn.read_lines(), timeout)
                except TimeoutError:
                    if self._ping_pending:
                        self.end_reason = f"no answer to PING within {timings.pong_timeout_s:g}s"
                        return
                    self._ping_pending = True
                    await self.conn.send_lines(["PING :chatpulse"])
                    continue
                if not lines:
                    self.end_reason = "server closed the connection"
                    return
                self._ping_pending = False  # any line shows the link is alive
                for line in lines:
                    await self._handle(line)
        except (ConnectionError, OSError, LineTooLongError) as exc:
            self.end_reason = f"connection lost ({exc.__class__.__name__}: {exc})"
        finally:
            await self._finish()

    async def _finish(self) -> None:
        for task in list(self._join_tasks):
            task.cancel()
        for timer in self._pending.values():
            timer.cancel()
        self._pending.clear()
        if self.conn.pending:
            log.warning("link %d: dropped a partial line of %d chars", self.number, len(self.conn.pending))
        for channel in sorted(self.joined):
            self.host.channel_down(channel, self.end_reason)
        self.joined.clear()
        self.settled.set()
        await self.conn.close()

    async def _handle(self, line: str) -> None:
        received = now_ms()
        command = command_of(line)
        if self.dedup is not None and command in ("PRIVMSG", "USERNOTICE"):
            message_id = _message_id(line)
            if message_id is not None:
                if message_id in self.dedup:
                    self.host.counters.duplicates_dropped += 1
                    return
                self.dedup.add(message_id)
        self.host.counters.lines += 1
        await self.host.emit(RawLine(line, received))
        if command in _CONTROL:
            with contextlib.suppress(IrcParseError):  # forwarded above; parse_line reports it
                await self._control(parse_irc(line))

    async def _control(self, msg: IrcMessage) -> None:
        if msg.command == "PING":
            # Twitch: answer "PONG :tmi.twitch.tv" with the PING's own text (dev.twitch.tv/docs/irc).
            await self.conn.send_lines([f"PONG :{msg.params[-1] if msg.params else 'tmi.twitch.tv'}"])
        elif msg.command == "RECONNECT":
            log.info("link %d: server asked to reconnect", self.number)
            self.reconnect_requested.set()
        elif msg.command == "ROOMSTATE":
            channel = _channel_param(msg)
            timer = self._pending.pop(channel, None) if channel else None
            if channel and timer is not None:
                timer.cancel()
                self.joined.add(channel)
                self.host.counters.joins += 1
                self.host.channel_up(channel)
                self._maybe_settled()
        elif msg.command == "NOTICE":
            channel = _channel_param(msg)
            notice = msg.tags.get("msg-id", "")
            if channel and notice in JOIN_FAILURE_IDS and channel in self._pending:
                self._pending.pop(channel).cancel()
                self.host.join_failed(channel, notice)
                self._maybe_settled()


def _message_id(line: str) -> str | None:
    if not line.startswith("@"):
        return None
    block = line[1 : line.find(" ")]
    if block.startswith("id="):
        start = 3
    else:
        found = block.find(";id=")
        if found < 0:
            return None
        start = found + 4
    end = block.find(";", start)
    return block[start:] if end < 0 else block[start:end]
