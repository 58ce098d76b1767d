"""A Twitch-like IRC server on 127.0.0.1, for tests, benchmarks and offline demos.

It speaks the parts of Twitch IRC that ChatPulse uses, as dev.twitch.tv/docs/irc documents
them: ``CAP REQ`` answered with ``CAP * ACK`` (or ``NAK``), login by ``PASS oauth:...`` +
``NICK`` or anonymously as ``justinfanNNNN``, the 001-004/375/372/376 welcome, a
``NOTICE * :Login authentication failed`` (or ``Improperly formatted auth``) for bad
credentials, JOIN echoed with NAMES and ROOMSTATE, ``msg_channel_suspended`` notices, PING/PONG
both ways, RECONNECT, and JOIN rate limits per account (excess JOINs are dropped, as Twitch
does). Tests drive faults from outside: :meth:`TwitchIrcTestServer.drop_mid_line`,
:meth:`~TwitchIrcTestServer.go_silent`, :meth:`~TwitchIrcTestServer.reconnect`, and inject
chat with :meth:`~TwitchIrcTestServer.say`. It records what clients did (lines sent, join
times, PONGs) so tests can assert on it.

Run it alone (``python -m chatpulse.testing.irc_server --port 6667 --say-every 0.5``)
and point ChatPulse at it with ``--irc-url irc://127.0.0.1:6667``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import time
import zlib
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from chatpulse.sources.twitch_irc.framing import LineFramer, split_ws_message

HOST: Final = "127.0.0.1"
SERVER_NAME: Final = "tmi.twitch.tv"
SUPPORTED_CAPS: Final = frozenset({"twitch.tv/tags", "twitch.tv/commands", "twitch.tv/membership"})


@dataclass(frozen=True, slots=True)
class JoinRecord:
    """One JOIN the server received; ``accepted`` is False when the rate limit dropped it."""

    at: float  # time.monotonic()
    nick: str
    channel: str
    client: int
    accepted: bool


@dataclass(eq=False)
class ServerClient:
    """One client connection as the server sees it."""

    number: int
    send_raw: Callable[[str], None]
    abort: Callable[[], None]  # cut the connection now (a crash, as the peer sees it)
    finish: Callable[[], None]  # close after what was sent has gone out
    write_partial: Callable[[str], None]
    nick: str | None = None
    password: str | None = None
    logged_in: bool = False
    caps: set[str] = field(default_factory=set)
    channels: set[str] = field(default_factory=set)
    received: list[str] = field(default_factory=list)  # every line the client sent, in order
    pongs: list[str] = field(default_factory=list)
    silent: bool = False  # neither answers nor sends anything
    closed: bool = False
    closed_at: float | None = None

    def send(self, line: str) -> None:
        if not self.silent and not self.closed:
            self.send_raw(line)


class TwitchIrcTestServer:
    """Start with ``async with TwitchIrcTestServer(...) as server:``; connect to :attr:`url`."""

    def __init__(
        self,
        *,
        tokens: Mapping[str, str] | None = None,
        joins_per_window: int = 20,
        join_window_s: float = 10.0,
        suspended: set[str] | frozenset[str] = frozenset(),
        unanswered: set[str] | frozenset[str] = frozenset(),
        websocket: bool = False,
        port: int = 0,
    ) -> None:
        self.tokens = dict(tokens or {})  # "oauth:..." -> login it belongs to
        self.joins_per_window = joins_per_window
        self.join_window_s = join_window_s
        self.suspended = set(suspended)  # JOIN answered with msg_channel_suspended
        self.unanswered = set(unanswered)  # JOIN never answered
        self.clients: list[ServerClient] = []
        self.joins: list[JoinRecord] = []
        self.port = port  # 0: any free port; the real one is set by start()
        self.ws_port = 0
        self._websocket = websocket
        self._tcp: asyncio.Server | None = None
        self._ws: Server | None = None
        self._recent_joins: dict[str, deque[float]] = {}
        self._message_ids = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> TwitchIrcTestServer:
        self._tcp = await asyncio.start_server(self._serve_tcp, HOST, self.port)
        self.port = self._tcp.sockets[0].getsockname()[1]
        if self._websocket:
            self._ws = await serve(self._serve_ws, HOST, 0, compression=None, ping_interval=None)
            self.ws_port = next(iter(self._ws.sockets)).getsockname()[1]
        return self

    async def stop(self) -> None:
        for client in self.clients:
            client.abort()
        if self._tcp is not None:
            self._tcp.close()
            await self._tcp.wait_closed()
        if self._ws is not None:
            self._ws.close()
            await self._ws.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def __aenter__(self) -> TwitchIrcTestServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        return f"irc://{HOST}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{HOST}:{self.ws_port}/"

    # --- what tests inspect ----------------------------------------------------------------

    def live_clients(self) -> list[ServerClient]:
        return [client for client in self.clients if not client.closed]

    def members(self, channel: str) -> list[ServerClient]:
        return [c for c in self.live_clients() if channel in c.channels]

    def accepted_joins(self) -> list[JoinRecord]:
        return [record for record in self.joins if record.accepted]

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        """Poll ``condition`` until true; :class:`TimeoutError` after ``timeout`` seconds."""
        async with asyncio.timeout(timeout):
            while not condition():
                await asyncio.sleep(0.01)

    # --- what tests do ---------------------------------------------------------------------

    def say(self, channel: str, text: str, user: str = "viewer", color: str = "#1E90FF") -> str:
        """A PRIVMSG to every client in ``channel``; returns the line (its ``id`` is unique)."""
        message_id = f"msg-{next(self._message_ids)}"
        tags = (
            f"@badge-info=;badges=;color={color};display-name={user.title()};emotes=;first-msg=0;"
            f"flags=;id={message_id};mod=0;returning-chatter=0;room-id={room_id(channel)};"
            f"subscriber=0;tmi-sent-ts={time.time_ns() // 1_000_000};turbo=0;user-id=42;user-type="
        )
        line = f"{tags} :{user}!{user}@{user}.{SERVER_NAME} PRIVMSG #{channel} :{text}"
        for client in self.members(channel):
            client.send(line)
        return line

    def send(self, client: ServerClient, line: str) -> None:
        client.send(line)

    def ping(self, client: ServerClient) -> None:
        client.send(f"PING :{SERVER_NAME}")

    def reconnect(self, client: ServerClient) -> None:
        client.send(f":{SERVER_NAME} RECONNECT")

    def drop_mid_line(self, client: ServerClient, line: str) -> None:
        """Send the first half of ``line`` without its CRLF, then cut the connection."""
        client.write_partial(line[: len(line) // 2])
        self._close(client)

    def go_silent(self, client: ServerClient) -> None:
        """The connection stays open but the server never sends it anything again."""
        client.silent = True

    def disconnect(self, client: ServerClient) -> None:
        self._close(client)

    # --- protocol --------------------------------------------------------------------------

    def _on_line(self, client: ServerClient, line: str) -> None:
        client.received.append(line)
        if client.silent:
            return
        command, _, rest = line.partition(" ")
        command = command.upper()
        trailing = rest[1:] if rest.startswith(":") else rest.partition(" :")[2] or rest
        if command == "CAP" and rest.upper().startswith("REQ"):
            asked = set(rest.partition(":")[2].split())
            # IRCv3 capability negotiation: a request is granted or refused as a whole.
            if asked <= SUPPORTED_CAPS:
                client.caps |= asked
                client.send(f":{SERVER_NAME} CAP * ACK :{' '.join(sorted(asked))}")
            else:
                client.send(f":{SERVER_NAME} CAP * NAK :{' '.join(sorted(asked))}")
        elif command == "PASS":
            client.password = rest.strip()
        elif command == "NICK":
            self._log_in(client, rest.strip().lower())
        elif command == "PING":
            client.send(f":{SERVER_NAME} PONG {SERVER_NAME} :{trailing}")
        elif command == "PONG":
            client.pongs.append(trailing)
        elif not client.logged_in:
            return  # Twitch ignores commands before a successful login
        elif command == "JOIN":
            for channel in rest.strip().split(","):
                self._join(client, channel.strip().lstrip("#").lower())
        elif command == "PART":
            channel = rest.strip().lstrip("#").lower()
            if channel in client.channels:
                client.channels.discard(channel)
                client.send(f":{client.nick}!{client.nick}@{client.nick}.{SERVER_NAME} PART #{channel}")
        elif command == "QUIT":
            self._close(client)

    def _log_in(self, client: ServerClient, nick: str) -> None:
        password = client.password
        if password is None and not nick.startswith("justinfan"):
            return self._refuse(client, "Login authentication failed")
        if password is not None and not password.startswith("oauth:"):
            return self._refuse(client, "Improperly formatted auth")
        if password is not None and self.tokens.get(password) != nick:
            return self._refuse(client, "Login authentication failed")
        client.nick = nick
        client.logged_in = True
        # The welcome burst as Twitch sends it (dev.twitch.tv/docs/irc/authenticate-bot).
        for number, text in (
            ("001", "Welcome, GLHF!"),
            ("002", f"Your host is {SERVER_NAME}"),
            ("003", "This server is rather new"),
            ("004", "-"),
            ("375", "-"),
            ("372", "You are in a maze of twisty passages, all alike."),
            ("376", ">"),
        ):
            client.send(f":{SERVER_NAME} {number} {nick} :{text}")
        if password is not None and "twitch.tv/tags" in client.caps:
            client.send(
                f"@badge-info=;badges=;color=;display-name={nick};emote-sets=0;user-id=1;user-type= "
                f":{SERVER_NAME} GLOBALUSERSTATE"
            )

    def _refuse(self, client: ServerClient, reason: str) -> None:
        client.send(f":{SERVER_NAME} NOTICE * :{reason}")
        self._close(client, graceful=True)

    def _join(self, client: ServerClient, channel: str) -> None:
        nick = client.nick or ""
        now = time.monotonic()
        recent = self._recent_joins.setdefault(nick, deque())
        while recent and recent[0] <= now - self.join_window_s:
            recent.popleft()
        accepted = len(recent) < self.joins_per_window
        self.joins.append(JoinRecord(now, nick, channel, client.number, accepted))
        if not accepted or channel in self.unanswered:
            return
        recent.append(now)
        if channel in self.suspended:
            client.send(
                f"@msg-id=msg_channel_suspended :{SERVER_NAME} NOTICE #{channel} "
                ":This channel does not exist or has been suspended."
            )
            return
        client.channels.add(channel)
        if "twitch.tv/membership" in client.caps:
            client.send(f":{nick}!{nick}@{nick}.{SERVER_NAME} JOIN #{channel}")
        client.send(f":{nick}.{SERVER_NAME} 353 {nick} = #{channel} :{nick}")
        client.send(f":{nick}.{SERVER_NAME} 366 {nick} #{channel} :End of /NAMES list")
        tags = f"@emote-only=0;followers-only=-1;r9k=0;room-id={room_id(channel)};slow=0;subs-only=0 "
        client.send(f"{tags if 'twitch.tv/tags' in client.caps else ''}:{SERVER_NAME} ROOMSTATE #{channel}")

    def _close(self, client: ServerClient, graceful: bool = False) -> None:
        if client.closed:
            return
        client.closed = True
        client.closed_at = time.monotonic()
        if graceful:  # let the last NOTICE reach the client first
            client.finish()
        else:
            client.abort()

    def _track(self, task: asyncio.Task[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- transports ------------------------------------------------------------------------

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        def write(line: str) -> None:
            if not writer.is_closing():
                writer.write(f"{line}\r\n".encode())

        def partial(text: str) -> None:
            if not writer.is_closing():
                writer.write(text.encode())

        def abort() -> None:
            writer.transport.abort()

        client = ServerClient(len(self.clients) + 1, write, abort, writer.close, partial)
        self.clients.append(client)
        self._track_current()
        framer = LineFramer()
        try:
            while not client.closed:
                data = await reader.read(65536)
                if not data:
                    break
                for line in framer.feed(data):
                    self._on_line(client, line)
                await writer.drain()
        except (ConnectionError, OSError, ValueError):
            pass
        finally:
            self._close(client)
            writer.close()

    async def _serve_ws(self, socket: ServerConnection) -> None:
        outbox: asyncio.Queue[str] = asyncio.Queue()

        async def pump() -> None:
            with contextlib.suppress(ConnectionClosed):
                while True:
                    lines = [await outbox.get()]
                    while not outbox.empty():
                        lines.append(outbox.get_nowait())
                    await socket.send("".join(f"{line}\r\n" for line in lines))

        def abort() -> None:
            socket.transport.abort()

        def finish() -> None:
            self._track(asyncio.create_task(socket.close()))

        client = ServerClient(len(self.clients) + 1, outbox.put_nowait, abort, finish, lambda text: None)
        self.clients.append(client)
        sender = asyncio.create_task(pump())
        try:
            async for message in socket:
                for line in split_ws_message(message):
                    self._on_line(client, line)
        except ConnectionClosed:
            pass
        finally:
            sender.cancel()
            self._close(client)

    def _track_current(self) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._track(task)


def room_id(channel: str) -> str:
    """A stable fake ``room-id`` per channel."""
    return str(zlib.crc32(channel.encode()) % 10**9)


async def _serve_forever(port: int, say_every: float | None) -> None:
    server = await TwitchIrcTestServer(joins_per_window=10**6, join_window_s=1.0, port=port).start()
    print(f"listening on {server.url}", flush=True)  # noqa: T201 - the command's output
    count = itertools.count(1)
    while True:
        await asyncio.sleep(say_every or 3600)
        if say_every:
            for channel in sorted({c for client in server.live_clients() for c in client.channels}):
                server.say(channel, f"test message {next(count)} Kappa")


def main(argv: list[str] | None = None) -> None:
    """``python -m chatpulse.testing.irc_server --port 6667 [--say-every S]``."""
    parser = argparse.ArgumentParser(description="A Twitch-like IRC server on 127.0.0.1 (no rate limit).")
    parser.add_argument("--port", type=int, default=0, help="TCP port (0: any free port)")
    parser.add_argument("--say-every", type=float, default=None, help="seconds between injected messages")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_forever(args.port, args.say_every))


if __name__ == "__main__":
    main()
