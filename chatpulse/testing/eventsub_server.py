"""A Twitch-like EventSub WebSocket server plus the Helix endpoints it needs, on 127.0.0.1.

Message shapes follow Twitch's EventSub WebSocket reference
(https://dev.twitch.tv/docs/eventsub/websocket-reference/) and the Helix reference for
``POST /eventsub/subscriptions``, ``GET /users`` and ``GET /oauth2/validate``.

- WebSocket ``/ws``: sends ``session_welcome`` (``keepalive_timeout_seconds = keepalive_s``), then
  ``session_keepalive`` twice per keepalive period while ``send_keepalives`` is true (set it false
  for a silent, half-dead connection). Tests push notifications with :meth:`notify`, move a session
  with :meth:`send_reconnect` (the new URL is ``/ws/reconnect?from=<old session>``; its welcome
  waits for ``release_reconnect_welcome``) and revoke with :meth:`revoke`.
- HTTP: ``GET /oauth2/validate``, ``GET /helix/users``, ``POST /helix/eventsub/subscriptions``
  (202; 400 for an unknown session, 409 for a duplicate; any status forced by
  ``subscribe_error``); 401 whenever the token or client id is wrong or ``token_valid`` is false.

Everything runs in the test's event loop; the HTTP part is a minimal HTTP/1.1 server on asyncio
streams (one request per connection).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve

_REASONS = {
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")


@dataclass(eq=False)
class ServerSession:
    """One WebSocket connection as the server sees it."""

    id: str
    path: str
    ws: ServerConnection
    welcomed: asyncio.Event = field(default_factory=asyncio.Event)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    sent: list[dict[str, Any]] = field(default_factory=list)

    async def send(self, doc: dict[str, Any]) -> None:
        self.sent.append(doc)
        await self.ws.send(json.dumps(doc))


@dataclass
class SubscriptionRequest:
    """What the client POSTed to ``/eventsub/subscriptions``."""

    headers: dict[str, str]
    body: dict[str, Any]


class EventSubTestServer:
    """See the module docstring. Use as ``async with EventSubTestServer() as server``."""

    def __init__(
        self,
        *,
        token: str = "test-user-token-5ecret",  # noqa: S107  (a test token)
        client_id: str = "test-client-id",
        scopes: tuple[str, ...] = ("user:read:chat",),
        keepalive_s: int = 1,
        users: dict[str, str] | None = None,
        token_user: str = "pulsebot",  # noqa: S107  (a login, not a secret)
    ) -> None:
        self.token = token
        self.client_id = client_id
        self.scopes = scopes
        self.keepalive_s = keepalive_s
        self.users = users or {"pulsebot": "9001", "pulsetest": "1001", "otherchan": "1002"}
        self.token_user = token_user
        self.token_valid = True
        self.send_keepalives = True
        self.subscribe_error: tuple[int, str] | None = None
        self.release_reconnect_welcome = asyncio.Event()
        self.release_reconnect_welcome.set()
        self.sessions: list[ServerSession] = []
        self.subscription_requests: list[SubscriptionRequest] = []
        self.subscriptions: dict[str, dict[str, Any]] = {}  # id -> subscription object
        self._ws_server: Server | None = None
        self._http_server: asyncio.Server | None = None
        self._ws_port = 0
        self._http_port = 0
        self._tasks: set[asyncio.Task[None]] = set()

    # --- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> EventSubTestServer:
        self._ws_server = await serve(self._ws_handler, "127.0.0.1", 0)
        self._ws_port = self._ws_server.sockets[0].getsockname()[1]
        self._http_server = await asyncio.start_server(self._http_handler, "127.0.0.1", 0)
        self._http_port = self._http_server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._ws_server is not None:
            self._ws_server.close()
            await self._ws_server.wait_closed()
        if self._http_server is not None:
            self._http_server.close()
            await self._http_server.wait_closed()

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self._ws_port}/ws"

    @property
    def helix_url(self) -> str:
        return f"http://127.0.0.1:{self._http_port}/helix"

    @property
    def validate_url(self) -> str:
        return f"http://127.0.0.1:{self._http_port}/oauth2/validate"

    # --- what tests do -----------------------------------------------------------------------

    def session_holding(self, sub_type: str, broadcaster_id: str) -> tuple[ServerSession, dict[str, Any]]:
        for sub in self.subscriptions.values():
            if sub["type"] == sub_type and sub["condition"]["broadcaster_user_id"] == broadcaster_id:
                session = self._session(sub["transport"]["session_id"])
                if session is not None:
                    return session, sub
        raise AssertionError(f"no session holds {sub_type} for broadcaster {broadcaster_id}")

    async def notify(self, frame: dict[str, Any], message_id: str | None = None) -> str:
        """Send a notification frame (a fixture) on the session subscribed to it; returns its id."""
        doc = copy.deepcopy(frame)
        sub_type = doc["metadata"]["subscription_type"]
        broadcaster = doc["payload"]["event"]["broadcaster_user_id"]
        session, sub = self.session_holding(sub_type, broadcaster)
        doc["metadata"]["message_id"] = message_id or str(uuid.uuid4())
        doc["payload"]["subscription"] = copy.deepcopy(sub)
        await session.send(doc)
        return str(doc["metadata"]["message_id"])

    async def send_reconnect(self) -> ServerSession:
        """Ask the session holding the subscriptions to move (``session_reconnect``)."""
        session = self._session(next(iter(self.subscriptions.values()))["transport"]["session_id"])
        if session is None:
            raise RuntimeError("no session holds the subscriptions")
        url = f"ws://127.0.0.1:{self._ws_port}/ws/reconnect?from={session.id}"
        await session.send(
            self._control(
                "session_reconnect",
                {
                    "session": {
                        "id": session.id,
                        "status": "reconnecting",
                        "keepalive_timeout_seconds": None,
                        "reconnect_url": url,
                        "connected_at": _now(),
                        "recovery_url": None,
                    }
                },
            )
        )
        return session

    async def revoke(self, broadcaster_id: str, sub_type: str, status: str) -> None:
        """Revoke one subscription (``revocation`` message) and forget it."""
        session, sub = self.session_holding(sub_type, broadcaster_id)
        del self.subscriptions[sub["id"]]
        revoked = dict(sub, status=status)
        doc = self._control("revocation", {"subscription": revoked})
        doc["metadata"].update(subscription_type=sub_type, subscription_version="1")
        await session.send(doc)

    async def close_session(self, session: ServerSession, code: int = 4005, reason: str = "") -> None:
        """Close a session from the server side with one of Twitch's close codes."""
        await session.ws.close(code, reason)

    async def wait_for_sessions(self, count: int, timeout: float = 5.0) -> ServerSession:
        async with asyncio.timeout(timeout):
            while len(self.sessions) < count:
                await asyncio.sleep(0.01)
        return self.sessions[count - 1]

    # --- WebSocket ---------------------------------------------------------------------------

    def _session(self, session_id: str) -> ServerSession | None:
        return next((s for s in self.sessions if s.id == session_id and not s.closed.is_set()), None)

    @staticmethod
    def _control(message_type: str, payload: dict[str, Any]) -> dict[str, Any]:
        meta = {"message_id": str(uuid.uuid4()), "message_type": message_type, "message_timestamp": _now()}
        return {"metadata": meta, "payload": payload}

    async def _ws_handler(self, ws: ServerConnection) -> None:
        if ws.request is None:  # the handshake is done before the handler runs
            return
        path = ws.request.path
        moving_from = parse_qs(urlsplit(path).query).get("from", [None])[0]
        session = ServerSession(id=uuid.uuid4().hex, path=path, ws=ws)
        self.sessions.append(session)
        keepalive: asyncio.Task[None] | None = None
        try:
            if moving_from is not None:
                await self.release_reconnect_welcome.wait()
            await session.send(
                self._control(
                    "session_welcome",
                    {
                        "session": {
                            "id": session.id,
                            "status": "connected",
                            "connected_at": _now(),
                            "keepalive_timeout_seconds": self.keepalive_s,
                            "reconnect_url": None,
                            "recovery_url": None,
                        }
                    },
                )
            )
            if moving_from is not None:  # subscriptions move with the session (Twitch's rule)
                for sub in self.subscriptions.values():
                    if sub["transport"]["session_id"] == moving_from:
                        sub["transport"]["session_id"] = session.id
            session.welcomed.set()
            keepalive = asyncio.create_task(self._keepalives(session))
            self._tasks.add(keepalive)
            await ws.wait_closed()
        finally:
            if keepalive is not None:
                keepalive.cancel()
                self._tasks.discard(keepalive)
            session.closed.set()
            # Twitch disables a closed session's subscriptions (websocket_disconnected).
            for sub_id, sub in list(self.subscriptions.items()):
                if sub["transport"]["session_id"] == session.id:
                    del self.subscriptions[sub_id]

    async def _keepalives(self, session: ServerSession) -> None:
        with contextlib.suppress(Exception):
            while True:
                await asyncio.sleep(self.keepalive_s / 2)
                if self.send_keepalives:
                    await session.send(self._control("session_keepalive", {}))

    # --- HTTP --------------------------------------------------------------------------------

    async def _http_handler(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            method, target, _ = (await reader.readline()).decode("latin-1").split(" ", 2)
            headers: dict[str, str] = {}
            while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            status, doc, extra = self._route(method, target, headers, body)
            payload = json.dumps(doc).encode()
            head = [
                f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}",
                "Content-Type: application/json",
                f"Content-Length: {len(payload)}",
                "Connection: close",
            ]
            head += [f"{key}: {value}" for key, value in extra.items()]
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
            await writer.drain()
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _route(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        url = urlsplit(target)
        if method == "GET" and url.path == "/oauth2/validate":
            if not self.token_valid or headers.get("authorization") != f"OAuth {self.token}":
                return 401, {"status": 401, "message": "invalid access token"}, {}
            return (
                200,
                {
                    "client_id": self.client_id,
                    "login": self.token_user,
                    "scopes": list(self.scopes),
                    "user_id": self.users[self.token_user],
                    "expires_in": 5000,
                },
                {},
            )
        if not url.path.startswith("/helix/"):
            return 404, {"status": 404, "message": "not found"}, {}
        limits = {"Ratelimit-Limit": "800", "Ratelimit-Remaining": "799", "Ratelimit-Reset": "0"}
        if (
            not self.token_valid
            or headers.get("authorization") != f"Bearer {self.token}"
            or headers.get("client-id") != self.client_id
        ):
            return 401, {"error": "Unauthorized", "status": 401, "message": "Invalid OAuth token"}, limits
        if method == "GET" and url.path == "/helix/users":
            logins = parse_qs(url.query).get("login", [])
            data = [
                {"id": self.users[name], "login": name, "display_name": name.title()}
                for name in logins
                if name in self.users
            ]
            return 200, {"data": data}, limits
        if method == "POST" and url.path == "/helix/eventsub/subscriptions":
            return (*self._subscribe(headers, json.loads(body)), limits)
        return 404, {"status": 404, "message": "not found"}, limits

    def _subscribe(self, headers: dict[str, str], body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.subscription_requests.append(SubscriptionRequest(headers, body))
        if self.subscribe_error is not None:
            status, message = self.subscribe_error
            return status, {"error": _REASONS.get(status, "Error"), "status": status, "message": message}
        transport = body.get("transport") or {}
        if transport.get("method") != "websocket" or self._session(transport.get("session_id", "")) is None:
            return 400, {
                "error": "Bad Request",
                "status": 400,
                "message": "websocket transport session does not exist or has already disconnected",
            }
        for sub in self.subscriptions.values():
            if sub["type"] == body["type"] and sub["condition"] == body["condition"]:
                return 409, {"error": "Conflict", "status": 409, "message": "subscription already exists"}
        sub = {
            "id": str(uuid.uuid4()),
            "status": "enabled",
            "type": body["type"],
            "version": body["version"],
            "condition": body["condition"],
            "created_at": _now(),
            "cost": 0,
            "transport": {
                "method": "websocket",
                "session_id": transport["session_id"],
                "connected_at": _now(),
            },
        }
        self.subscriptions[sub["id"]] = sub
        return 202, {"data": [sub], "total": len(self.subscriptions), "total_cost": 0, "max_total_cost": 10}
