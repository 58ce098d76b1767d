"""Errors raised by ChatPulse.

Hierarchy::

    ChatPulseError                 base of everything ChatPulse raises on purpose
    ├── ConfigError                a setting is missing or invalid (CLI exit code 2)
    ├── IrcParseError              one IRC line is malformed (parsers turn it into an ErrorEvent)
    ├── WireFormatError            a wire JSON record cannot be decoded into an event
    ├── SourceError                a source cannot deliver (login refused, endpoint unreachable)
    │   ├── AuthenticationError    Twitch refused the credentials
    │   └── ArchiveError           a log archive failed (``retryable``: timeout, 5xx, cut body) or
    │                              answered something refused (not chat, a huge line, off-host redirect)
    ├── ModelError                 a sentiment model cannot be found or loaded (exit code 2)
    ├── StoreError                 ClickHouse refused a query or insert (a store fault: retried)
    │   └── StoreDataError         the rows themselves cannot be stored (bad data: never retried)
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


class ArchiveError(SourceError):
    """A justlog/rustlog archive could not deliver a day or list, or answered something refused.

    ``retryable`` is True for faults that may pass (timeout, connection refused, 5xx, 429, a cut
    body) and False for answers that would come back the same (not chat, a huge line, a
    redirect to another host, 4xx)."""

    def __init__(self, message: str, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class ModelError(ChatPulseError):
    """A sentiment model is missing or cannot be loaded."""


class StoreError(ChatPulseError):
    """The store refused a query or an insert. A fault of the store (unreachable, timed out,
    full): the sink retries it with backoff, then spools the batch for later."""


class StoreDataError(StoreError):
    """The rows themselves cannot be stored (a value the table's schema cannot hold). Retrying
    the same rows cannot help: the sink sets the batch aside (``rejected`` in its spool folder)
    and goes on, so one bad batch never blocks the ones behind it."""


class TransportError(ChatPulseError):
    """The message transport (Kafka) failed."""
