"""A webhook receiver on 127.0.0.1 for the alert tests: records every POST, can fail or hang.

Modes: answer 204 (Discord's answer to a webhook without ``?wait=true``); answer ``fail_status``
(500) to the first ``fail_first`` requests, then 204; or ``hang``: hold every request open,
answering nothing, until :meth:`WebhookReceiver.release` (or :meth:`stop`). :attr:`bodies`
holds the JSON bodies that were answered 2xx, :attr:`requests` every request's path (a GET,
from a client that followed a 3xx ``fail_status`` to its ``Location``, as ``GET path``).

Run it alone to watch a run's alerts: ``python -m chatpulse.testing.webhook_receiver --port
8099`` and ``chatpulse run --demo --alert-webhook http://127.0.0.1:8099/hook``.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final

HOST: Final = "127.0.0.1"


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        with owner.lock:
            owner.requests.append(self.path)
            index = len(owner.requests)
            owner.open_requests += 1
        try:
            if owner.hang:
                owner.released.wait()
                return  # closes the connection without an answer
            if index <= owner.fail_first:
                self._answer(owner.fail_status)
                return
            body = json.loads(raw)
            with owner.lock:
                owner.bodies.append(body)
                owner.arrived.notify_all()
            if owner.echo:
                print(json.dumps(body), flush=True)
            self._answer(204)
        finally:
            with owner.lock:
                owner.open_requests -= 1

    def do_GET(self) -> None:  # noqa: N802 - a client that followed a redirect as GET
        with self.server.owner.lock:
            self.server.owner.requests.append(f"GET {self.path}")
        self._answer(200)

    def _answer(self, status: int) -> None:
        self.send_response(status)
        if 300 <= status < 400:
            self.send_header("Location", self.path + "-moved")
        self.send_header("Content-Length", "0")
        self.end_headers()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, owner: WebhookReceiver, port: int) -> None:
        super().__init__((HOST, port), _Handler)
        self.owner = owner

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up on a hanging request is expected


class WebhookReceiver:
    """Start with ``with WebhookReceiver(...) as hook:``; POST to :attr:`url`."""

    def __init__(
        self,
        port: int = 0,
        *,
        fail_first: int = 0,
        fail_status: int = 500,
        hang: bool = False,
        echo: bool = False,
    ) -> None:
        self.fail_first, self.fail_status, self.hang, self.echo = fail_first, fail_status, hang, echo
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        self.released = threading.Event()
        self.requests: list[str] = []
        self.bodies: list[dict[str, Any]] = []
        self.open_requests = 0
        self._server = _Server(self, port)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="webhook-receiver", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str = "/hook") -> str:
        return f"http://{HOST}:{self.port}{path}"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The bodies, once at least ``count`` arrived (or the timeout passed)."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.bodies) < count and time.monotonic() < deadline:
                self.arrived.wait(deadline - time.monotonic())
            return list(self.bodies)

    def release(self) -> None:
        self.released.set()

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8099)
    args = parser.parse_args(argv)
    receiver = WebhookReceiver(args.port, echo=True).start()
    print(f"POST alerts to {receiver.url()} (Ctrl-C stops)", file=sys.stderr, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        receiver.stop()


if __name__ == "__main__":
    main()
