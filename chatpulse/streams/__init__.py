"""Streams: a channel's broadcasts, from Twitch (Helix, EventSub) or as chat sessions cut at silences."""
