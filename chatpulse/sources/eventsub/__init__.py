"""Live Twitch chat over EventSub WebSocket: payload mapping (pure), Helix calls, the source."""
