"""The dashboard API's parameter validation, its pure shaping helpers, and the join/part guard."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import SecretStr

from chatpulse.config import TwitchSettings
from chatpulse.dashboard import actions, params, shape
from chatpulse.dashboard.app import create_app
from chatpulse.dashboard.control import ChannelControl, FixedChannels, control_for
from chatpulse.sources.twitch_irc.source import TwitchIrcSource
from chatpulse.store.hype import find_hype_moments

HOSTILE_CHANNELS = [
    "xqc' OR 1=1 --",
    "xqc; DROP TABLE chat_messages",
    "a" * 26,
    "x{c0:String}",
    "../etc/passwd",
    "xqc)",
    "ünïcode",
    "##xqc",
    "x\x00c",
]


@pytest.mark.parametrize("name", HOSTILE_CHANNELS)
def test_hostile_channel_names_are_rejected(name: str) -> None:
    with pytest.raises(params.BadRequest, match="invalid channel name"):
        params.channels([name])


def test_upper_case_and_hash_prefixed_names_are_read_as_the_login_like_the_cli() -> None:
    assert params.channels(["XQC,#NymN", "xqc"]) == ("xqc", "nymn")
    assert params.channel_name("#XqC_42") == "xqc_42"


def test_channel_lists_accept_repeats_and_commas_keeping_order() -> None:
    assert params.channels(["xqc,nymn", "forsen", "xqc"]) == ("xqc", "nymn", "forsen")
    assert params.channels([]) == ()
    with pytest.raises(params.BadRequest, match="required"):
        params.channels([], required=True)


def test_too_many_channels_is_an_error() -> None:
    names = ",".join(f"c{i}" for i in range(params.MAX_CHANNELS + 1))
    with pytest.raises(params.BadRequest, match="too many"):
        params.channels([names])


def test_error_messages_do_not_echo_long_input() -> None:
    with pytest.raises(params.BadRequest) as caught:
        params.channels(["<script>" + "x" * 500])
    assert len(str(caught.value)) < 120


def test_window_ranges_and_explicit_bounds() -> None:
    assert params.window({}).span_ms == 15 * 60_000
    assert params.window({"range": "24h"}).span_ms == 86_400_000
    explicit = params.window({"from": "2019-09-15T00:00:00Z", "to": "1568506500000"})
    assert (explicit.start_ms, explicit.end_ms) == (1568505600000, 1568506500000)


@pytest.mark.parametrize(
    "query",
    [
        {"range": "15m; DROP"},
        {"range": "7d"},
        {"from": "1568505600000"},
        {"from": "1568505600000", "to": "1568505600000"},
        {"from": "yesterday", "to": "1568505600000"},
        {"from": "1", "to": "2"},  # 1970: outside the accepted years
        {"from": "1568505600000", "to": "1668505600000"},  # longer than 31 days
        {"range": "1h", "from": "1568505600000", "to": "1568506500000"},
    ],
)
def test_bad_windows_are_rejected(query: dict[str, str]) -> None:
    with pytest.raises(params.BadRequest):
        params.window(query)


@pytest.mark.parametrize("value", ["-1", "0", "1e3", "10 OR 1", "99999999999999999999", ""])
def test_limits_must_be_small_integers(value: str) -> None:
    with pytest.raises(params.BadRequest):
        params.integer({"limit": value}, "limit", 10, 1, 100)


def test_feed_cursor_round_trip_and_rejects() -> None:
    assert params.cursor("1568505600000:5f2b-id_1") == (1568505600000, "5f2b-id_1")
    assert params.cursor(None) is None
    for bad in ("1:2:3", "abc:def", "1:'; DROP", "1:" + "a" * 65):
        with pytest.raises(params.BadRequest):
            params.cursor(bad)


def test_unknown_parameters_are_rejected() -> None:
    with pytest.raises(params.BadRequest, match="unknown parameter 'sql'"):
        params.known_only({"sql": "SELECT 1"}, frozenset({"channel"}))


def test_relative_window_follows_live_chat_or_the_newest_message() -> None:
    now = 1_700_000_000_000
    live = shape.resolve(params.window({"range": "15m"}), now - 5_000, now)
    assert live.live and live.to_ms > now and live.to_ms - live.from_ms == 15 * 60_000
    old = shape.resolve(params.window({"range": "1h"}), 1_568_505_600_000, now)
    assert not old.live and old.to_ms == 1_568_505_600_001 and old.bucket_s == 60


def test_emote_images_only_for_known_providers_and_safe_ids() -> None:
    assert (
        shape.emote_image("twitch", "25") == "https://static-cdn.jtvnw.net/emoticons/v2/25/default/dark/1.0"
    )
    assert shape.emote_image("twitch", "emotesv2_abc123") is not None
    assert shape.emote_image("twitch", "25/../../x") is None
    assert shape.emote_image("unknown", "25") is None


def test_hype_panel_ranks_the_report_detectors_moments_across_channels() -> None:
    t0, minute = 1_568_505_600_000, 60_000
    steady = {t0 + i * minute: 100 + (i % 3) for i in range(12)}
    found = {
        "small": find_hype_moments({**steady, t0 + 12 * minute: 300}, t0, t0 + 13 * minute),
        "large": find_hype_moments({**steady, t0 + 11 * minute: 900}, t0, t0 + 13 * minute),
        "calm": find_hype_moments(steady, t0, t0 + 13 * minute),
    }
    ranked = shape.strongest_moments(found, limit=5)
    assert [(channel, m.minute) for channel, m in ranked] == [
        ("large", t0 + 11 * minute),
        ("small", t0 + 12 * minute),
    ]
    assert shape.strongest_moments(found, limit=1) == ranked[:1]
    shown = shape.hype_json(*ranked[0])
    assert shown["t"] == t0 + 11 * minute and shown["messages"] == 900
    assert shown["ratio"] == pytest.approx(900 / shown["baseline"], abs=0.01)
    assert shown["score"] > 4  # the detector's bar: more than 4 noise widths above the baseline


@pytest.mark.parametrize("name", [*HOSTILE_CHANNELS, "xqc\n", "", "xqc,nymn"])
def test_a_single_channel_name_must_be_exactly_a_login(name: str) -> None:
    with pytest.raises(params.BadRequest, match="invalid channel name"):
        params.channel_name(name)
    assert params.channel_name("xqc_42") == "xqc_42"


# --- join/part guard -------------------------------------------------------------------------

GOOD = {"x-chatpulse-action": "1", "host": "127.0.0.1:8080"}


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 403),  # a plain cross-site form post carries no custom header
        ({"x-chatpulse-action": "yes", "host": "127.0.0.1:8080"}, 403),
        ({**GOOD, "origin": "https://evil.example"}, 403),
        ({**GOOD, "origin": "http://127.0.0.1:9999"}, 403),  # another local port is another origin
        ({**GOOD, "origin": "null"}, 403),
        ({**GOOD, "sec-fetch-site": "cross-site"}, 403),
        ({**GOOD, "sec-fetch-site": "same-site"}, 403),
    ],
)
def test_requests_a_browser_could_send_cross_site_are_refused(headers: dict[str, str], status: int) -> None:
    refused = actions.refusal(headers, loopback=True, token=None)
    assert refused is not None and refused[0] == status


def test_same_origin_page_and_scripts_with_the_header_may_act() -> None:
    assert actions.refusal(GOOD, loopback=True, token=None) is None
    page = {**GOOD, "origin": "http://127.0.0.1:8080", "sec-fetch-site": "same-origin"}
    assert actions.refusal(page, loopback=True, token=None) is None


def test_beyond_loopback_only_the_configured_token_may_act() -> None:
    refused = actions.refusal(GOOD, loopback=False, token=None)
    assert refused is not None and refused[0] == 403 and "control_token" in refused[1]
    token = SecretStr("s3cret-token")
    for auth in (None, "Bearer wrong", "Basic s3cret-token", "Bearer s3cret-tokenX"):
        headers = {**GOOD, **({"authorization": auth} if auth else {})}
        refused = actions.refusal(headers, loopback=False, token=token)
        assert refused is not None and refused[0] == 401
        assert "s3cret" not in refused[1]  # the secret never appears in an answer
    assert (
        actions.refusal({**GOOD, "authorization": "Bearer s3cret-token"}, loopback=False, token=token) is None
    )
    # With a token the header is still required: a browser sends no Authorization cross-site,
    # but the rule stays the same everywhere.
    assert actions.refusal({"authorization": "Bearer s3cret-token"}, loopback=False, token=token) is not None


# --- join/part endpoints, through the real app (ASGI calls in process, no server) ----------


class _StoreNotUsed:
    """Join/part never query the store; any call fails the test."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the store was used: {name}")


async def _call(app: Any, method: str, path: str, headers: dict[str, str]) -> tuple[int, Any]:
    lower = {key.lower(): value for key, value in headers.items()}
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8080),
        "headers": [(k.encode(), v.encode()) for k, v in {"host": "127.0.0.1:8080", **lower}.items()],
    }  # fmt: skip
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(body) if body.startswith(b"{") else body.decode()


def _app(control: ChannelControl | None, **kwargs: Any) -> Any:
    return create_app(_StoreNotUsed(), channel_control=control, **kwargs)  # type: ignore[arg-type]


async def test_join_and_part_change_the_channels_of_a_live_irc_source() -> None:
    source = TwitchIrcSource(TwitchSettings(), ["a"])  # not started: no connection is made
    app = _app(control_for(source))
    status, body = await _call(app, "POST", "/api/channels/b/join", {"X-ChatPulse-Action": "1"})
    assert status == 200 and body == {"action": "join", "channel": "b", "channels": ["a", "b"]}
    assert source.channels == ("a", "b")
    status, body = await _call(app, "POST", "/api/channels/a/part", {"X-ChatPulse-Action": "1"})
    assert status == 200 and body["channels"] == ["b"]
    assert (await _call(app, "GET", "/api/control", {}))[1] == {
        "available": True, "reason": None, "token_required": False, "channels": ["b"],
    }  # fmt: skip


async def test_bad_names_unsafe_requests_and_wrong_methods_change_nothing() -> None:
    source = TwitchIrcSource(TwitchSettings(), ["a"])
    app = _app(control_for(source))
    for name in ("a%20b", "x" * 26, "%23%23a", "a;b", "%C3%BC"):
        status, body = await _call(app, "POST", f"/api/channels/{name}/join", {"X-ChatPulse-Action": "1"})
        assert status == 400 and "invalid channel name" in body["error"], name
    assert (await _call(app, "POST", "/api/channels/b/join", {}))[0] == 403
    assert (await _call(app, "GET", "/api/channels/b/join", {"X-ChatPulse-Action": "1"}))[0] == 405
    evil = {"X-ChatPulse-Action": "1", "Host": "attacker.example"}  # DNS rebinding
    assert (await _call(app, "POST", "/api/channels/b/join", evil))[0] == 400
    assert source.channels == ("a",)


async def test_sources_that_cannot_join_answer_409_and_no_source_501() -> None:
    for name in ("replay", "synthetic", "eventsub", "irc+eventsub"):
        app = _app(FixedChannels(name))
        status, body = await _call(app, "POST", "/api/channels/b/join", {"X-ChatPulse-Action": "1"})
        assert status == 409 and "cannot change at run time" in body["error"], name
        control = (await _call(app, "GET", "/api/control", {}))[1]
        assert control["available"] is False and control["reason"] == body["error"]
    status, body = await _call(_app(None), "POST", "/api/channels/b/part", {"X-ChatPulse-Action": "1"})
    assert status == 501 and "chatpulse run --channel" in body["error"]


async def test_a_stopping_run_refuses_to_join() -> None:
    source = TwitchIrcSource(TwitchSettings(), ["a"])
    app = _app(control_for(source, stopping=lambda: True))
    status, body = await _call(app, "POST", "/api/channels/b/join", {"X-ChatPulse-Action": "1"})
    assert status == 409 and "stopping" in body["error"] and source.channels == ("a",)


async def test_a_public_bind_needs_the_token() -> None:
    source = TwitchIrcSource(TwitchSettings(), ["a"])
    token = SecretStr("t0ken")
    app = _app(control_for(source), host="0.0.0.0", control_token=token)  # noqa: S104 - not bound
    headers = {"X-ChatPulse-Action": "1"}
    status, body = await _call(app, "POST", "/api/channels/b/join", headers)
    assert status == 401 and "t0ken" not in json.dumps(body)
    status, _ = await _call(app, "POST", "/api/channels/b/join", {**headers, "Authorization": "Bearer t0ken"})
    assert status == 200 and source.channels == ("a", "b")
    open_app = _app(control_for(source), host="0.0.0.0")  # noqa: S104 - not bound
    assert (await _call(open_app, "POST", "/api/channels/c/join", headers))[0] == 403
    assert (await _call(open_app, "GET", "/api/control", {}))[1]["available"] is False
