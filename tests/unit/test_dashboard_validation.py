"""The dashboard API's parameter validation and its pure shaping helpers."""

from __future__ import annotations

import pytest

from chatpulse.dashboard import params, shape

HOSTILE_CHANNELS = [
    "xqc' OR 1=1 --",
    "xqc; DROP TABLE chat_messages",
    "XQC",
    "a" * 26,
    "x{c0:String}",
    "../etc/passwd",
    "xqc)",
    "ünïcode",
    "#xqc",
    "x\x00c",
]


@pytest.mark.parametrize("name", HOSTILE_CHANNELS)
def test_hostile_channel_names_are_rejected(name: str) -> None:
    with pytest.raises(params.BadRequest, match="invalid channel name"):
        params.channels([name])


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


def test_hype_moments_compare_a_channel_with_its_own_past() -> None:
    quiet = [{"channel": "quiet", "t": i * 10_000, "messages": 12, "mean_score": 0.1} for i in range(8)]
    busy = [{"channel": "busy", "t": i * 10_000, "messages": 100, "mean_score": 0.0} for i in range(8)]
    busy.append({"channel": "busy", "t": 80_000, "messages": 400, "mean_score": 0.6})
    quiet.append({"channel": "quiet", "t": 80_000, "messages": 60, "mean_score": 0.2})
    moments = shape.hype_moments(quiet + busy, limit=5)
    assert [(m.channel, m.t) for m in moments] == [("quiet", 80_000), ("busy", 80_000)]
    assert moments[0].ratio == pytest.approx(5.0)
