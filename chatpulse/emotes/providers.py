"""The three third-party emote providers: their endpoints and how to read their responses. Pure.

Endpoints and response shapes relied on (checked against the providers' public API docs and
widely used clients; only the fields named here are read, everything else is ignored):

**7TV** (API v3, ``https://7tv.io/v3``; docs at ``https://7tv.io/docs``)

- ``GET /emote-sets/global`` -> an emote set ``{"id", "name", "emotes": [ActiveEmote]}``.
- ``GET /users/twitch/{twitch_user_id}`` -> a user connection
  ``{"id", "platform": "TWITCH", "username", "emote_set": {"id", "emotes": [ActiveEmote]}}``;
  ``emote_set`` (or its ``emotes``) may be null when the channel has none; 404 when the channel
  has no 7TV account.
- ``ActiveEmote`` = ``{"id", "name", "flags", "data": {"id", "name", ...}}``: ``name`` is what
  chatters type in that set (a channel may alias an emote, then it differs from ``data.name``).

**BTTV** (``https://api.betterttv.net/3``; docs at ``https://betterttv.com/developers/api``)

- ``GET /cached/emotes/global`` -> ``[{"id", "code", "imageType", "animated", ...}]``.
- ``GET /cached/users/twitch/{twitch_user_id}`` ->
  ``{"id", "bots", "channelEmotes": [{"id", "code", ...}], "sharedEmotes": [{"id", "code", ...}]}``;
  404 when the channel has no BTTV account. ``code`` is the typed name.

**FFZ** (API v1, ``https://api.frankerfacez.com/v1``; docs at ``https://api.frankerfacez.com/docs``)

- ``GET /set/global`` -> ``{"default_sets": [3, ...], "sets": {"3": {"id", "emoticons": [...]}},
  "users": {...}}``: only the sets listed in ``default_sets`` are available to everyone; the
  others belong to the users listed under ``users``.
- ``GET /room/id/{twitch_user_id}`` -> ``{"room": {"set": 12345, ...}, "sets": {"12345":
  {"emoticons": [{"id": int, "name", ...}]}}}``; 404 when the room is unknown to FFZ.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final, Literal

ProviderName = Literal["7tv", "bttv", "ffz"]
PROVIDERS: Final[tuple[ProviderName, ...]] = ("7tv", "bttv", "ffz")
# When two providers define the same name, the earlier one wins (channel sets always beat global
# ones). 7TV first: it is where most channels keep their current emotes; Chatterino and the 7TV
# extension resolve clashes the same way.
PRECEDENCE: Final[tuple[ProviderName, ...]] = ("7tv", "bttv", "ffz")


class ResponseShapeError(ValueError):
    """A provider's JSON does not have the documented shape (the provider changed its API)."""


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Base URLs of the providers' APIs (overridable: tests and mirrors)."""

    seventv: str = "https://7tv.io/v3"
    bttv: str = "https://api.betterttv.net/3"
    ffz: str = "https://api.frankerfacez.com/v1"

    def url(self, provider: ProviderName, channel_id: str | None) -> str:
        """The request URL for a provider's global set (``channel_id`` None) or a channel's."""
        if channel_id is not None and not channel_id.isdigit():
            raise ValueError(f"Twitch user id must be digits, got {channel_id!r}")
        if provider == "7tv":
            base, path = (
                self.seventv,
                "/emote-sets/global" if channel_id is None else f"/users/twitch/{channel_id}",
            )
        elif provider == "bttv":
            base, path = (
                self.bttv,
                "/cached/emotes/global" if channel_id is None else f"/cached/users/twitch/{channel_id}",
            )
        else:
            base, path = self.ffz, "/set/global" if channel_id is None else f"/room/id/{channel_id}"
        return base.rstrip("/") + path


Pair = tuple[str, str]  # (emote id, typed name)


def parse_response(provider: ProviderName, channel_id: str | None, document: Any) -> list[Pair]:
    """A provider's response -> ``(id, name)`` pairs, in the provider's order.

    Raises :class:`ResponseShapeError` when the document does not have the documented shape.
    """
    parser = _PARSERS[(provider, channel_id is None)]
    try:
        return [(str(i), n) for i, n in parser(document) if isinstance(n, str) and n and " " not in n]
    except (TypeError, KeyError, AttributeError) as exc:
        scope = "global" if channel_id is None else f"channel {channel_id}"
        raise ResponseShapeError(f"{provider} {scope}: unexpected response shape ({exc!r})") from None


def _seventv_emotes(emote_set: Any) -> Iterable[Pair]:
    if emote_set is None:
        return []
    return [(e["id"], e["name"]) for e in emote_set.get("emotes") or []]


def _seventv_user(doc: Any) -> Iterable[Pair]:
    return _seventv_emotes(doc.get("emote_set"))


def _bttv_global(doc: Any) -> Iterable[Pair]:
    if not isinstance(doc, list):
        raise TypeError("expected a JSON array")
    return [(e["id"], e["code"]) for e in doc]


def _bttv_user(doc: Any) -> Iterable[Pair]:
    emotes = [*(doc.get("channelEmotes") or []), *(doc.get("sharedEmotes") or [])]
    return [(e["id"], e["code"]) for e in emotes]


def _ffz_sets(sets: Any, wanted: Iterable[Any]) -> Iterable[Pair]:
    out: list[Pair] = []
    for set_id in wanted:
        emote_set = sets.get(str(set_id))
        if emote_set is not None:
            out.extend((e["id"], e["name"]) for e in emote_set.get("emoticons") or [])
    return out


def _ffz_global(doc: Any) -> Iterable[Pair]:
    return _ffz_sets(doc["sets"], doc["default_sets"])


def _ffz_room(doc: Any) -> Iterable[Pair]:
    # A room has one set (room.set); every set in the response belongs to the room.
    sets = doc["sets"]
    return _ffz_sets(sets, list(sets))


_PARSERS: Final[dict[tuple[ProviderName, bool], Callable[[Any], Iterable[Pair]]]] = {
    ("7tv", True): _seventv_emotes,
    ("7tv", False): _seventv_user,
    ("bttv", True): _bttv_global,
    ("bttv", False): _bttv_user,
    ("ffz", True): _ffz_global,
    ("ffz", False): _ffz_room,
}
