"""A Twitch-like Helix server for streams on 127.0.0.1: ``GET /helix/streams`` and
``GET /helix/videos?type=archive``, answering like Twitch's API reference
(https://dev.twitch.tv/docs/api/reference/#get-streams, #get-videos) for streams the test
starts, moves to another category, ends and restarts. 401 without the right token and client id.

Runs in a thread of its own (``with HelixTestServer() as server``), so blocking and async
clients alike can use it; every request is recorded.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class _Channel:
    user_id: str
    login: str
    live: dict[str, Any] | None = None
    videos: list[dict[str, Any]] = field(default_factory=list)


class HelixTestServer:
    """See the module docstring."""

    def __init__(self, token: str = "test-token-5ecret", client_id: str = "test-client") -> None:  # noqa: S107
        self.token = token
        self.client_id = client_id
        self.channels: dict[str, _Channel] = {}
        self.requests: list[tuple[str, dict[str, list[str]]]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> HelixTestServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server hook
                status, doc = server.answer(self.path, dict(self.headers.items()))
                body = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the hook's name
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def helix_url(self) -> str:
        assert self._server is not None  # noqa: S101 - used inside the with block
        return f"http://127.0.0.1:{self._server.server_address[1]}/helix"

    # --- what tests do -----------------------------------------------------------------------

    def go_live(self, login: str, stream_id: str, title: str, category: str, started_ms: int) -> None:
        """``login`` goes live; Twitch creates the archive video at once (it grows while live)."""
        with self._lock:
            channel = self.channels.setdefault(login, _Channel(str(1000 + len(self.channels)), login))
            channel.live = {
                "id": stream_id, "user_id": channel.user_id, "user_login": login, "user_name": login.title(),
                "game_id": str(sum(map(ord, category))), "game_name": category, "type": "live",
                "title": title, "viewer_count": 1234, "started_at": _iso(started_ms), "language": "en",
            }  # fmt: skip
            channel.videos.insert(0, {
                "id": str(int(stream_id) + 900000000), "stream_id": stream_id, "user_id": channel.user_id,
                "user_login": login, "title": title, "created_at": _iso(started_ms), "type": "archive",
                "duration": "0h1m0s",
            })  # fmt: skip

    def change(self, login: str, *, category: str | None = None, title: str | None = None) -> None:
        with self._lock:
            live = self.channels[login].live
            assert live is not None  # noqa: S101 - a test error
            if category is not None:
                live["game_name"] = category
            if title is not None:
                live["title"] = title

    def end(self, login: str) -> None:
        with self._lock:
            self.channels[login].live = None

    # --- HTTP --------------------------------------------------------------------------------

    def answer(self, target: str, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        url = urlsplit(target)
        query = parse_qs(url.query)
        lower = {k.lower(): v for k, v in headers.items()}
        with self._lock:
            self.requests.append((url.path, query))
            if (
                lower.get("authorization") != f"Bearer {self.token}"
                or lower.get("client-id") != self.client_id
            ):
                return 401, {"error": "Unauthorized", "status": 401, "message": "Invalid OAuth token"}
            if url.path == "/helix/streams":
                wanted = [login.lower() for login in query.get("user_login", [])]
                if len(wanted) > 100:
                    return 400, {"error": "Bad Request", "status": 400, "message": "too many user_login"}
                data = [c.live for login in wanted if (c := self.channels.get(login)) and c.live]
                return 200, {"data": data, "pagination": {}}
            if url.path == "/helix/videos":
                user = query.get("user_id", [""])[0]
                first = int(query.get("first", ["20"])[0])
                kind = query.get("type", ["all"])[0]
                videos = [v for c in self.channels.values() if c.user_id == user for v in c.videos]
                data = [v for v in videos if kind in ("all", v["type"])][:first]
                return 200, {"data": data, "pagination": {}}
            return 404, {"error": "Not Found", "status": 404, "message": "not found"}
