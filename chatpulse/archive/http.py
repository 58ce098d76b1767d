"""GET from a log archive with the standard library: redirects kept on one host, bounded reads.

Archive answers are untrusted input. A redirect is followed only to the same scheme, host and
port (an archive behind a proxy may add a trailing slash; one that sends us elsewhere is
refused, since the next host would get our requests and feed our store). Bodies are read in
bounded chunks, never whole; a gzip body (``Accept-Encoding: gzip``, which rustlog's
compression layer honours) is inflated as it streams. A body shorter than its
``Content-Length``, a chunked body without its last chunk and a gzip stream without its end are
all "cut" and retryable. Errors are :class:`~chatpulse.errors.ArchiveError` naming the URL
(which holds no secrets: credentials in an archive URL are refused up front).
"""

from __future__ import annotations

import http.client
import socket
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final
from urllib.parse import urljoin, urlsplit

from chatpulse.errors import ArchiveError

USER_AGENT: Final = "chatpulse (+archive import)"
MAX_REDIRECTS: Final = 3
READ_SIZE: Final = 256 * 1024
_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})


def check_base_url(url: str) -> str:
    """``url`` without a trailing slash, if it can be an archive's base URL; raises ArchiveError
    (not retryable) otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ArchiveError(f"archive URL must be http:// or https:// with a host, got {url[:80]!r}")
    if parts.username or parts.password:
        raise ArchiveError("archive URL must not hold credentials (user:password@)")
    if parts.query or parts.fragment:
        raise ArchiveError("archive URL must be the archive's base address, without ?query or #fragment")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise ArchiveError(f"archive URL has a bad port: {url[:80]!r}") from None
    return url.rstrip("/")


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, (parts.hostname or "").lower(), port


def _why(exc: BaseException) -> str:
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "timed out"
    reason = getattr(exc, "strerror", None) or str(exc) or exc.__class__.__name__
    return str(reason)


@dataclass
class Response:
    """An open 200 answer; iterate :meth:`chunks` for its body, then :meth:`close`."""

    url: str
    connection: http.client.HTTPConnection
    response: http.client.HTTPResponse
    content_type: str

    def chunks(self) -> Iterator[bytes]:
        """The body in pieces of at most ~READ_SIZE bytes (inflated if gzip). Raises a retryable
        ArchiveError when the body is cut or the read times out."""
        declared = self.response.getheader("Content-Length")
        expected = int(declared) if declared and declared.isdigit() else None
        gzipped = (self.response.getheader("Content-Encoding") or "").lower() == "gzip"
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzipped else None
        received = 0
        while True:
            try:
                piece = self.response.read(READ_SIZE)
            except http.client.IncompleteRead:
                raise ArchiveError(
                    f"{self.url}: the body was cut off (after {received:,} bytes)", True
                ) from None
            except (OSError, http.client.HTTPException) as exc:
                raise ArchiveError(f"{self.url}: reading the body failed: {_why(exc)}", True) from None
            if not piece:
                break
            received += len(piece)
            if inflate is None:
                yield piece
                continue
            try:
                # Bounded output per call, so a small compressed piece cannot inflate to gigabytes.
                out = inflate.decompress(piece, READ_SIZE)
                while out:
                    yield out
                    out = inflate.decompress(inflate.unconsumed_tail, READ_SIZE)
            except zlib.error:
                raise ArchiveError(f"{self.url}: the gzip body is corrupt; refused") from None
        if expected is not None and received < expected:
            raise ArchiveError(
                f"{self.url}: the body was cut off ({received:,} of {expected:,} bytes)", retryable=True
            )
        if inflate is not None and not inflate.eof:
            raise ArchiveError(f"{self.url}: the gzip body was cut off (after {received:,} bytes)", True)

    def close(self) -> None:
        self.response.close()
        self.connection.close()


def get(url: str, timeout_s: float, accept: str) -> Response | None:
    """GET ``url``: a :class:`Response` for 200, None for 404 (no log there). Raises
    ArchiveError: retryable for timeouts, connection failures, 5xx and 429; not retryable for
    other statuses and for a redirect that leaves the scheme, host and port of ``url``."""
    origin = _origin(url)
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
        connection: http.client.HTTPConnection = (
            http.client.HTTPSConnection(host, port, timeout=timeout_s)
            if parts.scheme == "https"
            else http.client.HTTPConnection(host, port, timeout=timeout_s)
        )
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request(
                "GET", target, headers={"User-Agent": USER_AGENT, "Accept": accept, "Accept-Encoding": "gzip"}
            )
            response = connection.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise ArchiveError(f"{url}: {_why(exc)}", retryable=True) from None
        status = response.status
        if status == 200:
            content_type = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
            return Response(url, connection, response, content_type)
        location = response.getheader("Location") if status in _REDIRECTS else None
        response.close()
        connection.close()
        if status == 404:
            return None
        if location is not None:
            following = urljoin(url, location)
            if _origin(following) != origin:
                where = urlsplit(following).hostname or following[:80]
                raise ArchiveError(f"{url}: redirected to another host ({where}); refused")
            url = following
            continue
        retryable = status >= 500 or status == 429
        raise ArchiveError(f"{url}: HTTP {status} {response.reason}".rstrip(), retryable=retryable)
    raise ArchiveError(f"{url}: more than {MAX_REDIRECTS} redirects; refused")
