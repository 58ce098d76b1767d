"""The Twitch-like IRC test server, for tests that need one.

It lives in the package (:mod:`chatpulse.sources.testing_irc_server`) so ``chatpulse bench
twitch`` can start it without importing tests; tests import it from here or from there.
"""

from __future__ import annotations

from chatpulse.sources.testing_irc_server import JoinRecord, ServerClient, TwitchIrcTestServer, room_id

__all__ = ["JoinRecord", "ServerClient", "TwitchIrcTestServer", "room_id"]
