"""EventSub payloads -> events (on payloads shaped as Twitch documents them), and MergedSource."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from chatpulse.config import load_settings
from chatpulse.errors import ConfigError, SourceError
from chatpulse.events import (
    ChatEvent,
    ClearChatEvent,
    ClearMsgEvent,
    CoverageEvent,
    ErrorEvent,
    MessageEvent,
    UserNoticeEvent,
)
from chatpulse.irc.twitch import parse_line
from chatpulse.sources import dedupe
from chatpulse.sources.base import RawLine, SourceItem
from chatpulse.sources.dedupe import ClearChatTwins, MergedSource, RecentIds
from chatpulse.sources.eventsub.mapping import (
    FrameError,
    event_from_notification,
    parse_frame,
    revocation_info,
    session_info,
)
from chatpulse.sources.eventsub.source import EventSubSource, build_eventsub_source
from chatpulse.times import parse_time

DATA = Path(__file__).resolve().parents[1] / "data" / "eventsub"
RECEIVED = 1_714_593_600_000


def load(name: str) -> tuple[str, dict[str, Any]]:
    text = (DATA / name).read_text(encoding="utf-8")
    return text, json.loads(text)


def mapped(name: str) -> tuple[ChatEvent, dict[str, Any]]:
    text, doc = load(name)
    return event_from_notification(parse_frame(text), RECEIVED), doc


def mapped_doc(doc: dict[str, Any]) -> ChatEvent:
    return event_from_notification(parse_frame(json.dumps(doc)), RECEIVED)


# --- channel.chat.message ---------------------------------------------------------------------


def test_chat_message_carries_every_field_and_keeps_the_frame() -> None:
    text, doc = load("channel.chat.message.json")
    event = event_from_notification(parse_frame(text), RECEIVED)
    payload = doc["payload"]["event"]
    assert isinstance(event, MessageEvent)
    assert (event.source, event.channel, event.channel_id) == ("eventsub", "pulsetest", "1001")
    assert event.sent_at == parse_time(doc["metadata"]["message_timestamp"])
    assert event.received_at == RECEIVED
    assert (event.id, event.user_id, event.user_login, event.user_name) == (
        payload["message_id"], "4145994", "viewer32", "Viewer32",
    )  # fmt: skip
    assert event.text == payload["message"]["text"]
    assert event.badges == {"moderator": "1", "subscriber": "12", "sub-gifter": "1"}
    assert event.badge_info == {"subscriber": "16"}  # exact months, as IRC's badge-info
    assert event.bits == payload["cheer"]["bits"]
    assert event.reply_parent is not None
    assert event.reply_parent.id == payload["reply"]["parent_message_id"]
    assert event.reply_parent.user_login == "kappa_fan"
    assert event.tags == {} and event.raw == text


def test_emote_spans_count_code_points_and_skip_cheermotes() -> None:
    event, doc = mapped("channel.chat.message.json")
    assert isinstance(event, MessageEvent)
    fragments = doc["payload"]["event"]["message"]["fragments"]
    emote_fragments = [f for f in fragments if f["type"] == "emote"]
    assert [e.id for e in event.emotes] == [f["emote"]["id"] for f in emote_fragments]
    for emote in event.emotes:
        assert event.text[emote.start : emote.end] == emote.name
        assert emote.provider == "twitch"
    # The text has an emoji and umlauts before the first emote: offsets are code points.
    # The mention "@Kappa_fan" contains "Kappa" too: only the emote fragment counts.
    assert event.emotes[0].start == event.text.index(" Kappa ") + 1
    assert "Cheer100" not in {e.name for e in event.emotes}


def test_chat_message_has_the_same_fields_as_the_same_message_over_irc() -> None:
    event, doc = mapped("channel.chat.message.json")
    assert isinstance(event, MessageEvent)
    payload = doc["payload"]["event"]
    text = payload["message"]["text"]
    starts = [text.index(f" {e.name} ") + 1 for e in event.emotes]  # found by hand, as words
    spans = "/".join(f"{e.id}:{s}-{s + len(e.name) - 1}" for e, s in zip(event.emotes, starts, strict=True))
    tags = {
        "badge-info": "subscriber/16",
        "badges": "moderator/1,subscriber/12,sub-gifter/1",
        "bits": "100",
        "color": payload["color"],
        "display-name": payload["chatter_user_name"],
        "emotes": spans,
        "id": payload["message_id"],
        "reply-parent-msg-id": payload["reply"]["parent_message_id"],
        "reply-parent-user-login": payload["reply"]["parent_user_login"],
        "reply-parent-msg-body": payload["reply"]["parent_message_body"].replace(" ", "\\s"),
        "room-id": payload["broadcaster_user_id"],
        "tmi-sent-ts": str(event.sent_at),
        "user-id": payload["chatter_user_id"],
    }
    line = "@" + ";".join(f"{k}={v}" for k, v in tags.items())
    line += f" :viewer32!viewer32@viewer32.tmi.twitch.tv PRIVMSG #pulsetest :{text}"
    irc = parse_line(line, RECEIVED, "irc")
    assert isinstance(irc, MessageEvent)
    same = ("kind", "channel", "channel_id", "sent_at", "id", "user_id", "user_login", "user_name",
            "text", "badges", "badge_info", "color", "bits", "reply_parent", "emotes",
            "source_channel_id")  # fmt: skip
    assert {f: getattr(event, f) for f in same} == {f: getattr(irc, f) for f in same}


def test_shared_chat_message_names_the_source_channel() -> None:
    event, doc = mapped("channel.chat.message.shared.json")
    assert isinstance(event, MessageEvent)
    assert event.source_channel_id == doc["payload"]["event"]["source_broadcaster_user_id"]
    assert event.color is None and event.badges == {} and event.emotes == () and event.bits == 0


# --- channel.chat.notification ----------------------------------------------------------------

NOTICES: list[tuple[str, str, dict[str, str]]] = [
    ("sub", "sub", {"sub-plan": "Prime", "multimonth-duration": "1"}),
    ("resub", "resub", {"cumulative-months": "14", "streak-months": "3", "sub-plan": "1000"}),
    ("sub_gift", "subgift", {"recipient-user-name": "lucky_viewer", "recipient-id": "6100",
                             "recipient-display-name": "Lucky_Viewer", "sender-count": "5",
                             "gift-months": "1"}),
    ("community_sub_gift", "anonsubmysterygift", {"mass-gift-count": "10", "sub-plan": "1000",
                                                  "community-gift-id": "14751536648396361421"}),
    ("gift_paid_upgrade", "giftpaidupgrade", {"sender-login": "generous", "sender-name": "Generous"}),
    ("raid", "raid", {"login": "raider_chan", "displayName": "Raider_Chan", "viewerCount": "512"}),
    ("announcement", "announcement", {"color": "PRIMARY"}),
    ("bits_badge_tier", "bitsbadgetier", {"threshold": "1000"}),
    ("charity_donation", "charitydonation", {"charity-name": "Example Charity", "donation-amount": "500",
                                             "exponent": "2", "donation-currency": "USD"}),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "msg_id", "params"), NOTICES, ids=[n[0] for n in NOTICES])
def test_notification_uses_irc_msg_id_and_param_names(kind: str, msg_id: str, params: dict[str, str]) -> None:
    event, doc = mapped(f"channel.chat.notification.{kind}.json")
    payload = doc["payload"]["event"]
    assert isinstance(event, UserNoticeEvent)
    assert event.notice_type == msg_id
    assert params.items() <= event.params.items()
    assert event.id == payload["message_id"] and event.system_text == payload["system_message"]
    assert event.user_login == payload["chatter_user_login"] and event.channel == "pulsetest"
    assert event.text == payload["message"]["text"]
    assert all(event.text[e.start : e.end] == e.name for e in event.emotes)


def test_notification_message_emotes_are_found() -> None:
    event, _ = mapped("channel.chat.notification.resub.json")
    assert isinstance(event, UserNoticeEvent)
    assert [(e.id, e.name) for e in event.emotes] == [("305954156", "PogChamp")]


def test_anonymous_gift_upgrade_and_shared_chat_notices() -> None:
    _, doc = load("channel.chat.notification.gift_paid_upgrade.json")
    doc["payload"]["event"]["gift_paid_upgrade"]["gifter_is_anonymous"] = True
    event = mapped_doc(doc)
    assert isinstance(event, UserNoticeEvent) and event.notice_type == "anongiftpaidupgrade"

    _, doc = load("channel.chat.notification.sub.json")
    payload = doc["payload"]["event"]
    payload["notice_type"] = "shared_chat_sub"
    payload["shared_chat_sub"], payload["sub"] = payload["sub"], None
    event = mapped_doc(doc)
    assert isinstance(event, UserNoticeEvent)
    assert event.notice_type == "sharedchatnotice" and event.params["source-msg-id"] == "sub"
    assert event.params["sub-plan"] == "Prime"


def test_unknown_notice_type_keeps_its_name_and_fields() -> None:
    _, doc = load("channel.chat.notification.sub.json")
    payload = doc["payload"]["event"]
    payload["notice_type"] = "watch_streak"
    payload["watch_streak"] = {"streak_count": 7, "channel_points_awarded": 450}
    event = mapped_doc(doc)
    assert isinstance(event, UserNoticeEvent)
    assert event.notice_type == "watch_streak"
    assert event.params == {"streak-count": "7", "channel-points-awarded": "450"}


# --- moderation -------------------------------------------------------------------------------


def test_clear_is_a_whole_chat_clearchat() -> None:
    event, _ = mapped("channel.chat.clear.json")
    assert isinstance(event, ClearChatEvent)
    assert (event.channel, event.target_user_login, event.target_user_id, event.ban_duration) == (
        "pulsetest", None, None, None,
    )  # fmt: skip


def test_clear_user_messages_is_a_clearchat_with_target_and_unknown_duration() -> None:
    event, doc = mapped("channel.chat.clear_user_messages.json")
    assert isinstance(event, ClearChatEvent)
    payload = doc["payload"]["event"]
    assert event.target_user_login == payload["target_user_login"]
    assert event.target_user_id == payload["target_user_id"]
    assert event.ban_duration is None


def test_message_delete_is_a_clearmsg() -> None:
    event, doc = mapped("channel.chat.message_delete.json")
    assert isinstance(event, ClearMsgEvent)
    assert event.target_message_id == doc["payload"]["event"]["message_id"]
    assert event.user_login == "viewer32"


# --- bad input and control frames ------------------------------------------------------------


def test_payload_missing_a_field_becomes_an_error_event_keeping_the_frame() -> None:
    _, doc = load("channel.chat.message.json")
    del doc["payload"]["event"]["broadcaster_user_login"]
    text = json.dumps(doc)
    event = event_from_notification(parse_frame(text), RECEIVED)
    assert isinstance(event, ErrorEvent)
    assert event.raw == text and "broadcaster_user_login" in event.error


def test_unknown_subscription_type_and_non_json_frames() -> None:
    _, doc = load("channel.chat.clear.json")
    doc["metadata"]["subscription_type"] = "channel.follow"
    event = mapped_doc(doc)
    assert isinstance(event, ErrorEvent) and "channel.follow" in event.error
    with pytest.raises(FrameError):
        parse_frame("not json {")
    with pytest.raises(FrameError):
        parse_frame('{"payload": {}}')


def test_fragments_that_do_not_add_up_never_give_a_wrong_span() -> None:
    _, doc = load("channel.chat.message.json")
    message = doc["payload"]["event"]["message"]
    message["text"] = message["text"].replace("pulsetHype", "")  # a fragment the text lacks
    event = mapped_doc(doc)
    assert isinstance(event, MessageEvent)
    assert [e.name for e in event.emotes] == ["Kappa"]
    assert all(event.text[e.start : e.end] == e.name for e in event.emotes)


def test_welcome_reconnect_and_revocation_frames() -> None:
    welcome = session_info(parse_frame(load("session_welcome.json")[0]))
    assert welcome.id and welcome.keepalive_timeout_s == 10 and welcome.reconnect_url is None
    text, doc = load("session_reconnect.json")
    moved = session_info(parse_frame(text))
    assert moved.reconnect_url == doc["payload"]["session"]["reconnect_url"]
    revoked = revocation_info(parse_frame(load("revocation.json")[0]))
    assert (revoked.status, revoked.subscription_type, revoked.broadcaster_user_id) == (
        "authorization_revoked", "channel.chat.message", "1001",
    )  # fmt: skip


# --- configuration ----------------------------------------------------------------------------


def test_missing_client_id_or_token_is_a_config_error_naming_the_setting() -> None:
    with pytest.raises(ConfigError, match="twitch.client_id"):
        EventSubSource(None, SecretStr("abc"), ["pulsetest"])
    with pytest.raises(ConfigError, match="twitch.token"):
        EventSubSource("client", None, ["pulsetest"])
    with pytest.raises(ConfigError, match="300 subscriptions"):
        EventSubSource("client", SecretStr("abc"), [f"chan{i}" for i in range(61)])
    with pytest.raises(ConfigError, match="not a valid channel"):
        EventSubSource("client", SecretStr("abc"), ["bad name!"])


def test_build_eventsub_source_reads_the_twitch_settings() -> None:
    environ = {"TWITCH_CLIENT_ID": "my-client", "TOKEN": "oauth:sekrit",
               "CHATPULSE_TWITCH__HELIX_URL": "http://127.0.0.1:1/helix"}  # fmt: skip
    settings = load_settings(env_file=None, environ=environ)
    source = build_eventsub_source(settings, ["#PulseTest"])
    assert source.channels == ("pulsetest",) and source.ws_url == settings.twitch.eventsub_url
    assert settings.twitch.client_id == "my-client"


# --- MergedSource -----------------------------------------------------------------------------


class ListSource:
    """A source that yields the given items (pausing ``gap`` s before each), then ends."""

    def __init__(self, name: str, items: Sequence[SourceItem | BaseException], gap: float = 0.0) -> None:
        self.name = name
        self.items = items
        self.gap = gap
        self.closed = False

    async def stream(self) -> AsyncIterator[SourceItem]:
        for item in self.items:
            await asyncio.sleep(self.gap)
            if isinstance(item, BaseException):
                raise item
            yield item

    async def close(self) -> None:
        self.closed = True


def irc_privmsg(message_id: str, text: str = "hi chat") -> RawLine:
    line = (f"@id={message_id};room-id=1001;user-id=4145994;display-name=Viewer32;tmi-sent-ts=1714593611934 "
            f":viewer32!viewer32@viewer32.tmi.twitch.tv PRIVMSG #pulsetest :{text}")  # fmt: skip
    return RawLine(line, RECEIVED)


async def collect(source: MergedSource) -> list[ChatEvent]:
    out: list[ChatEvent] = []
    async for item in source.stream():
        assert isinstance(item, ChatEvent)
        out.append(item)
    return out


async def test_same_message_from_irc_and_eventsub_is_delivered_once() -> None:
    eventsub_message, doc = mapped("channel.chat.message.json")
    message_id = doc["payload"]["event"]["message_id"]
    merged = MergedSource([
        ListSource("irc", [irc_privmsg(message_id), irc_privmsg("11111111-2222-3333-4444-555555555555")]),
        ListSource("eventsub", [eventsub_message], gap=0.01),
    ])  # fmt: skip
    events = await collect(merged)
    messages = [e for e in events if isinstance(e, MessageEvent)]
    assert sorted(m.id for m in messages) == sorted([message_id, "11111111-2222-3333-4444-555555555555"])
    assert next(m for m in messages if m.id == message_id).source == "irc"  # IRC's copy came first
    assert merged.duplicates == 1


async def test_merged_delivers_what_only_one_path_saw_and_keeps_deletions() -> None:
    eventsub_message, doc = mapped("channel.chat.message.json")
    deletion, _ = mapped("channel.chat.message_delete.json")
    message_id = doc["payload"]["event"]["message_id"]
    gap = CoverageEvent(received_at=RECEIVED, source="irc", channel="pulsetest", state="disconnected")
    merged = MergedSource([
        ListSource("irc", [gap]),  # IRC hiccups and misses the message...
        ListSource("eventsub", [eventsub_message, deletion], gap=0.01),  # ...EventSub has it
    ])  # fmt: skip
    events = await collect(merged)
    assert [e.kind for e in events] == ["coverage", "message", "clearmsg"]
    assert isinstance(events[2], ClearMsgEvent) and events[2].target_message_id == message_id


async def test_a_failing_path_does_not_stop_the_other_and_is_reported_at_the_end() -> None:
    eventsub_message, _ = mapped("channel.chat.message.json")
    merged = MergedSource([
        ListSource("irc", [SourceError("login refused")]),
        ListSource("eventsub", [eventsub_message], gap=0.02),
    ])  # fmt: skip
    seen: list[ChatEvent] = []
    with pytest.raises(SourceError, match="login refused"):
        async for item in merged.stream():
            assert isinstance(item, ChatEvent)
            seen.append(item)
    assert [e.kind for e in seen] == ["message"]


async def test_close_reaches_every_source() -> None:
    sources = [ListSource("irc", []), ListSource("eventsub", [])]
    merged = MergedSource(sources)
    await merged.close()
    assert all(s.closed for s in sources)


def irc_clearchat(login: str | None, duration: int | None = None) -> RawLine:
    """IRC's CLEARCHAT: a timeout (with duration), a ban (without), a whole-chat clear (no login)."""
    tags = "" if duration is None else f"ban-duration={duration};"
    tags += "room-id=1001;" + ("target-user-id=6666;" if login else "") + "tmi-sent-ts=1714593611934"
    return RawLine(f"@{tags} :tmi.twitch.tv CLEARCHAT #pulsetest" + (f" :{login}" if login else ""), RECEIVED)


@pytest.mark.parametrize("eventsub_first", [False, True])
async def test_a_timeout_both_paths_saw_is_delivered_once_with_its_duration(eventsub_first: bool) -> None:
    # EventSub's clear_user_messages does not say how long; IRC's CLEARCHAT does: that copy stays.
    cleared, _ = mapped("channel.chat.clear_user_messages.json")  # spammer_x
    whole_chat, _ = mapped("channel.chat.clear.json")
    merged = MergedSource([
        ListSource("irc", [irc_clearchat("spammer_x", 600), irc_clearchat(None)], gap=0.05 * eventsub_first),
        ListSource("eventsub", [cleared, whole_chat], gap=0.05 * (not eventsub_first)),
    ])  # fmt: skip
    events = await collect(merged)
    clears = [e for e in events if isinstance(e, ClearChatEvent)]
    assert len(events) == len(clears) == 2
    timeout = next(c for c in clears if c.target_user_login)
    assert (timeout.target_user_login, timeout.ban_duration, timeout.source) == ("spammer_x", 600, "irc")
    assert any(c.target_user_login is None for c in clears)  # the whole-chat clear, once
    assert merged.duplicates == 2


async def test_a_clear_one_path_alone_saw_waits_briefly_and_a_repeat_is_a_new_action(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dedupe, "HOLD_MS", 200)
    cleared, _ = mapped("channel.chat.clear_user_messages.json")  # only EventSub sees this one
    merged = MergedSource([
        ListSource("irc", [irc_clearchat("viewer32", 10), irc_clearchat("viewer32", 600),
                           irc_privmsg("11111111-2222-3333-4444-555555555555")], gap=0.3),
        ListSource("eventsub", [cleared]),
    ])  # fmt: skip
    events = await collect(merged)
    seen = [(e.kind, getattr(e, "target_user_login", None), getattr(e, "ban_duration", None)) for e in events]
    assert seen == [
        ("clearchat", "spammer_x", None),  # released after the hold, before IRC's next lines
        ("clearchat", "viewer32", 10),
        ("clearchat", "viewer32", 600),  # the same path again: a second timeout, not a copy
        ("message", None, None),
    ]
    assert merged.duplicates == 0


def test_clearchat_twins_pair_only_copies_from_another_path_within_the_window() -> None:
    def clear(source: str, at: int, duration: int | None = 60) -> ClearChatEvent:
        return ClearChatEvent(received_at=at, source=source, channel="c", target_user_login="u",
                              ban_duration=duration)  # fmt: skip

    twins = ClearChatTwins(hold=True)
    first = clear("irc", 1_000)
    assert twins.offer(first, 1_000) == [first]
    assert twins.offer(clear("eventsub", 3_000, None), 3_000) == []  # its copy, 2 s later
    again = clear("irc", 4_000)
    assert twins.offer(again, 4_000) == [again]  # once paired, the next one is a new action
    later = 4_000 + dedupe.TWIN_WINDOW_MS + 1
    late = clear("eventsub", later, None)
    assert twins.offer(late, later) == []  # too late to be a copy: new, held for a better twin
    assert twins.seconds_to_next_release(later) == dedupe.HOLD_MS / 1000
    assert twins.release_due(later + dedupe.HOLD_MS) == [late]
    assert twins.release_all() == [] and twins.duplicates == 1


def test_recent_ids_window_is_bounded_and_forgets_the_oldest() -> None:
    recent = RecentIds(2)
    assert [recent.seen(k) for k in ("a", "b", "a", "c")] == [False, False, True, False]
    assert len(recent) == 2
    assert recent.seen("b") is False  # forgotten: "a" was seen more recently than "b"
    with pytest.raises(ValueError, match="at least 1"):
        RecentIds(0)


def test_copying_a_fixture_does_not_change_it() -> None:
    _, doc = load("channel.chat.message.json")
    before = copy.deepcopy(doc)
    mapped_doc(doc)
    assert doc == before
