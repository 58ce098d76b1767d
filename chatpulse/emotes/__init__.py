"""Third-party emotes (7TV, BTTV, FFZ): load the sets, cache them on disk, find them in messages.

- :mod:`~chatpulse.emotes.providers`: endpoints and response parsing (pure).
- :mod:`~chatpulse.emotes.cache`: the on-disk cache (:class:`EmoteCache`, :class:`EmoteSet`).
- :mod:`~chatpulse.emotes.loader`: HTTP fetch with refresh interval and stale-cache fallback.
- :mod:`~chatpulse.emotes.index`: :class:`EmoteIndex`, adds emotes found by name to events.
"""

from __future__ import annotations

from chatpulse.emotes.cache import EmoteCache, EmoteSet
from chatpulse.emotes.index import EmoteIndex
from chatpulse.emotes.loader import EmoteFetchError, EmoteLoader, LoadReport, http_get_json
from chatpulse.emotes.providers import PROVIDERS, Endpoints

__all__ = [
    "PROVIDERS",
    "EmoteCache",
    "EmoteFetchError",
    "EmoteIndex",
    "EmoteLoader",
    "EmoteSet",
    "Endpoints",
    "LoadReport",
    "http_get_json",
]
