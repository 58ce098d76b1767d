"""Synthetic Twitch chat as real IRC lines: the generator (:mod:`.chat`), its vocabulary
(:mod:`.vocabulary`) and the demo's source (:mod:`.demo`: recent back-fill, then live chat)."""
