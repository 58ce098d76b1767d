"""One network connection to an IRC server, as lines: TCP, TLS or WebSocket.

:func:`open_irc_connection` is called by the IRC session for each (re)connect; it raises
:class:`ConnectionError`/:class:`OSError`/:class:`TimeoutError` when the server cannot be
reached, and the caller retries with backoff. ``read_lines`` returns ``[]`` only at a clean end
of stream; a broken connection raises :class:`ConnectionError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from typing import Protocol

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, ConnectionClosedOK, WebSocketException

from chatpulse.sources.twitch_irc.endpoint import IrcEndpoint
from chatpulse.sources.twitch_irc.framing import LineFramer, split_ws_message

_READ_SIZE = 64 * 1024


class IrcConnection(Protocol):
    """Lines in, lines out, over one connection."""

    async def read_lines(self) -> list[str]:
        """The next complete lines (waits for at least one); ``[]`` when the peer closed."""
        ...

    async def send_lines(self, lines: list[str]) -> None:
        """Send lines (without CRLF); raises :class:`ConnectionError` when the link is gone."""
        ...

    async def close(self) -> None:
        """Close; safe to call twice and after a failure."""
        ...

    @property
    def pending(self) -> str:
        """A partial line received but not completed (lost if the connection ends now)."""
        ...


class StreamIrcConnection:
    """IRC over a TCP or TLS stream: CRLF-framed lines, split by :class:`LineFramer`."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._framer = LineFramer()

    async def read_lines(self) -> list[str]:
        while True:
            data = await self._reader.read(_READ_SIZE)
            if not data:
                return []
            lines = self._framer.feed(data)
            if lines:
                return lines

    async def send_lines(self, lines: list[str]) -> None:
        if self._writer.is_closing():
            raise ConnectionResetError("connection closed")
        self._writer.write("".join(f"{line}\r\n" for line in lines).encode("utf-8"))
        await self._writer.drain()

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError, ssl.SSLError, asyncio.TimeoutError):
            await asyncio.wait_for(self._writer.wait_closed(), 2.0)

    @property
    def pending(self) -> str:
        return self._framer.pending


class WebSocketIrcConnection:
    """IRC over WebSocket: each text message holds whole CRLF-terminated lines."""

    def __init__(self, socket: ClientConnection) -> None:
        self._socket = socket

    async def read_lines(self) -> list[str]:
        while True:
            try:
                message = await self._socket.recv()
            except ConnectionClosedOK:
                return []
            except ConnectionClosed as exc:
                raise ConnectionResetError(f"websocket closed: {exc}") from None
            lines = split_ws_message(message)
            if lines:
                return lines

    async def send_lines(self, lines: list[str]) -> None:
        try:
            for line in lines:  # one IRC command per message, as Twitch's web client does
                await self._socket.send(line)
        except ConnectionClosed as exc:
            raise ConnectionResetError(f"websocket closed: {exc}") from None

    async def close(self) -> None:
        with contextlib.suppress(WebSocketException, OSError):
            await self._socket.close()

    @property
    def pending(self) -> str:
        return ""  # messages are whole: nothing is ever half-received


async def open_irc_connection(endpoint: IrcEndpoint, timeout_s: float) -> IrcConnection:
    """Connect to ``endpoint`` within ``timeout_s``; TLS verifies the certificate."""
    if endpoint.transport in ("ws", "wss"):
        try:
            socket = await ws_connect(
                endpoint.websocket_url,
                open_timeout=timeout_s,
                ping_interval=None,  # keep-alive is done with IRC PING/PONG, as over TCP
                max_size=2**22,
                compression=None,
            )
        except WebSocketException as exc:
            raise ConnectionRefusedError(f"websocket handshake failed: {exc}") from None
        return WebSocketIrcConnection(socket)
    context = ssl.create_default_context() if endpoint.transport == "tls" else None
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(endpoint.host, endpoint.port, ssl=context, limit=_READ_SIZE * 4),
        timeout_s,
    )
    return StreamIrcConnection(reader, writer)
