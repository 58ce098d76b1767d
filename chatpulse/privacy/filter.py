"""``PrivacyFilter``: the opt-out list and pseudonyms, applied to parsed events on every ingest path.

Opted-out users (``privacy.opt_out``):

- their chat messages (and whispers) are withheld: never stored, never sent to Kafka; only
  counted (:attr:`PrivacyFilter.withheld`), with no name, id or time kept;
- their subs, gifts and raids stay in the counts without them: the notice keeps its type and
  its numbers, and loses who sent it (login, id, name, text, system text, raw line, tags);
  a gift *to* them loses its recipient the same way;
- a timeout, ban or deletion aimed at them, their JOIN/PART, and an unparsable line of theirs
  are withheld;
- a reply to one of their messages is kept without the parent's login and id.

Then ``privacy.hash_users`` pseudonymises what is left (:mod:`.pseudonym`). Pure apart from
the watcher re-reading the file.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from typing import Final, TypeVar

from chatpulse.config import PrivacySettings
from chatpulse.events import (
    ChatEvent,
    ClearChatEvent,
    ClearMsgEvent,
    ErrorEvent,
    MessageEvent,
    ServerEvent,
    UserNoticeEvent,
)
from chatpulse.privacy.optout import OptOutList, OptOutWatcher
from chatpulse.privacy.pseudonym import IDENTITY_PARAM, Pseudonymiser
from chatpulse.wire_views import RecordView

_MESSAGE_KINDS: Final = frozenset({"message", "whisper"})
_Record = TypeVar("_Record", bound="ChatEvent | RecordView")
_RECIPIENT: Final = ("recipient-user-name", "recipient-id")  # a gift's recipient (params)


def _raw_pattern(entries: Iterable[str]) -> re.Pattern[str]:
    """Where a raw line names one of ``entries``: the ``:login!`` prefix or a login/id tag."""
    names = "|".join(sorted(map(re.escape, entries)))
    return re.compile(rf":(?:{names})!|[@;](?:login|user-id|target-user-id)=(?:{names})[; ]", re.I)


class PrivacyFilter:
    """Applies the opt-out list and pseudonyms; counts what it withholds."""

    def __init__(
        self, optout: OptOutWatcher | OptOutList | None, pseudonymiser: Pseudonymiser | None = None
    ) -> None:
        self._optout = optout
        self._pseudonymiser = pseudonymiser
        self._list: OptOutList = OptOutList()
        self._raw: re.Pattern[str] | None = None
        self.withheld = 0  # chat messages withheld (the anonymous total)
        self.withheld_events = 0  # other events withheld
        self.stripped = 0  # notices and replies kept without an opted-out user

    @classmethod
    def from_settings(cls, settings: PrivacySettings) -> PrivacyFilter:
        key = settings.hash_key.get_secret_value().encode() if settings.hash_key is not None else b""
        return cls(OptOutWatcher(settings.opt_out), Pseudonymiser(key) if settings.hash_users else None)

    def _current(self) -> OptOutList:
        optout = self._optout
        current = optout.current() if isinstance(optout, OptOutWatcher) else optout or OptOutList()
        if current is not self._list:
            self._list = current
            self._raw = _raw_pattern(current.entries) if current else None
        return current

    def apply(self, events: list[ChatEvent]) -> list[ChatEvent]:
        """``events`` without what the opt-out list withholds, pseudonymised if configured (the
        same list when there is nothing to do)."""
        optout = self._current()
        if optout:
            kept: list[ChatEvent] = []
            for event in events:
                checked = self._check(event, optout)
                if checked is not None:
                    kept.append(checked)
            events = kept
        pseudonymiser = self._pseudonymiser
        if pseudonymiser is not None:
            events = [pseudonymiser.apply(e) for e in events]
        return events

    def apply_one(self, event: ChatEvent) -> ChatEvent | None:
        """:meth:`apply` for one event (the Kafka ingest's per-event path); None = withheld."""
        out = self.apply([event])
        return out[0] if out else None

    def _check(self, event: ChatEvent, optout: OptOutList) -> ChatEvent | None:
        replace = dataclasses.replace
        if isinstance(event, MessageEvent):
            if optout.matches(event.user_login, event.user_id):
                self.withheld += 1
                return None
            parent = event.reply_parent
            if parent is not None and optout.matches(parent.user_login):
                self.stripped += 1
                tags = {k: v for k, v in event.tags.items() if not k.startswith("reply-parent-")}
                return replace(event, reply_parent=None, tags=tags, raw=None)
            return event
        if isinstance(event, UserNoticeEvent):
            sender = optout.matches(event.user_login, event.user_id)
            recipient = optout.matches(event.params.get(_RECIPIENT[0]), event.params.get(_RECIPIENT[1]))
            if not sender and not recipient:
                return event
            self.stripped += 1
            params = {k: v for k, v in event.params.items() if not IDENTITY_PARAM.match(k)}
            anonymous = replace(event, params=params, system_text="", tags={}, raw=None)
            if sender:
                anonymous = replace(
                    anonymous, user_id=None, user_login="", user_name="", text="", emotes=(), badges={}
                )
            return anonymous
        named = None
        if isinstance(event, ClearChatEvent):
            named = optout.matches(event.target_user_login, event.target_user_id)
        elif isinstance(event, (ClearMsgEvent, ServerEvent)):
            named = optout.matches(event.user_login)
        elif isinstance(event, ErrorEvent):
            named = self._raw is not None and bool(self._raw.search(event.raw or ""))
        if named:
            self.withheld_events += 1
            return None
        return event


class StoredMessageGuard:
    """The Kafka sink's last check: chat messages of users on the opt-out list are not stored.

    Ingest withholds them already; this covers what was in the topics before a user was added
    (``chatpulse forget`` while a sink lags behind): without it, the sink would store again what
    ``forget`` just deleted. Records are events or the sink's wire views, already pseudonymised
    under ``hash_users``: the list's entries are compared in the same form."""

    def __init__(self, optout: OptOutWatcher, pseudonymiser: Pseudonymiser | None = None) -> None:
        self._optout = optout
        self._pseudonymiser = pseudonymiser
        self._list: OptOutList | None = None
        self._stored_form: OptOutList = OptOutList()
        self.withheld = 0

    @classmethod
    def from_settings(cls, settings: PrivacySettings) -> StoredMessageGuard:
        key = settings.hash_key.get_secret_value().encode() if settings.hash_key is not None else b""
        return cls(OptOutWatcher(settings.opt_out), Pseudonymiser(key) if settings.hash_users else None)

    def _current(self) -> OptOutList:
        current = self._optout.current()
        if current is not self._list:
            self._list, hasher = current, self._pseudonymiser
            if hasher is None:
                self._stored_form = current
            else:  # an entry may be a login or an id: both stored forms
                forms = {hasher.login(e) for e in current.entries}
                forms |= {hasher.user_id(e) or "" for e in current.entries if e.isdigit()}
                self._stored_form = OptOutList(frozenset(forms))
        return self._stored_form

    def keep(self, records: Sequence[_Record]) -> Sequence[_Record]:
        """``records`` without the chat messages of opted-out users (the same list when none)."""
        optout = self._current()
        if not optout:
            return records
        kept = [r for r in records if r.kind not in _MESSAGE_KINDS or not optout.matches(
            getattr(r, "user_login", None), getattr(r, "user_id", None))]  # fmt: skip
        self.withheld += len(records) - len(kept)
        return kept if len(kept) < len(records) else records
