"""Property-based tests of the IRC parser (hypothesis).

- parse_line never raises, whatever the text, and what it returns survives the wire format;
- tag escaping round-trips, and escaped values hold no character that would end a tag;
- a valid line built from random parts parses back into exactly those parts;
- emote spans, even from nonsense positions, always satisfy ``text[start:end] == name``.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatpulse.events import ErrorEvent
from chatpulse.irc.parser import escape_tag_value, parse_irc, parse_tags, unescape_tag_value
from chatpulse.irc.twitch import parse_line
from chatpulse.wire import dumps, loads

PROPERTY_SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Pieces of real Twitch lines, so random garbage reaches the deeper branches (tags, emotes,
# actions, numbers) far more often than uniform text would.
FRAGMENTS = [
    "@", ":", " ", ";", "=", "\\", "\\s", "/", ",", "-", "#", "!", "\x01", "\x01ACTION ", "\r", "\n",
    "PRIVMSG", "USERNOTICE", "CLEARCHAT", "CLEARMSG", "WHISPER", "PING", "PONG", "NOTICE", "001",
    "emotes=", "25:0-4", "1902:6-10,12-16", "badges=", "subscriber/12", "bits=", "tmi-sent-ts=",
    "ban-duration=", "room-id=", "reply-parent-msg-id=", "9" * 30, "²", "٣", "Kappa", "👉", "#xqcow",
    "nick!nick@nick.tmi.twitch.tv", "tmi.twitch.tv", "msg-param-months=", "display-name=",
]  # fmt: skip
twitchish = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=3), max_size=30).map("".join)


def _check_event_for(line: str) -> None:
    event = parse_line(line, 1_700_000_000_000, "irc")
    assert event.raw == line
    if isinstance(event, ErrorEvent):
        assert event.error
    assert loads(dumps(event)) == event
    for emote in getattr(event, "emotes", ()):
        text: str = event.text  # type: ignore[attr-defined]
        assert 0 <= emote.start < emote.end <= len(text)
        assert text[emote.start : emote.end] == emote.name


@PROPERTY_SETTINGS
@given(st.text())
def test_parse_line_never_raises_on_any_text(line: str) -> None:
    _check_event_for(line)


@PROPERTY_SETTINGS
@given(twitchish)
def test_parse_line_never_raises_on_twitch_shaped_garbage(line: str) -> None:
    _check_event_for(line)


@PROPERTY_SETTINGS
@given(
    st.text(max_size=40),
    st.lists(st.tuples(st.integers(-5, 60), st.integers(-5, 60)), max_size=6),
    st.booleans(),
)
def test_emote_spans_from_any_positions_are_exact(
    text: str, spans: list[tuple[int, int]], action: bool
) -> None:
    text = text.replace("\r", "").replace("\n", "")
    ranges = ",".join(f"{first}-{last}" for first, last in spans)
    body = f"\x01ACTION {text}\x01" if action else text
    _check_event_for(f"@emotes=25:{ranges};id=x :a!a@a.tmi.twitch.tv PRIVMSG #c :{body}")


@PROPERTY_SETTINGS
@given(st.text())
def test_escape_then_unescape_is_identity(value: str) -> None:
    escaped = escape_tag_value(value)
    assert not set(escaped) & {";", " ", "\r", "\n"}
    assert unescape_tag_value(escaped) == value
    assert parse_tags(f"k={escaped}") == {"k": value}


tag_keys = st.from_regex(r"\+?([a-z0-9.-]+/)?[A-Za-z0-9-]+", fullmatch=True)
no_line_break = st.characters(blacklist_characters="\r\n")
prefixes = st.text(no_line_break.filter(lambda c: c != " "), min_size=1, max_size=30)
commands = st.from_regex(r"[A-Za-z]{1,12}|[0-9]{3}", fullmatch=True)
middles = st.text(no_line_break.filter(lambda c: c != " "), min_size=1, max_size=12).filter(
    lambda p: not p.startswith(":")
)


@PROPERTY_SETTINGS
@given(
    st.dictionaries(tag_keys, st.text(), max_size=6),
    st.none() | prefixes,
    commands,
    st.lists(middles, max_size=5),
    st.none() | st.text(no_line_break, max_size=40),
)
def test_a_line_built_from_parts_parses_back_into_them(
    tags: dict[str, str], prefix: str | None, command: str, middle: list[str], trailing: str | None
) -> None:
    line = ""
    if tags:
        line += "@" + ";".join(f"{key}={escape_tag_value(value)}" for key, value in tags.items()) + " "
    if prefix is not None:
        line += f":{prefix} "
    line += " ".join([command, *middle])
    if trailing is not None:
        line += f" :{trailing}"
    params = middle + ([] if trailing is None else [trailing])
    for strict in (True, False):
        message = parse_irc(line, strict=strict)
        assert message.tags == tags
        assert message.prefix == prefix
        assert message.command == command.upper()
        assert message.params == params
