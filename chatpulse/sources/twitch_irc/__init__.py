"""Live Twitch chat over IRC: endpoint, transports, framing, login and joins, sessions, the source.

Read in this order: :mod:`.endpoint` (URL -> TLS/TCP/WebSocket endpoint, anonymous or token
login), :mod:`.connection` (the three transports), :mod:`.framing` (CRLF lines across reads),
:mod:`.link` (one connection: login, CAP, paced JOINs, PING/PONG), :mod:`.pacing` (the JOIN rate
limit), :mod:`.session` (a link kept alive with reconnects), :mod:`.source` (``TwitchIrcSource``:
a pool of sessions, coverage).
"""
