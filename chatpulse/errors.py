"""Errors raised by ChatPulse.

Hierarchy::

    ChatPulseError                 base of everything ChatPulse raises on purpose
    ├── ConfigError                a setting is missing or invalid (CLI exit code 2)
    ├── IrcParseError              one IRC line is malformed (parsers turn it into an ErrorEvent)
    ├── WireFormatError            a wire JSON record cannot be decoded into an event
    ├── SourceError                a source cannot deliver (login refused, endpoint unreachable)
    │   └── AuthenticationError    Twitch refused the credentials
    ├── ModelError                 a sentiment model cannot be found or loaded (exit code 2)
    ├── StoreError                 ClickHouse refused a query or insert
    └── TransportError             Kafka cannot be reached or refused a request

Messages never contain secrets: code that builds one from a setting uses its name, not its value.
"""

from __future__ import annotations


class ChatPulseError(Exception):
    """Base class of every error ChatPulse raises on purpose."""


class ConfigError(ChatPulseError):
    """A setting is missing or invalid; the message names the setting."""


class IrcParseError(ChatPulseError):
    """An IRC line does not follow the message grammar."""


class WireFormatError(ChatPulseError):
    """A wire JSON record is not a valid event of a known schema version."""


class SourceError(ChatPulseError):
    """A source cannot deliver lines."""


class AuthenticationError(SourceError):
    """Twitch refused the login (bad or expired token)."""


class ModelError(ChatPulseError):
    """A sentiment model is missing or cannot be loaded."""


class StoreError(ChatPulseError):
    """The store refused a query or an insert."""


class TransportError(ChatPulseError):
    """The message transport (Kafka) failed."""
