"""The IRCv3 message grammar: tags, prefix, command, params. Pure; no Twitch knowledge.

Grammar (IRCv3 message-tags, and RFC 1459 section 2.3.1 for the rest)::

    line    = [ "@" tags SPACE ] [ ":" prefix SPACE ] command *( SPACE middle ) [ SPACE ":" trailing ]
    command = 1*letter / 3digit

Two dialects of SPACE:

- **lenient** (the default of :func:`parse_irc`): RFC 1459 defines SPACE as one *or more* spaces,
  so runs of spaces separate components and a trailing space ends the params (the behaviour the
  ircdocs/parser-tests vectors require).
- **strict** (what :func:`chatpulse.irc.twitch.parse_line` uses): exactly one space, as Twitch
  always sends. On a Twitch connection a doubled or trailing space means a corrupted line, so it
  is reported rather than guessed around (twitch-irc-rs rejects such lines the same way).

Both dialects reject what no reading of the grammar allows: an empty tag block or prefix, a
prefix with an empty nick, user or host, a missing command, a command that is neither letters nor
three digits, CR or LF inside the line.

Prefixes (RFC 2812 section 2.3.1: ``prefix = servername / ( nickname [ [ "!" user ] "@" host ] )``;
ircdocs' parser tests also accept ``nick!user`` without a host): :func:`prefix_nick` splits off
the nick at the first ``!`` or ``@``. A prefix with neither is a server name when it holds a dot
(nicknames cannot) and a bare nickname otherwise.
Tags are lenient in both: keys without a value, duplicate keys (the last one wins), escapes.
Commands are returned upper-case (IRC command names are case-insensitive; twitch-irc-rs
normalises them the same way), so callers can compare with ``==``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Final

from chatpulse.errors import IrcParseError

# IRCv3 message-tags, "Escaping values": \: -> ;  \s -> space  \\ -> \  \r -> CR  \n -> LF;
# any other escaped character stands for itself, and a lone trailing backslash is dropped.
_UNESCAPES: Final = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}
_ESCAPE_SEQUENCE: Final = re.compile(r"\\(.?)", re.DOTALL)
_ESCAPES: Final = str.maketrans({";": "\\:", " ": "\\s", "\\": "\\\\", "\r": "\\r", "\n": "\\n"})

# Commands Twitch sends all day: validating them is a set lookup instead of three string scans.
_KNOWN_COMMANDS: Final = frozenset(
    {
        "PRIVMSG", "CLEARCHAT", "CLEARMSG", "USERNOTICE", "ROOMSTATE", "USERSTATE",
        "GLOBALUSERSTATE", "NOTICE", "WHISPER", "JOIN", "PART", "HOSTTARGET", "RECONNECT",
        "PING", "PONG", "CAP",
    }
)  # fmt: skip

IrcParts = tuple[dict[str, str], str | None, str, list[str]]
"""``(tags, prefix, command, params)`` as :func:`split_irc` returns them."""


@dataclass(frozen=True, slots=True)
class IrcMessage:
    """One parsed IRC line."""

    tags: dict[str, str]
    prefix: str | None  # "nick!user@host", "tmi.twitch.tv", or None
    command: str  # upper case
    params: list[str]

    @property
    def nick(self) -> str | None:
        """The nick part of the prefix; None for a server name or no prefix."""
        return None if self.prefix is None else prefix_nick(self.prefix)


def prefix_nick(prefix: str) -> str | None:
    """``nick!user@host``, ``nick@host``, ``nick!user`` or ``nick`` -> ``nick``; a server name
    (``tmi.twitch.tv``: no ``!`` or ``@``, a dot) -> None. The prefix was checked by
    :func:`split_irc`, so the nick is never empty."""
    # On the hot path (every PRIVMSG): one partition for the usual nick!user@host.
    nick, bang, _ = prefix.partition("!")
    if "@" in nick:
        return nick.partition("@")[0]
    if bang:
        return nick
    return None if "." in nick else nick


def _check_prefix(prefix: str) -> None:
    """:class:`IrcParseError` for a prefix whose nick, user or host is present but empty."""
    bang = prefix.find("!")
    at = prefix.find("@")
    if bang < 0 and at < 0:
        return  # a server name or a bare nickname
    # The nick ends at the first "!" or "@"; a "!" after the "@" belongs to the host.
    user_follows = bang >= 0 and (at < 0 or bang < at)
    if (bang if user_follows else at) == 0:
        raise IrcParseError("empty nick in prefix")
    if user_follows and (at if at >= 0 else len(prefix)) == bang + 1:
        raise IrcParseError("empty user in prefix")
    if at == len(prefix) - 1:
        raise IrcParseError("empty host in prefix")


def _unescape_match(match: re.Match[str]) -> str:
    escaped = match.group(1)
    return _UNESCAPES.get(escaped, escaped)


def unescape_tag_value(value: str) -> str:
    """Undo IRCv3 tag-value escaping."""
    if "\\" not in value:
        return value
    return _ESCAPE_SEQUENCE.sub(_unescape_match, value)


def escape_tag_value(value: str) -> str:
    """Apply IRCv3 tag-value escaping (the inverse of :func:`unescape_tag_value`)."""
    return value.translate(_ESCAPES)


def parse_tags(block: str) -> dict[str, str]:
    """``a=b;c;d=e\\sf`` -> ``{"a": "b", "c": "", "d": "e f"}``; the last duplicate wins.

    Keys are kept as sent (Twitch sends them lower-case); a key without ``=`` gets ``""``, which
    IRCv3 makes equivalent to an empty value. Items with an empty key are dropped.
    """
    tags: dict[str, str] = {}
    for item in block.split(";"):
        key, _, value = item.partition("=")
        tags[key] = value
    if "" in tags:
        del tags[""]
    if "\\" in block:  # rare: unescape only when the block holds an escape at all
        for key, value in tags.items():
            if "\\" in value:
                tags[key] = _ESCAPE_SEQUENCE.sub(_unescape_match, value)
    return tags


def _check_command(command: str) -> str:
    """The command upper-cased, or :class:`IrcParseError` if it is not letters or 3 digits."""
    if command.isascii() and (command.isalpha() or (len(command) == 3 and command.isdigit())):
        return command.upper()
    raise IrcParseError(f"malformed command {command[:20]!r}")


def split_irc(line: str, strict: bool = False) -> IrcParts:
    """Parse one line (without its CRLF) into ``(tags, prefix, command, params)``.

    The allocation-light core of :func:`parse_irc`, used directly on the hot path. ``strict``
    selects the one-space dialect (see the module docstring). Raises :class:`IrcParseError`
    saying what is wrong.
    """
    if "\n" in line or "\r" in line:
        raise IrcParseError("line contains CR or LF")
    pos = 0
    tags: dict[str, str] = {}
    if line.startswith("@"):
        end = line.find(" ")
        if end < 0:
            raise IrcParseError("no space after tags")
        if end == 1:
            raise IrcParseError("empty tags declaration")
        tags = parse_tags(line[1:end])
        pos = end + 1
        if not strict:
            while line.startswith(" ", pos):
                pos += 1
    prefix: str | None = None
    if line.startswith(":", pos):
        end = line.find(" ", pos)
        if end < 0:
            raise IrcParseError("no space after prefix")
        if end == pos + 1:
            raise IrcParseError("empty prefix")
        prefix = line[pos + 1 : end]
        if "!" in prefix or "@" in prefix:
            _check_prefix(prefix)
        pos = end + 1
    # No tag block or prefix holds a space, so the first " :" from here starts the trailing
    # parameter; everything before it is the command and the middle parameters.
    colon = line.find(" :", pos)
    head = line[pos:] if colon < 0 else line[pos:colon]
    params = head.split(" ")
    if strict:
        command = params[0]
        if command not in _KNOWN_COMMANDS:
            command = _check_command(command)
        del params[0]
        if "" in params:
            raise IrcParseError("too many spaces between parameters")
    else:
        params = [param for param in params if param]
        command = _check_command(params.pop(0) if params else "")
    if colon >= 0:
        params.append(line[colon + 2 :])
    return tags, prefix, command, params


python_split_irc: Final = split_irc
"""The pure-Python :func:`split_irc`: the specification, and the fallback of the native one."""

# The native twin (chatpulse/irc/_fastirc.c, same results and errors, ~4x faster) replaces it when
# it was built at install time, unless CHATPULSE_PURE_PYTHON=1 asks for the Python code.
SPLIT_IRC_IMPLEMENTATION = "python"
if os.environ.get("CHATPULSE_PURE_PYTHON", "") in ("", "0"):
    try:
        from chatpulse.irc._fastirc import split_irc
    except ImportError:  # not built (no C compiler at install): the Python code above serves
        pass
    else:
        SPLIT_IRC_IMPLEMENTATION = "native"


def parse_irc(line: str, strict: bool = False) -> IrcMessage:
    """Parse one line (without its CRLF). Raises :class:`IrcParseError` saying what is wrong."""
    return IrcMessage(*split_irc(line, strict))
