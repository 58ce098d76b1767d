"""The opt-out list: a file of Twitch logins or user ids whose chat is never stored.

One entry a line, ``#`` starts a comment; an entry matches a user by login or by id (Twitch
ids are digits, logins ``[a-z0-9_]``, so a bare number is tried as both). Long-running
processes hold an :class:`OptOutWatcher`, which re-reads the file when it changes, so
``chatpulse forget`` takes effect on a running pipeline within seconds.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from chatpulse.errors import ConfigError

log = logging.getLogger(__name__)

_ENTRY: Final = re.compile(r"^[a-z0-9_]{1,25}$|^[0-9]{1,20}$")
CHECK_EVERY_S: Final = 2.0


@dataclass(frozen=True, slots=True)
class OptOutList:
    """The entries of an opt-out file (lower-cased logins and ids)."""

    entries: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.entries)

    def matches(self, login: str | None, user_id: str | None = None) -> bool:
        if login and login.lower() in self.entries:
            return True
        return bool(user_id) and user_id in self.entries


def parse_entries(text: str, where: str) -> list[str]:
    """Entries of an opt-out file's text; raises ConfigError naming the first bad line."""
    out: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        entry = line.split("#", 1)[0].strip().lower().lstrip("@")
        if not entry:
            continue
        if not _ENTRY.match(entry):
            raise ConfigError(f"privacy.opt_out {where} line {number}: not a Twitch login or user id")
        out.append(entry)
    return out


def load(path: Path) -> OptOutList:
    """The list in ``path``; an absent file is an empty list. Raises ConfigError for a bad file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return OptOutList()
    except OSError as exc:
        raise ConfigError(f"privacy.opt_out {path}: {exc.strerror}") from None
    return OptOutList(frozenset(parse_entries(text, str(path))))


def add(path: Path, entries: Iterable[str]) -> list[str]:
    """Append the ``entries`` the file lacks (creating it, readable by its owner only); returns
    them. Appending, not rewriting, keeps a reader from ever seeing a half-written list."""
    current = load(path).entries
    new = [e for e in dict.fromkeys(e.lower() for e in entries) if e not in current]
    for entry in new:
        if not _ENTRY.match(entry):
            raise ConfigError(f"{entry[:40]!r} is not a Twitch login or user id")
    if new:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
            handle.write("".join(f"{entry}\n" for entry in new))
    return new


class OptOutWatcher:
    """The current list of one file, re-read when its size or mtime changes (checked at most
    every ``check_every_s``). A file that turns bad keeps the last good list, with a warning."""

    def __init__(
        self, path: Path, check_every_s: float = CHECK_EVERY_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.path = path
        self.check_every_s = check_every_s
        self.clock = clock
        self._stamp = self._stat()
        self.list = load(path)
        self._checked = clock()

    def _stat(self) -> tuple[int, int] | None:
        try:
            info = self.path.stat()
        except OSError:
            return None
        return info.st_mtime_ns, info.st_size

    def current(self) -> OptOutList:
        now = self.clock()
        if now - self._checked < self.check_every_s:
            return self.list
        self._checked = now
        stamp = self._stat()
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self.list = load(self.path)
            except ConfigError as exc:
                log.warning("%s; keeping the previous opt-out list", exc)
        return self.list
