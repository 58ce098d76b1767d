"""Finding 7TV/BTTV/FFZ emotes in message text by name. Pure and built for every message.

IRC and EventSub tag only Twitch's own emotes; chatters' KEKW, Sadge or catJAM are plain words
to Twitch. The browser extensions replace a word with an emote when the whole word (split on
spaces) equals an emote name in the channel's or the global sets, case-sensitively; the index
does the same: one ``str.split(" ")`` and one dict lookup per word, on a table merged once per
channel (channel sets over global sets; within each, 7TV over BTTV over FFZ).

Who calls it: the pipeline, right after parsing (``index.annotate(event)``), so every later
stage (top-emote charts, the sentiment lexicon) sees third-party emotes like Twitch ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from operator import attrgetter
from typing import TypeVar

from chatpulse.emotes.cache import EmoteCache, EmoteSet
from chatpulse.emotes.providers import PRECEDENCE
from chatpulse.events import Emote, MessageEvent, UserNoticeEvent

E = TypeVar("E", bound=MessageEvent | UserNoticeEvent)
_Table = dict[str, tuple[str, str]]  # name -> (emote id, provider)
_BY_START = attrgetter("start")


def _merge(sets: Iterable[EmoteSet], base: _Table | None = None) -> _Table:
    table: _Table = dict(base or {})
    by_provider = {s.provider: s for s in sets}
    for provider in reversed(PRECEDENCE):  # lowest precedence first; later writes win
        emote_set = by_provider.get(provider)
        if emote_set is not None:
            for emote_id, name in emote_set.emotes:
                table[name] = (emote_id, provider)
    return table


class EmoteIndex:
    """Third-party emote names of the global sets and of each known channel."""

    def __init__(
        self,
        global_sets: Iterable[EmoteSet] = (),
        channel_sets: Mapping[str, Iterable[EmoteSet]] | None = None,
        channel_ids: Mapping[str, str] | None = None,
    ) -> None:
        self._global = _merge(global_sets)
        self._tables: dict[str, _Table] = {}  # channel id -> merged table
        self._ids: dict[str, str] = dict(channel_ids or {})  # login -> channel id
        for channel_id, sets in (channel_sets or {}).items():
            self.set_channel(channel_id, sets)

    @classmethod
    def from_cache(cls, cache: EmoteCache) -> EmoteIndex:
        """Everything the cache holds (no network): global sets and every cached channel set.

        Channel sets are keyed by Twitch user id, which every chat event carries (``room-id``),
        so a channel's emotes are found even before its login was remembered."""
        ids = cache.channel_ids()
        channel_sets = {cid: cache.read_sets(cid) for cid in set(ids.values()) | cache.cached_channels()}
        return cls(cache.read_sets(None), channel_sets, ids)

    def set_channel(self, channel_id: str, sets: Iterable[EmoteSet], login: str | None = None) -> None:
        """Install (or replace) one channel's sets."""
        self._tables[channel_id] = _merge(sets, self._global)
        if login is not None:
            self._ids[login.lower()] = channel_id

    def remember_channel(self, login: str, channel_id: str) -> None:
        """Map a login to its id, so events without ``room-id`` find their channel's table."""
        self._ids[login.lower()] = channel_id

    def table(self, channel_id: str | None = None, login: str | None = None) -> Mapping[str, tuple[str, str]]:
        """name -> (id, provider) for a channel (the global table when the channel is unknown)."""
        if channel_id is None and login is not None:
            channel_id = self._ids.get(login)
        if channel_id is not None:
            found = self._tables.get(channel_id)
            if found is not None:
                return found
        return self._global

    def __len__(self) -> int:
        return len(self._global) + sum(len(t) for t in self._tables.values())

    def find(self, text: str, channel_id: str | None = None, login: str | None = None) -> list[Emote]:
        """Third-party emotes in ``text`` by whole-word name, in order (code-point spans)."""
        get = self.table(channel_id, login).get
        found: list[Emote] = []
        pos = 0
        for word in text.split(" "):
            hit = get(word)
            if hit is not None:
                found.append(Emote(hit[0], word, pos, pos + len(word), hit[1]))
            pos += len(word) + 1
        return found

    def annotate(self, event: E) -> E:
        """``event`` with third-party emotes added to ``emotes`` (sorted by start).

        A word already covered by a Twitch tag emote keeps the Twitch emote. Returns the same
        object when nothing was found, so the common case allocates nothing.
        """
        text = event.text
        if not text:
            return event
        found = self.find(text, event.channel_id, event.channel)
        if not found:
            return event
        merged: tuple[Emote, ...] = tuple(found)
        if event.emotes:
            free: list[Emote] = _not_overlapping(found, event.emotes)
            if not free:
                return event
            merged = tuple(sorted((*event.emotes, *free), key=_BY_START))
        return replace(event, emotes=merged)


def _not_overlapping(found: list[Emote], tagged: tuple[Emote, ...]) -> list[Emote]:
    """The found emotes that share no character with a Twitch tag emote."""
    return [f for f in found if not any(f.start < t.end and t.start < f.end for t in tagged)]
