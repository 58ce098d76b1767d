"""Test servers that behave as Twitch documents, on 127.0.0.1: used by the tests and by
``chatpulse bench``. Never used by a production path."""
