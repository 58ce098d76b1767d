"""Emote sets on disk: one small JSON file per (provider, scope), plus channel login -> id.

Layout of the cache folder::

    global-7tv.json, global-bttv.json, global-ffz.json
    channel-<twitch_user_id>-<provider>.json
    channels.json                               {"<login>": "<twitch_user_id>", ...}

Each set file is ``{"provider", "channel_id" (null for global), "fetched_at" (epoch seconds),
"emotes": [[id, name], ...]}``. Files are replaced atomically, so a crash mid-write leaves the
previous version. A corrupt or unreadable file reads as missing (logged), never as an error:
the cache is a convenience, the providers are the source of truth.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chatpulse.emotes.providers import PROVIDERS, ProviderName

log = logging.getLogger(__name__)
_LOGIN = re.compile(r"^[a-z0-9_]{1,25}$")


@dataclass(frozen=True, slots=True)
class EmoteSet:
    """The emotes one provider offers globally (``channel_id`` None) or in one channel."""

    provider: ProviderName
    channel_id: str | None
    emotes: tuple[tuple[str, str], ...]  # (id, name)
    fetched_at: float  # epoch seconds

    @property
    def scope(self) -> str:
        return "global" if self.channel_id is None else f"channel {self.channel_id}"


class EmoteCache:
    """Reads and writes cached emote sets under ``folder`` (created on first write)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, provider: ProviderName, channel_id: str | None) -> Path:
        name = f"global-{provider}" if channel_id is None else f"channel-{channel_id}-{provider}"
        return self.folder / f"{name}.json"

    def read(self, provider: ProviderName, channel_id: str | None) -> EmoteSet | None:
        """The cached set, or None when there is none (or it cannot be read)."""
        path = self._path(provider, channel_id)
        data = self._read_json(path)
        if not isinstance(data, dict):
            return None
        try:
            emotes = tuple((str(i), str(n)) for i, n in data["emotes"])
            return EmoteSet(provider, channel_id, emotes, float(data["fetched_at"]))
        except (KeyError, TypeError, ValueError):
            log.warning("ignoring malformed emote cache file %s", path)
            return None

    def write(self, emote_set: EmoteSet) -> None:
        doc = {
            "provider": emote_set.provider,
            "channel_id": emote_set.channel_id,
            "fetched_at": emote_set.fetched_at,
            "emotes": [list(pair) for pair in emote_set.emotes],
        }
        self._write_json(self._path(emote_set.provider, emote_set.channel_id), doc)

    def read_sets(self, channel_id: str | None) -> list[EmoteSet]:
        """Every cached provider's set for a scope (global when ``channel_id`` is None)."""
        return [s for p in PROVIDERS if (s := self.read(p, channel_id)) is not None]

    def cached_channels(self) -> set[str]:
        """Twitch user ids that have at least one cached channel set (from the file names)."""
        if not self.folder.is_dir():
            return set()
        ids = {path.name.split("-")[1] for path in self.folder.glob("channel-*-*.json")}
        return {channel_id for channel_id in ids if channel_id.isdigit()}

    # --- channel login -> Twitch user id ---------------------------------------------------------

    def channel_ids(self) -> dict[str, str]:
        data = self._read_json(self.folder / "channels.json")
        if not isinstance(data, dict):
            return {}
        return {str(k): str(v) for k, v in data.items() if _LOGIN.match(str(k)) and str(v).isdigit()}

    def channel_id(self, login: str) -> str | None:
        return self.channel_ids().get(login.lower())

    def remember_channel_id(self, login: str, channel_id: str) -> None:
        """Record a channel's Twitch user id (from ``--channel-id`` or a ``room-id`` tag)."""
        login = login.lower()
        if not _LOGIN.match(login) or not channel_id.isdigit():
            raise ValueError(f"invalid channel {login!r} / id {channel_id!r}")
        known = self.channel_ids()
        if known.get(login) != channel_id:
            known[login] = channel_id
            self._write_json(self.folder / "channels.json", dict(sorted(known.items())))

    # --- files -------------------------------------------------------------------------------

    def _read_json(self, path: Path) -> Any:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable emote cache file %s (%s)", path, exc)
            return None

    def _write_json(self, path: Path, doc: Any) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(doc, out, ensure_ascii=False, separators=(",", ":"))
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
