"""EventSubSource against the local EventSub + Helix test server (tests/integration/eventsub_server.py)."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from chatpulse.errors import AuthenticationError, SourceError
from chatpulse.events import (
    ChatEvent,
    ClearChatEvent,
    ClearMsgEvent,
    CoverageEvent,
    MessageEvent,
    UserNoticeEvent,
)
from chatpulse.sources.eventsub.helix import SubscriptionLimitError
from chatpulse.sources.eventsub.mapping import CHAT_SUBSCRIPTION_TYPES
from chatpulse.sources.eventsub.source import EventSubSource
from chatpulse.testing.eventsub_server import EventSubTestServer
from chatpulse.times import parse_time

DATA = Path(__file__).resolve().parents[1] / "data" / "eventsub"


def fixture(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return doc


def for_channel(frame: dict[str, Any], login: str, user_id: str) -> dict[str, Any]:
    doc = copy.deepcopy(frame)
    doc["payload"]["event"].update(
        broadcaster_user_id=user_id, broadcaster_user_login=login, broadcaster_user_name=login
    )
    return doc


class Collector:
    """Runs ``source.stream()`` in a task and hands its events (or its error) to the test."""

    def __init__(self, source: EventSubSource) -> None:
        self.source = source
        self.items: asyncio.Queue[ChatEvent | BaseException] = asyncio.Queue()
        self.seen: list[ChatEvent] = []
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        try:
            async for item in self.source.stream():
                assert isinstance(item, ChatEvent)
                await self.items.put(item)
        except Exception as exc:
            await self.items.put(exc)

    async def next_matching(self, match: Callable[[ChatEvent], bool], timeout: float = 5.0) -> ChatEvent:
        async with asyncio.timeout(timeout):
            while True:
                item = await self.items.get()
                if isinstance(item, BaseException):
                    raise item
                self.seen.append(item)
                if match(item):
                    return item

    async def coverage(self, channel: str, state: str, timeout: float = 5.0) -> CoverageEvent:
        event = await self.next_matching(
            lambda e: isinstance(e, CoverageEvent) and e.channel == channel and e.state == state, timeout
        )
        assert isinstance(event, CoverageEvent)
        return event

    async def error(self, timeout: float = 5.0) -> BaseException:
        async with asyncio.timeout(timeout):
            while True:
                item = await self.items.get()
                if isinstance(item, BaseException):
                    return item

    async def stop(self) -> None:
        await self.source.close()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await self.task
        self.task.cancel()


@pytest.fixture
async def server() -> AsyncIterator[EventSubTestServer]:
    async with EventSubTestServer() as srv:
        yield srv


def make_source(server: EventSubTestServer, channels: tuple[str, ...] = ("pulsetest",)) -> EventSubSource:
    return EventSubSource(
        server.client_id,
        SecretStr(server.token),
        channels,
        ws_url=server.ws_url,
        helix_url=server.helix_url,
        validate_url=server.validate_url,
        keepalive_grace_s=0.3,
        connect_timeout_s=3.0,
        http_timeout_s=3.0,
        backoff_initial_s=0.05,
        backoff_max_s=0.2,
    )


@pytest.fixture
async def connected(server: EventSubTestServer) -> AsyncIterator[Collector]:
    collector = Collector(make_source(server, ("pulsetest", "otherchan")))
    await collector.coverage("pulsetest", "connected")
    await collector.coverage("otherchan", "connected")
    yield collector
    await collector.stop()


async def test_welcome_then_every_chat_type_is_subscribed_for_the_welcomed_session(
    server: EventSubTestServer, connected: Collector
) -> None:
    session = server.sessions[0]
    requests = server.subscription_requests
    assert len(requests) == 2 * len(CHAT_SUBSCRIPTION_TYPES)
    subscribed = {(r.body["type"], r.body["condition"]["broadcaster_user_id"]) for r in requests}
    assert subscribed == {(t, b) for t in CHAT_SUBSCRIPTION_TYPES for b in ("1001", "1002")}
    for request in requests:
        assert request.body["transport"] == {"method": "websocket", "session_id": session.id}
        assert request.body["condition"]["user_id"] == server.users["pulsebot"]
        assert request.body["version"] == "1"
        assert request.headers["client-id"] == server.client_id
        assert request.headers["authorization"] == f"Bearer {server.token}"


NOTICE_TYPES = {
    "channel.chat.notification.sub.json": "sub",
    "channel.chat.notification.resub.json": "resub",
    "channel.chat.notification.sub_gift.json": "subgift",
    "channel.chat.notification.community_sub_gift.json": "anonsubmysterygift",
    "channel.chat.notification.gift_paid_upgrade.json": "giftpaidupgrade",
    "channel.chat.notification.raid.json": "raid",
    "channel.chat.notification.announcement.json": "announcement",
    "channel.chat.notification.bits_badge_tier.json": "bitsbadgetier",
    "channel.chat.notification.charity_donation.json": "charitydonation",
}


async def test_each_notification_type_arrives_as_the_event_irc_would_give(
    server: EventSubTestServer, connected: Collector
) -> None:
    message = fixture("channel.chat.message.json")
    await server.notify(message)
    got = await connected.next_matching(lambda e: e.kind == "message")
    assert isinstance(got, MessageEvent)
    event = message["payload"]["event"]
    assert (got.id, got.channel, got.channel_id) == (event["message_id"], "pulsetest", "1001")
    assert got.text == event["message"]["text"] and got.source == "eventsub"
    assert got.sent_at == parse_time(message["metadata"]["message_timestamp"])
    assert [e.name for e in got.emotes] == ["Kappa", "pulsetHype"]
    assert all(got.text[e.start : e.end] == e.name for e in got.emotes)

    for name, notice_type in NOTICE_TYPES.items():
        frame = fixture(name)
        await server.notify(frame)
        notice = await connected.next_matching(lambda e: e.kind == "usernotice")
        assert isinstance(notice, UserNoticeEvent)
        assert notice.notice_type == notice_type, name
        assert notice.id == frame["payload"]["event"]["message_id"]
        assert notice.system_text == frame["payload"]["event"]["system_message"]

    await server.notify(fixture("channel.chat.clear.json"))
    cleared = await connected.next_matching(lambda e: e.kind == "clearchat")
    assert isinstance(cleared, ClearChatEvent) and cleared.target_user_login is None

    await server.notify(fixture("channel.chat.clear_user_messages.json"))
    timed_out = await connected.next_matching(lambda e: e.kind == "clearchat")
    assert isinstance(timed_out, ClearChatEvent)
    assert (timed_out.target_user_login, timed_out.target_user_id) == ("spammer_x", "6666")

    delete = fixture("channel.chat.message_delete.json")
    await server.notify(delete)
    deleted = await connected.next_matching(lambda e: e.kind == "clearmsg")
    assert isinstance(deleted, ClearMsgEvent)
    assert deleted.target_message_id == delete["payload"]["event"]["message_id"]


async def test_a_notification_twitch_sends_twice_is_delivered_once(
    server: EventSubTestServer, connected: Collector
) -> None:
    frame = fixture("channel.chat.message.json")
    first = await server.notify(frame)
    await server.notify(frame, message_id=first)  # Twitch's at-least-once redelivery
    await server.notify(fixture("channel.chat.clear.json"))
    await connected.next_matching(lambda e: e.kind == "clearchat")
    assert [e.kind for e in connected.seen if e.kind == "message"] == ["message"]
    assert connected.source.counters.duplicates == 1


async def test_keepalive_loss_reconnects_resubscribes_and_records_the_gap(
    server: EventSubTestServer, connected: Collector
) -> None:
    server.send_keepalives = False  # the connection goes silent but stays open
    gap = await connected.coverage("pulsetest", "disconnected", timeout=5)
    server.send_keepalives = True
    assert "keepalive" in gap.reason
    back = await connected.coverage("pulsetest", "connected", timeout=5)
    assert back.received_at >= gap.received_at

    second = server.sessions[-1]
    assert second is not server.sessions[0] and server.sessions[0].closed.is_set()
    fresh = [r for r in server.subscription_requests if r.body["transport"]["session_id"] == second.id]
    assert len(fresh) == 2 * len(CHAT_SUBSCRIPTION_TYPES)

    await server.notify(fixture("channel.chat.message.json"))
    got = await connected.next_matching(lambda e: e.kind == "message")
    assert got.channel == "pulsetest"


async def test_connection_closed_by_twitch_is_reopened_and_resubscribed(
    server: EventSubTestServer, connected: Collector
) -> None:
    await server.close_session(server.sessions[0], 4005)
    gap = await connected.coverage("otherchan", "disconnected")
    assert "4005" in gap.reason and "network timeout" in gap.reason
    await connected.coverage("otherchan", "connected")
    second = server.sessions[-1]
    assert sum(r.body["transport"]["session_id"] == second.id for r in server.subscription_requests) == 10
    other = for_channel(fixture("channel.chat.message.json"), "otherchan", "1002")
    await server.notify(other)
    got = await connected.next_matching(lambda e: e.kind == "message")
    assert got.channel == "otherchan"


async def test_close_ends_the_stream_promptly(server: EventSubTestServer) -> None:
    collector = Collector(make_source(server))
    await collector.coverage("pulsetest", "connected")
    await collector.source.close()
    async with asyncio.timeout(3):
        await collector.task
    async with asyncio.timeout(3):
        await server.sessions[0].closed.wait()  # the socket was closed, not left open


async def test_session_reconnect_reads_the_old_socket_until_the_new_one_is_welcomed(
    server: EventSubTestServer, connected: Collector
) -> None:
    server.release_reconnect_welcome.clear()
    old = await server.send_reconnect()
    new = await server.wait_for_sessions(2)
    assert not new.welcomed.is_set()

    # Still on the old socket while the new one waits for its welcome: must not be lost.
    before = await server.notify(fixture("channel.chat.message.json"))
    got = await connected.next_matching(lambda e: e.kind == "message")
    assert isinstance(got, MessageEvent) and got.raw is not None and before in got.raw
    assert not old.closed.is_set()

    server.release_reconnect_welcome.set()
    async with asyncio.timeout(5):
        await old.closed.wait()  # the client closed the old socket after the welcome
    assert new.welcomed.is_set() and not new.closed.is_set()

    shared = fixture("channel.chat.message.shared.json")
    await server.notify(shared)  # the subscriptions moved: this one goes over the new socket
    after = await connected.next_matching(lambda e: e.kind == "message")
    assert (
        after.channel == "pulsetest"
        and after.raw is not None
        and new.sent[-1]["metadata"]["message_id"] in after.raw
    )

    assert len(server.subscription_requests) == 2 * len(CHAT_SUBSCRIPTION_TYPES)  # nothing resubscribed
    assert not any(isinstance(e, CoverageEvent) and e.state == "disconnected" for e in connected.seen)


async def test_revocation_records_a_gap_and_stops_only_that_channel(
    server: EventSubTestServer, connected: Collector
) -> None:
    await server.revoke("1001", "channel.chat.message", "user_removed")
    gap = await connected.coverage("pulsetest", "disconnected")
    assert "user_removed" in gap.reason and "channel.chat.message" in gap.reason

    await server.notify(fixture("channel.chat.clear.json"))  # pulsetest: no longer read
    other = for_channel(fixture("channel.chat.message.json"), "otherchan", "1002")
    await server.notify(other)
    got = await connected.next_matching(lambda e: e.kind in ("message", "clearchat"))
    assert (got.kind, got.channel) == ("message", "otherchan")


async def test_revoked_authorization_on_the_last_channel_ends_with_a_clear_error(
    server: EventSubTestServer,
) -> None:
    collector = Collector(make_source(server))
    try:
        await collector.coverage("pulsetest", "connected")
        await server.revoke("1001", "channel.chat.message", "authorization_revoked")
        error = await collector.error()
        assert isinstance(error, AuthenticationError)
        assert "authorization_revoked" in str(error)
    finally:
        await collector.stop()


async def test_unknown_channel_is_reported_and_the_others_are_read(server: EventSubTestServer) -> None:
    collector = Collector(make_source(server, ("nosuchuser", "pulsetest")))
    try:
        missing = await collector.coverage("nosuchuser", "disconnected")
        assert "no Twitch user" in missing.reason
        await collector.coverage("pulsetest", "connected")
        await server.notify(fixture("channel.chat.message.json"))
        got = await collector.next_matching(lambda e: e.kind == "message")
        assert got.channel == "pulsetest"
    finally:
        await collector.stop()


async def _first_error(server: EventSubTestServer) -> BaseException:
    collector = Collector(make_source(server))
    try:
        return await collector.error()
    finally:
        await collector.stop()


async def test_rejected_token_gives_one_clear_line_without_the_token(
    server: EventSubTestServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.token_valid = False
    error = await _first_error(server)
    assert isinstance(error, AuthenticationError)
    assert "twitch.token" in str(error) and "expired" in str(error) and "\n" not in str(error)
    assert server.token not in str(error) and server.token not in repr(error)
    assert server.token not in caplog.text


async def test_token_without_the_chat_scope_is_refused_naming_the_scope(server: EventSubTestServer) -> None:
    server.scopes = ("chat:read",)
    error = await _first_error(server)
    assert isinstance(error, AuthenticationError)
    assert "user:read:chat" in str(error) and server.token not in str(error)


async def test_token_refused_by_helix_while_subscribing(server: EventSubTestServer) -> None:
    server.subscribe_error = (401, "Invalid OAuth token")
    error = await _first_error(server)
    assert isinstance(error, AuthenticationError)
    assert "twitch.token" in str(error) and server.token not in str(error)


async def test_subscription_limit_says_what_to_do(server: EventSubTestServer) -> None:
    server.subscribe_error = (429, "number of websocket subscriptions exceeded")
    error = await _first_error(server)
    assert isinstance(error, SubscriptionLimitError) and isinstance(error, SourceError)
    assert "300" in str(error) and "exceeded" in str(error)
