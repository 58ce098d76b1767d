"""A justlog/rustlog-compatible log archive on 127.0.0.1 serving real captures as days, with faults.

It answers what ``chatpulse import`` asks an archive (github.com/boring-nick/rustlog,
``src/web/mod.rs``): ``GET /list?channel=NAME`` / ``?channelid=ID`` -> ``{"availableLogs":
[{"year", "month", "day"}, ...]}`` (newest first, strings, as rustlog answers), and ``GET
/channel/NAME/Y/M/D?raw`` / ``/channelid/ID/Y/M/D?raw`` -> that day's raw IRC lines,
``text/plain``, gzip when the client accepts it. A day it does not have is a 404.

:func:`capture_days` turns a recording (e.g. ``../shared/data/replay/xqcow-2019-09-15.irc.gz``)
into days: its lines split into consecutive parts, part ``k`` moved ``k`` days later (its
``tmi-sent-ts`` shifted; ids are unique per line, so no two days share a message). Faults per
day (:class:`Fault`): an HTTP status (5xx), a slow answer, a body cut off mid-way, a body that
is not chat, a huge line, a redirect to another host or to the same host; each for the first
``times`` requests or for every one. :attr:`ArchiveTestServer.requests` records the paths asked.

Run it alone: ``python -m chatpulse.testing.archive_server --capture FILE [--days N] --port 8025``
and import with ``chatpulse import --archive http://127.0.0.1:8025 --channel NAME``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import parse_qs, urlsplit

from chatpulse.sources.replay import iter_lines

HOST: Final = "127.0.0.1"
DAY_MS: Final = 86_400_000
_SENT_TS: Final = re.compile(r"(?<=[@;])(tmi-sent-ts|rm-received-ts)=(\d+)")
_CHANNEL: Final = re.compile(r" (?:PRIVMSG|USERNOTICE|CLEARCHAT|CLEARMSG|ROOMSTATE) #([a-z0-9_]+)")
_ROOM_ID: Final = re.compile(r"(?<=[@;])room-id=(\d+)")
_DAY_PATH: Final = re.compile(r"^/(channel|channelid)/([^/]+)/(\d{4})/(\d{1,2})/(\d{1,2})$")

FaultKind = Literal[
    "status", "slow", "cut", "not_chat", "json", "huge_line", "redirect_away", "redirect_same"
]


@dataclass
class Fault:
    """How a day misbehaves: for the first ``times`` requests of it (None: every request)."""

    kind: FaultKind
    times: int | None = None
    status: int = 503  # kind "status"
    delay_s: float = 5.0  # kind "slow": wait this long before answering
    served: int = 0  # requests it has affected so far

    def applies(self) -> bool:
        if self.times is not None and self.served >= self.times:
            return False
        self.served += 1
        return True


@dataclass
class ArchiveData:
    """What the archive holds: per channel login, its Twitch id and its days' raw lines."""

    channels: dict[str, dict[dt.date, list[str]]] = field(default_factory=dict)
    channel_ids: dict[str, str] = field(default_factory=dict)  # id -> login

    def add(self, channel: str, channel_id: str | None, days: dict[dt.date, list[str]]) -> None:
        self.channels.setdefault(channel, {}).update(days)
        if channel_id:
            self.channel_ids[channel_id] = channel


def shift_day(line: str, days: int) -> str:
    """``line`` with its ``tmi-sent-ts`` (and ``rm-received-ts``) moved ``days`` days later."""
    if not days:
        return line
    return _SENT_TS.sub(lambda m: f"{m[1]}={int(m[2]) + days * DAY_MS}", line)


def capture_days(path: str | Path, days: int = 1) -> tuple[str, str | None, dict[dt.date, list[str]]]:
    """``(channel, channel_id, {day: lines})`` from a recording split into ``days`` days (see the
    module docstring). ``days=1`` serves the recording unchanged, on the day it was sent."""
    lines = list(iter_lines(path))
    channel = next((m[1] for m in map(_CHANNEL.search, lines) if m), None)
    if channel is None:
        raise ValueError(f"{path}: no channel found in the recording")
    room = next((m[1] for m in map(_ROOM_ID.search, lines) if m), None)
    first = next((int(m[2]) for m in map(_SENT_TS.search, lines) if m and m[1] == "tmi-sent-ts"), None)
    if first is None:
        raise ValueError(f"{path}: no tmi-sent-ts in the recording")
    start = dt.datetime.fromtimestamp(first / 1000, dt.UTC).date()
    size = -(-len(lines) // days)
    out = {
        start + dt.timedelta(days=k): [shift_day(line, k) for line in lines[k * size : (k + 1) * size]]
        for k in range(days)
    }
    return channel, room, out


class _Handler(BaseHTTPRequestHandler):
    server: ArchiveHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass  # quiet: tests read `requests` instead

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        owner = self.server.owner
        with owner.lock:
            owner.requests.append(self.path)
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        if parts.path == "/list":
            self._list(query)
            return
        match = _DAY_PATH.match(parts.path)
        if match is None:
            self._send(404, b'{"error":"not found"}', "application/json")
            return
        kind, name, year, month, day = match.groups()
        channel = owner.data.channel_ids.get(name) if kind == "channelid" else name
        try:
            date = dt.date(int(year), int(month), int(day))
        except ValueError:
            self._send(400, b"bad date", "text/plain")
            return
        self._day(channel or "", date)

    def _list(self, query: dict[str, list[str]]) -> None:
        owner = self.server.owner
        if "channelid" in query:
            channel = owner.data.channel_ids.get(query["channelid"][0], "")
        else:
            channel = query.get("channel", [""])[0]
        days = owner.data.channels.get(channel)
        if not days:
            self._send(404, b'{"error":"channel not logged"}', "application/json")
            return
        listed = sorted(set(days) | {d for (c, d) in owner.faults if c == channel}, reverse=True)
        body = {
            "availableLogs": [{"year": str(d.year), "month": str(d.month), "day": str(d.day)} for d in listed]
        }
        self._send(200, json.dumps(body).encode(), "application/json")

    def _day(self, channel: str, date: dt.date) -> None:
        owner = self.server.owner
        with owner.lock:
            fault = owner.faults.get((channel, date))
            active = fault is not None and fault.applies()
        lines = owner.data.channels.get(channel, {}).get(date)
        if not active or fault is None:
            if lines is None:
                self._send(404, b"no logs for that day", "text/plain")
            else:
                self._send(200, "".join(f"{line}\n" for line in lines).encode(), "text/plain; charset=utf-8")
            return
        lines = lines or []
        body = "".join(f"{line}\n" for line in lines).encode()
        if fault.kind == "status":
            self._send(fault.status, b"archive trouble", "text/plain")
        elif fault.kind == "slow":
            time.sleep(fault.delay_s)
            self._send(200, body, "text/plain; charset=utf-8")
        elif fault.kind == "cut":
            self._send(200, body, "text/plain; charset=utf-8", cut=True)
        elif fault.kind == "not_chat":
            page = b"<!DOCTYPE html><html><body><h1>Welcome to the hotel Wi-Fi</h1></body></html>\n"
            self._send(200, page, "text/plain")  # a portal that even lies about its type
        elif fault.kind == "json":
            self._send(200, json.dumps({"messages": lines[:3]}).encode(), "application/json")
        elif fault.kind == "huge_line":
            half = len(lines) // 2
            huge = "@tmi-sent-ts=1 :x!x@x PRIVMSG #x :" + "A" * (2 * 1024 * 1024)
            padded = [*lines[:half], huge, *lines[half:]]
            self._send(200, "".join(f"{line}\n" for line in padded).encode(), "text/plain")
        elif fault.kind == "redirect_away":
            self._redirect(f"http://archive.invalid{self.path}")
        elif fault.kind == "redirect_same":
            self._redirect(self.path + "&redirected=1")

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send(self, status: int, body: bytes, content_type: str, cut: bool = False) -> None:
        if status == 200 and "gzip" in (self.headers.get("Accept-Encoding") or "") and self.server.owner.gzip:
            body = gzip.compress(body, compresslevel=1)
            encoding: str | None = "gzip"
        else:
            encoding = None
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if encoding:
            self.send_header("Content-Encoding", encoding)
        self.end_headers()
        if cut:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


class ArchiveHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, owner: ArchiveTestServer, port: int) -> None:
        self.owner = owner
        super().__init__((HOST, port), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (a timeout test) resets its connection: not news


class ArchiveTestServer:
    """The archive, started on a free port of 127.0.0.1 (or ``port``); a context manager."""

    def __init__(self, data: ArchiveData, port: int = 0, gzip: bool = True) -> None:
        self.data = data
        self.gzip = gzip
        self.faults: dict[tuple[str, dt.date], Fault] = {}
        self.requests: list[str] = []
        self.lock = threading.Lock()
        self._httpd = ArchiveHTTPServer(self, port)
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="archive-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._httpd.server_address[1]}"

    def fault(self, channel: str, day: dt.date, fault: Fault) -> None:
        """Make ``day`` of ``channel`` misbehave (it is listed even if it has no lines)."""
        with self.lock:
            self.faults[(channel, day)] = fault

    def day_requests(self) -> list[str]:
        """The day paths asked so far (not the lists)."""
        with self.lock:
            return [path for path in self.requests if not path.startswith("/list")]

    def start(self) -> ArchiveTestServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ArchiveTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="A justlog/rustlog-style archive serving recordings as days."
    )
    parser.add_argument("--capture", action="append", required=True, help="a recording (repeatable)")
    parser.add_argument("--days", type=int, default=1, help="split each recording into this many days")
    parser.add_argument("--port", type=int, default=8025)
    args = parser.parse_args(argv)
    data = ArchiveData()
    for path in args.capture:
        channel, room, days = capture_days(path, args.days)
        data.add(channel, room, days)
    server = ArchiveTestServer(data, port=args.port).start()
    listed = ", ".join(f"{c} ({len(d)} days)" for c, d in data.channels.items())
    print(f"archive on {server.url}: {listed}; Ctrl-C stops", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
