"""``privacy.hash_users``: keyed-hash pseudonyms (HMAC-SHA256) in place of logins and user ids.

The same user always gets the same pseudonym under one key, so counts, unique chatters, top
chatters and per-user sentiment keep working; without the key nobody can tell which login is
behind one, nor test a guess (a plain hash of a login could be reversed by hashing every known
login). Logins and ids are hashed in separate domains. Events lose what would name the user
besides: raw lines, IRC tags, a notice's system text ("X gifted a sub to Y").
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import re
from typing import Final

from chatpulse.events import (
    ChatEvent,
    ClearChatEvent,
    ClearMsgEvent,
    ErrorEvent,
    MessageEvent,
    ReplyParent,
    ServerEvent,
    UserNoticeEvent,
)

# USERNOTICE params (msg-param-* tags, prefix dropped) that name a user, as Twitch documents
# them (dev.twitch.tv/docs/chat/irc, USERNOTICE tags): the raider, a gift's recipient, the
# sender or gifter of a pay-forward or an upgrade. Plan names and counts are not among them.
IDENTITY_PARAM: Final = re.compile(
    r"^(?:login|displayName|(?:recipient|sender|gifter|prior-gifter)-(?:login|name|user-name|display-name|id))$"
)
REDACTED: Final = "<redacted: privacy.hash_users>"


class Pseudonymiser:
    """Maps logins and ids to pseudonyms with one secret key."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._cache: dict[str, str] = {}

    def _hash(self, domain: str, value: str) -> str:
        token = f"{domain}:{value}"
        cached = self._cache.get(token)
        if cached is None:
            digest = hmac.new(self._key, token.encode(), hashlib.sha256).hexdigest()[:20]
            cached = self._cache[token] = f"{domain[0]}_{digest}"
            if len(self._cache) > 200_000:  # chat repeats its users; bound the memory anyway
                self._cache.clear()
        return cached

    def login(self, login: str) -> str:
        """``u_`` + 20 hex digits; empty stays empty."""
        return self._hash("user", login.lower()) if login else login

    def user_id(self, user_id: str | None) -> str | None:
        """``i_`` + 20 hex digits; None and empty stay as they are."""
        return self._hash("id", user_id) if user_id else user_id

    def params(self, params: dict[str, str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, value in params.items():
            if IDENTITY_PARAM.match(key):
                out[key] = (self.user_id(value) or "") if key.endswith("-id") else self.login(value)
            else:
                out[key] = value
        return out

    def apply(self, event: ChatEvent) -> ChatEvent:
        """``event`` with every login and user id pseudonymised, and raw text and tags gone."""
        replace = dataclasses.replace
        if isinstance(event, MessageEvent):
            parent = event.reply_parent
            if parent is not None:
                parent = ReplyParent(parent.id, self.login(parent.user_login), parent.text)
            pseudonym = self.login(event.user_login)
            return replace(
                event, user_id=self.user_id(event.user_id), user_login=pseudonym, user_name=pseudonym,
                reply_parent=parent, tags={}, raw=None,
            )  # fmt: skip
        if isinstance(event, UserNoticeEvent):
            pseudonym = self.login(event.user_login)
            return replace(
                event, user_id=self.user_id(event.user_id), user_login=pseudonym, user_name=pseudonym,
                params=self.params(event.params), system_text="", tags={}, raw=None,
            )  # fmt: skip
        if isinstance(event, ClearChatEvent):
            return replace(
                event, target_user_login=self.login(event.target_user_login or "") or event.target_user_login,
                target_user_id=self.user_id(event.target_user_id), tags={}, raw=None,
            )  # fmt: skip
        if isinstance(event, ClearMsgEvent):
            return replace(event, user_login=self.login(event.user_login), tags={}, raw=None)
        if isinstance(event, ErrorEvent):
            return replace(event, tags={}, raw=REDACTED)
        if isinstance(event, ServerEvent) and event.user_login:
            return replace(event, user_login=self.login(event.user_login), tags={}, raw=None)
        return event
