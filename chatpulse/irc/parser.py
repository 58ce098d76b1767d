"""The IRCv3 message grammar: tags, prefix, command, params. Pure; no Twitch knowledge.

Grammar (IRCv3 message-tags and RFC 1459 section 2.3.1, as Twitch sends it)::

    line    = [ "@" tags SPACE ] [ ":" prefix SPACE ] command *( SPACE middle ) [ SPACE ":" trailing ]
    command = 1*letter / 3digit

The parser is strict where leniency would hide corruption (a doubled space, an empty tag block,
a line holding CR or LF) and lenient where Twitch is known to be sloppy (tags without values,
duplicate tag keys: the last one wins).
"""

from __future__ import annotations

from dataclasses import dataclass

from chatpulse.errors import IrcParseError

# IRCv3 message-tags, "Escaping values": \: -> ;  \s -> space  \\ -> \  \r -> CR  \n -> LF;
# any other escaped character stands for itself, and a lone trailing backslash is dropped.
_UNESCAPES = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}
_ESCAPES = {";": "\\:", " ": "\\s", "\\": "\\\\", "\r": "\\r", "\n": "\\n"}


@dataclass(frozen=True, slots=True)
class IrcMessage:
    """One parsed IRC line."""

    tags: dict[str, str]
    prefix: str | None  # "nick!user@host", "tmi.twitch.tv", or None
    command: str
    params: list[str]

    @property
    def nick(self) -> str | None:
        """The nick part of the prefix (the whole prefix for a server name)."""
        if self.prefix is None:
            return None
        return self.prefix.partition("!")[0]


def unescape_tag_value(value: str) -> str:
    """Undo IRCv3 tag-value escaping."""
    if "\\" not in value:
        return value
    out: list[str] = []
    i, n = 0, len(value)
    while i < n:
        ch = value[i]
        if ch == "\\":
            if i + 1 < n:
                nxt = value[i + 1]
                out.append(_UNESCAPES.get(nxt, nxt))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def escape_tag_value(value: str) -> str:
    """Apply IRCv3 tag-value escaping (the inverse of :func:`unescape_tag_value`)."""
    return "".join(_ESCAPES.get(ch, ch) for ch in value)


def parse_tags(block: str) -> dict[str, str]:
    """``a=b;c;d=e\\sf`` -> ``{"a": "b", "c": "", "d": "e f"}``; the last duplicate wins."""
    tags: dict[str, str] = {}
    for item in block.split(";"):
        key, _, value = item.partition("=")
        if not key:
            continue
        tags[key] = unescape_tag_value(value) if "\\" in value else value
    return tags


def _valid_command(command: str) -> bool:
    if command.isascii() and command.isalpha():
        return True
    return len(command) == 3 and command.isascii() and command.isdigit()


def parse_irc(line: str) -> IrcMessage:
    """Parse one line (without its CRLF). Raises :class:`IrcParseError` saying what is wrong."""
    if "\n" in line or "\r" in line:
        raise IrcParseError("line contains CR or LF")
    rest = line
    tags: dict[str, str] = {}
    if rest.startswith("@"):
        block, sep, rest = rest[1:].partition(" ")
        if not sep:
            raise IrcParseError("no space after tags")
        if not block:
            raise IrcParseError("empty tags declaration")
        tags = parse_tags(block)
    prefix: str | None = None
    if rest.startswith(":"):
        prefix, sep, rest = rest[1:].partition(" ")
        if not prefix:
            raise IrcParseError("empty prefix")
        if not sep:
            raise IrcParseError("no space after prefix")
    command, sep, rest = rest.partition(" ")
    if not _valid_command(command):
        raise IrcParseError(f"malformed command {command[:20]!r}")
    params: list[str] = []
    if sep:
        middle, colon, trailing = rest.partition(" :") if not rest.startswith(":") else ("", ":", rest[1:])
        if middle:
            parts = middle.split(" ")
            if "" in parts:
                raise IrcParseError("too many spaces between parameters")
            params = parts
        elif not colon:
            raise IrcParseError("too many spaces after command")
        if colon:
            params.append(trailing)
    return IrcMessage(tags, prefix, command, params)
