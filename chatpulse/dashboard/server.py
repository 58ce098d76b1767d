"""Serving the dashboard with uvicorn inside a command's own event loop.

The commands bind the socket first (:func:`bind`: a port in use is a clear error before any work
starts, and port 0 picks a free one), then run :func:`serve` as one asyncio task next to the
pipeline. Signals stay with the command: uvicorn's own Ctrl-C handling is switched off, and the
command calls :meth:`DashboardServer.shutdown` when it stops.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Generator
from typing import Any

import uvicorn

from chatpulse.errors import ConfigError


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``; ConfigError naming the address when it is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.create_server((host, port), family=family, reuse_port=False)
    except OSError as exc:
        raise ConfigError(
            f"cannot serve the dashboard on {host}:{port}: {exc.strerror or exc} "
            "(choose another --port, e.g. make demo PORT=8081, or --no-dashboard)"
        ) from None
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


class DashboardServer(uvicorn.Server):
    """uvicorn without its signal handlers (the command owns Ctrl-C and SIGTERM)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    def shutdown_soon(self) -> None:
        self.should_exit = True


def make_server(app: Any) -> DashboardServer:
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    return DashboardServer(config)


async def serve(server: DashboardServer, sock: socket.socket) -> None:
    """Serve on ``sock`` until :meth:`DashboardServer.shutdown_soon`."""
    await server.serve(sockets=[sock])
