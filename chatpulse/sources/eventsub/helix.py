"""The few Twitch HTTP calls the EventSub source needs: token check, user ids, subscriptions.

- token check: ``GET https://id.twitch.tv/oauth2/validate`` with ``Authorization: OAuth <token>``
  (https://dev.twitch.tv/docs/authentication/validate-tokens/)
- user ids: ``GET /helix/users?login=a&login=b`` (up to 100 logins per call,
  https://dev.twitch.tv/docs/api/reference/#get-users)
- subscribe: ``POST /helix/eventsub/subscriptions`` answering 202 Accepted; 409 when the same
  subscription exists, 429 when a limit is hit
  (https://dev.twitch.tv/docs/api/reference/#create-eventsub-subscription,
  https://dev.twitch.tv/docs/eventsub/manage-subscriptions/#subscription-limits)

Calls are a handful per (re)connect, so they use the standard library (``urllib`` in a worker
thread) rather than another dependency. The token travels only in the ``Authorization`` header;
every message built from a Twitch answer has it scrubbed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from pydantic import SecretStr

from chatpulse.errors import AuthenticationError, SourceError

log = logging.getLogger(__name__)

REQUIRED_SCOPE: Final = "user:read:chat"
DEFAULT_HELIX_URL: Final = "https://api.twitch.tv/helix"
DEFAULT_VALIDATE_URL: Final = "https://id.twitch.tv/oauth2/validate"
_USERS_PER_CALL: Final = 100
_RATE_LIMIT_RETRIES: Final = 3
_MAX_RATE_LIMIT_WAIT_S: Final = 60.0


class TransientHttpError(SourceError):
    """Twitch could not be reached or answered 5xx: worth retrying after a pause."""


class SessionGoneError(TransientHttpError):
    """Helix says the WebSocket session no longer exists: reconnect and subscribe again."""


class SubscriptionLimitError(SourceError):
    """Twitch refused a subscription because a limit was reached (429 that is not rate limiting)."""


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What Twitch's token check says about the token (never the token itself)."""

    client_id: str
    login: str
    user_id: str
    scopes: frozenset[str]
    expires_in: int | None


@dataclass(frozen=True, slots=True)
class Subscription:
    """One accepted subscription and the cost counters Twitch returned with it."""

    id: str
    type: str
    total: int | None
    total_cost: int | None
    max_total_cost: int | None


@dataclass(frozen=True, slots=True)
class _Response:
    status: int
    headers: Mapping[str, str]
    body: bytes


class HelixClient:
    """Token check, user lookup and EventSub subscriptions for one client id + user token.

    Called by :class:`~chatpulse.sources.eventsub.source.EventSubSource` on start and on each fresh
    WebSocket session. Raises :class:`AuthenticationError` when Twitch refuses the credentials,
    :class:`SubscriptionLimitError` on subscription limits, :class:`TransientHttpError` when
    Twitch is unreachable (the caller retries), :class:`SourceError` for any other refusal.
    """

    def __init__(
        self,
        client_id: str,
        token: SecretStr,
        *,
        helix_url: str = DEFAULT_HELIX_URL,
        validate_url: str = DEFAULT_VALIDATE_URL,
        timeout_s: float = 10.0,
    ) -> None:
        self.client_id = client_id
        self._token = token.get_secret_value().removeprefix("oauth:")
        self.helix_url = helix_url.rstrip("/")
        self.validate_url = validate_url
        self.timeout_s = timeout_s

    # --- calls -------------------------------------------------------------------------------

    async def validate(self) -> TokenInfo:
        """Check the token; it must be a user token of this client id with ``user:read:chat``."""
        response = await self._send("GET", self.validate_url, {"Authorization": f"OAuth {self._token}"})
        if response.status == 401:
            raise AuthenticationError(
                "twitch.token is invalid or expired (Twitch's token check answered 401): create a new "
                f"user access token with scope {REQUIRED_SCOPE}"
            )
        doc = self._json(response, "token check")
        if not doc.get("user_id"):
            raise AuthenticationError(
                f"twitch.token is an app access token; EventSub chat needs a user access token with "
                f"scope {REQUIRED_SCOPE}"
            )
        scopes = frozenset(doc.get("scopes") or ())
        if REQUIRED_SCOPE not in scopes:
            have = ", ".join(sorted(scopes)) or "none"
            raise AuthenticationError(f"twitch.token lacks scope {REQUIRED_SCOPE} (it has: {have})")
        if doc.get("client_id") and doc["client_id"] != self.client_id:
            raise AuthenticationError(
                "twitch.token was issued to a different application than twitch.client_id: use the "
                "client id the token was created with"
            )
        expires = doc.get("expires_in")
        return TokenInfo(
            client_id=str(doc.get("client_id") or self.client_id),
            login=str(doc.get("login") or ""),
            user_id=str(doc["user_id"]),
            scopes=scopes,
            expires_in=expires if isinstance(expires, int) else None,
        )

    async def user_ids(self, logins: Iterable[str]) -> dict[str, str]:
        """Login -> user id for the logins that exist (missing ones are simply absent)."""
        wanted = sorted({login.lower() for login in logins})
        found: dict[str, str] = {}
        for first in range(0, len(wanted), _USERS_PER_CALL):
            query = urllib.parse.urlencode(
                [("login", name) for name in wanted[first : first + _USERS_PER_CALL]]
            )
            response = await self._helix("GET", f"/users?{query}")
            doc = self._json(response, "user lookup")
            for user in doc.get("data") or ():
                if isinstance(user, dict) and user.get("login") and user.get("id"):
                    found[str(user["login"]).lower()] = str(user["id"])
        return found

    async def subscribe(
        self, sub_type: str, condition: Mapping[str, str], session_id: str, version: str = "1"
    ) -> Subscription:
        """Create one WebSocket subscription; an existing identical one (409) counts as success."""
        body = {
            "type": sub_type,
            "version": version,
            "condition": dict(condition),
            "transport": {"method": "websocket", "session_id": session_id},
        }
        response = await self._helix("POST", "/eventsub/subscriptions", body)
        if response.status == 409:
            return Subscription("", sub_type, None, None, None)
        if response.status == 429:
            raise SubscriptionLimitError(
                f"Twitch refused the {sub_type} subscription: {self._reason(response)} (429). A WebSocket "
                "session holds at most 300 subscriptions (5 per channel, so 60 channels) and a token's "
                "subscriptions are capped by max_total_cost: use fewer channels per EventSub source, "
                "more shards, or --source irc"
            )
        if response.status == 400 and "session" in self._reason(response).lower():
            raise SessionGoneError(f"Twitch no longer knows the WebSocket session: {self._reason(response)}")
        doc = self._json(response, f"{sub_type} subscription")
        data = doc.get("data") or [{}]
        return Subscription(
            id=str(data[0].get("id") or ""),
            type=sub_type,
            total=doc.get("total"),
            total_cost=doc.get("total_cost"),
            max_total_cost=doc.get("max_total_cost"),
        )

    # --- plumbing ----------------------------------------------------------------------------

    async def _helix(self, method: str, path: str, body: Any = None) -> _Response:
        """A Helix call; waits out Helix rate limiting (429 with Ratelimit-Remaining 0) a few times."""
        headers = {"Authorization": f"Bearer {self._token}", "Client-Id": self.client_id}
        for attempt in range(_RATE_LIMIT_RETRIES + 1):
            response = await self._send(method, self.helix_url + path, headers, body)
            if response.status == 401:
                raise AuthenticationError(
                    f"Twitch refused twitch.token / twitch.client_id ({self._reason(response)}, 401): the "
                    f"token may have expired or belong to another client id; it needs scope {REQUIRED_SCOPE}"
                )
            if response.status == 403:
                raise AuthenticationError(
                    f"Twitch forbids this with twitch.token ({self._reason(response)}, 403): the token "
                    f"needs scope {REQUIRED_SCOPE} and its user must be allowed to read the channel's chat"
                )
            if not (response.status == 429 and response.headers.get("ratelimit-remaining") == "0"):
                return response
            if attempt < _RATE_LIMIT_RETRIES:
                # Helix rate limiting (a points bucket refilled each minute), not a subscription
                # limit: Ratelimit-Reset says when the bucket is full again (epoch seconds).
                reset = response.headers.get("ratelimit-reset", "")
                wait = float(reset) - time.time() if reset.isdigit() else 1.0
                wait = min(max(wait, 0.1), _MAX_RATE_LIMIT_WAIT_S)
                log.warning("Helix rate limit reached; waiting %.1f s", wait)
                await asyncio.sleep(wait)
        raise TransientHttpError("Helix kept answering 429 (rate limited); will retry later")

    async def _send(self, method: str, url: str, headers: Mapping[str, str], body: Any = None) -> _Response:
        return await asyncio.to_thread(self._send_blocking, method, url, dict(headers), body)

    def _send_blocking(self, method: str, url: str, headers: dict[str, str], body: Any) -> _Response:
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
        where = urllib.parse.urlsplit(url)._replace(query="").geturl()
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as reply:  # noqa: S310
                return _Response(reply.status, _lower(reply.headers.items()), reply.read())
        except urllib.error.HTTPError as exc:
            with exc:
                response = _Response(exc.code, _lower(exc.headers.items()), exc.read())
            if response.status >= 500:
                raise TransientHttpError(f"{where} answered {response.status}") from None
            return response
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            raise TransientHttpError(f"cannot reach {where}: {reason}") from None

    def _reason(self, response: _Response) -> str:
        """Twitch's ``message`` (or the status) from an error answer, with the token scrubbed."""
        try:
            doc = json.loads(response.body)
            text = str(doc.get("message") or doc.get("error") or "") if isinstance(doc, dict) else ""
        except ValueError:
            text = ""
        text = text or f"HTTP {response.status}"
        return self._scrub(text)[:300]

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text

    def _json(self, response: _Response, what: str) -> dict[str, Any]:
        if not 200 <= response.status < 300:
            raise SourceError(f"Twitch refused the {what}: {self._reason(response)} ({response.status})")
        try:
            doc = json.loads(response.body)
        except ValueError:
            raise SourceError(f"Twitch's answer to the {what} is not JSON") from None
        if not isinstance(doc, dict):
            raise SourceError(f"Twitch's answer to the {what} is not a JSON object")
        return doc


def _lower(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {key.lower(): value for key, value in items}
