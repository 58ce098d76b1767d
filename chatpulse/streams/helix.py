"""Helix calls for streams: ``GET /streams`` (who is live) and ``GET /videos?type=archive``
(their recordings), with the app's client id and a token (``TWITCH_CLIENT_ID``, ``TOKEN``).

``GET /streams?user_login=a&user_login=b&first=100`` answers only the live channels, up to 100
logins per call; ``GET /videos?user_id=ID&type=archive&first=N`` lists a channel's archives,
newest first, each with the ``stream_id`` it recorded
(https://dev.twitch.tv/docs/api/reference/#get-streams,
https://dev.twitch.tv/docs/api/reference/#get-videos). A handful of calls a minute: the
standard library's ``urllib`` is enough. The token only travels in the ``Authorization``
header and never appears in a message.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from typing import Any, Final

from pydantic import SecretStr

from chatpulse.errors import AuthenticationError, SourceError
from chatpulse.streams.tracker import ArchiveVideo, LiveStream

LOGINS_PER_CALL: Final = 100


class HelixStreams:
    """``GET /streams`` and ``GET /videos`` for one client id and token. Raises
    :class:`AuthenticationError` when Twitch refuses the credentials and :class:`SourceError`
    when it cannot be reached or answers something else."""

    def __init__(self, client_id: str, token: SecretStr, helix_url: str, timeout_s: float = 10.0) -> None:
        self.client_id = client_id
        self._token = token.get_secret_value().removeprefix("oauth:")
        self.helix_url = helix_url.rstrip("/")
        self.timeout_s = timeout_s

    def live(self, logins: Iterable[str]) -> list[LiveStream]:
        """The channels among ``logins`` that are live now."""
        wanted = sorted({login.lower() for login in logins})
        found: list[LiveStream] = []
        for first in range(0, len(wanted), LOGINS_PER_CALL):
            query = [("user_login", name) for name in wanted[first : first + LOGINS_PER_CALL]]
            doc = self._get("/streams", [*query, ("first", "100")])
            found += [
                LiveStream.from_helix(item) for item in doc.get("data") or () if item.get("type") == "live"
            ]
        return found

    def archives(self, user_id: str, first: int = 5) -> list[ArchiveVideo]:
        """The channel's newest archive videos (``user_id`` from :meth:`live`)."""
        doc = self._get("/videos", [("user_id", user_id), ("type", "archive"), ("first", str(first))])
        videos = (ArchiveVideo.from_helix(item) for item in doc.get("data") or ())
        return [video for video in videos if video is not None]

    def _get(self, path: str, query: list[tuple[str, str]]) -> dict[str, Any]:
        url = f"{self.helix_url}{path}?{urllib.parse.urlencode(query)}"
        headers = {"Authorization": f"Bearer {self._token}", "Client-Id": self.client_id}
        request = urllib.request.Request(url, headers=headers)  # noqa: S310 - helix_url is configuration
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as reply:  # noqa: S310
                body = reply.read()
        except urllib.error.HTTPError as exc:
            with exc:
                status = exc.code
            if status in (401, 403):
                raise AuthenticationError(
                    f"Twitch refused twitch.token / twitch.client_id for {path} ({status})"
                ) from None
            raise SourceError(f"Helix {path} answered {status}") from None
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            raise SourceError(f"cannot reach Helix {path}: {getattr(exc, 'reason', exc)}") from None
        try:
            doc = json.loads(body)
        except ValueError:
            raise SourceError(f"Helix {path} answered something that is not JSON") from None
        if not isinstance(doc, dict):
            raise SourceError(f"Helix {path} answered something that is not a JSON object")
        return doc
