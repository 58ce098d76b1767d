"""Third-party emotes: provider responses, the disk cache, refresh/stale policy, and the index."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest

from chatpulse.emotes import EmoteCache, EmoteFetchError, EmoteIndex, EmoteLoader, EmoteSet, Endpoints
from chatpulse.emotes.loader import EmoteSetNotFound
from chatpulse.emotes.providers import ResponseShapeError, parse_response
from chatpulse.events import MessageEvent
from chatpulse.irc.twitch import parse_line
from chatpulse.sources.synthetic.chat import generate_lines

SAVED = Path(__file__).resolve().parents[1] / "data" / "emote_api"
XQC = "71092938"
ENDPOINTS = Endpoints("https://seventv.test/7tv", "https://bttv.test/bttv", "https://ffz.test/ffz")


def saved(path: str) -> Any:
    return json.loads((SAVED / f"{path}.json").read_text(encoding="utf-8"))


class SavedResponses:
    """Answers GETs from the saved responses (the HTTP path itself is tested in integration)."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.down = False

    def __call__(self, url: str, timeout_s: float) -> Any:
        self.calls.append(url)
        if self.down:
            raise EmoteFetchError("cannot reach provider (Network is unreachable)")
        path = url.split(".test/", 1)[1]
        if not (SAVED / f"{path}.json").is_file():
            raise EmoteSetNotFound(url)
        return saved(path)


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


# --- provider responses ------------------------------------------------------------------------


def names(pairs: list[tuple[str, str]]) -> list[str]:
    return [name for _, name in pairs]


def test_7tv_sets_use_the_name_chatters_type_including_aliases() -> None:
    assert names(parse_response("7tv", None, saved("7tv/emote-sets/global"))) == [
        "EZ",
        "Clap",
        "RainTime",
        "KEKW",
    ]
    channel = parse_response("7tv", XQC, saved(f"7tv/users/twitch/{XQC}"))
    assert names(channel) == ["catJAM", "xqcJAM", "KEKW"]  # xqcJAM is an alias of pepeJAM
    assert channel[0] == ("6f1b00000000000000000001", "catJAM")


def test_7tv_user_without_an_emote_set_has_no_emotes() -> None:
    doc = saved(f"7tv/users/twitch/{XQC}")
    assert parse_response("7tv", XQC, {**doc, "emote_set": None}) == []
    assert parse_response("7tv", XQC, {**doc, "emote_set": {**doc["emote_set"], "emotes": None}}) == []


def test_bttv_channel_sets_include_shared_emotes() -> None:
    assert names(parse_response("bttv", None, saved("bttv/cached/emotes/global"))) == [
        ":tf:",
        "D:",
        "monkaS",
        "Clap",
    ]
    assert names(parse_response("bttv", XQC, saved(f"bttv/cached/users/twitch/{XQC}"))) == [
        "xqcPls",
        "OMEGALUL",
        "catJAM",
    ]


def test_ffz_global_keeps_only_the_default_sets() -> None:
    assert names(parse_response("ffz", None, saved("ffz/set/global"))) == ["CatBag", "ZreknarF"]
    room = parse_response("ffz", XQC, saved(f"ffz/room/id/{XQC}"))
    assert room[0] == ("381875", "KEKW")  # numeric FFZ ids become strings
    assert names(room) == ["KEKW", "Sadge", "xqcFFZ"]


def test_a_response_of_the_wrong_shape_is_a_clear_error() -> None:
    with pytest.raises(ResponseShapeError, match="bttv global: unexpected response shape"):
        parse_response("bttv", None, {"message": "rate limited"})
    with pytest.raises(ResponseShapeError, match="ffz channel 1"):
        parse_response("ffz", "1", {"error": "nope"})


def test_endpoint_urls_follow_the_documented_paths() -> None:
    real = Endpoints()
    assert real.url("7tv", None) == "https://7tv.io/v3/emote-sets/global"
    assert real.url("7tv", XQC) == f"https://7tv.io/v3/users/twitch/{XQC}"
    assert real.url("bttv", None) == "https://api.betterttv.net/3/cached/emotes/global"
    assert real.url("bttv", XQC) == f"https://api.betterttv.net/3/cached/users/twitch/{XQC}"
    assert real.url("ffz", None) == "https://api.frankerfacez.com/v1/set/global"
    assert real.url("ffz", XQC) == f"https://api.frankerfacez.com/v1/room/id/{XQC}"
    with pytest.raises(ValueError, match="digits"):
        real.url("ffz", "../etc")


# --- cache and loader ----------------------------------------------------------------------------


def make_loader(tmp_path: Path) -> tuple[EmoteLoader, SavedResponses, Clock]:
    http, clock = SavedResponses(), Clock()
    loader = EmoteLoader(EmoteCache(tmp_path), ENDPOINTS, max_age_s=3600, http_get=http, clock=clock)
    return loader, http, clock


def test_sets_are_fetched_once_then_served_from_the_cache_until_stale(tmp_path: Path) -> None:
    loader, http, clock = make_loader(tmp_path)
    report = loader.load_all([XQC])
    assert report.ok and len(report.sets) == 6 and len(http.calls) == 6
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith("json")) == [
        "channel-71092938-7tv.json",
        "channel-71092938-bttv.json",
        "channel-71092938-ffz.json",
        "global-7tv.json",
        "global-bttv.json",
        "global-ffz.json",
    ]
    clock.now += 1800
    assert loader.load_all([XQC]).ok and len(http.calls) == 6  # fresh: no request
    clock.now += 3600
    assert loader.load("bttv", XQC).fetched_at == clock.now and len(http.calls) == 7
    assert loader.load("bttv", XQC, force=True) and len(http.calls) == 8


def test_offline_the_stale_cache_is_used_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    loader, http, clock = make_loader(tmp_path)
    loader.load_all([XQC])
    clock.now += 10 * 3600
    http.down = True
    with caplog.at_level(logging.WARNING, logger="chatpulse.emotes.loader"):
        report = loader.load_all([XQC])
    assert len(report.sets) == 6 and not report.failed and len(report.stale) == 6
    assert "using the cached set from 10.0 h ago" in caplog.text
    assert "cannot reach provider" in report.summary()
    assert ("7tv channel 71092938", "cannot reach provider (Network is unreachable)") in report.stale


def test_offline_without_a_cache_is_an_error(tmp_path: Path) -> None:
    loader, http, _ = make_loader(tmp_path)
    http.down = True
    with pytest.raises(EmoteFetchError, match="7tv global: cannot reach provider"):
        loader.load("7tv", None)
    report = loader.load_all()
    assert report.sets == [] and len(report.failed) == 3


def test_a_channel_unknown_to_a_provider_has_an_empty_set(tmp_path: Path) -> None:
    loader, http, _ = make_loader(tmp_path)
    report = loader.load_all(["12345"])
    assert report.ok
    empty = [s for s in report.sets if s.channel_id == "12345"]
    assert [s.emotes for s in empty] == [(), (), ()]
    loader.load_all(["12345"])
    assert len(http.calls) == 6  # the empty answer is cached too


def test_a_malformed_response_falls_back_to_the_cache(tmp_path: Path) -> None:
    loader, http, clock = make_loader(tmp_path)
    loader.load("bttv", None)
    clock.now += 7200
    loader._get = lambda url, timeout: {"message": "changed API"}
    emote_set = loader.load("bttv", None)
    assert "D:" in dict((n, i) for i, n in emote_set.emotes)


def test_corrupt_cache_files_read_as_missing(tmp_path: Path) -> None:
    cache = EmoteCache(tmp_path)
    cache.write(EmoteSet("ffz", None, (("1", "CatBag"),), 5.0))
    assert cache.read("ffz", None) == EmoteSet("ffz", None, (("1", "CatBag"),), 5.0)
    (tmp_path / "global-ffz.json").write_text("{not json", encoding="utf-8")
    assert cache.read("ffz", None) is None
    (tmp_path / "global-7tv.json").write_text('{"emotes": 3}', encoding="utf-8")
    assert cache.read("7tv", None) is None


def test_channel_ids_are_remembered_by_login(tmp_path: Path) -> None:
    cache = EmoteCache(tmp_path / "nested")
    assert cache.channel_id("xqcow") is None
    cache.remember_channel_id("xQcOW", XQC)
    assert EmoteCache(tmp_path / "nested").channel_id("xqcow") == XQC
    with pytest.raises(ValueError):
        cache.remember_channel_id("bad name", XQC)
    with pytest.raises(ValueError):
        cache.remember_channel_id("ok", "12a")


# --- the index -----------------------------------------------------------------------------------


@pytest.fixture
def index(tmp_path: Path) -> EmoteIndex:
    loader, _, _ = make_loader(tmp_path)
    loader.load_all([XQC])
    loader.cache.remember_channel_id("xqcow", XQC)
    return EmoteIndex.from_cache(loader.cache)  # offline: only what the cache holds


def message(text: str, emotes_tag: str = "", channel: str = "xqcow", room_id: str = XQC) -> MessageEvent:
    line = (
        f"@badge-info=;badges=;color=;display-name=Viewer;emotes={emotes_tag};id=abc;"
        f"room-id={room_id};tmi-sent-ts=1;user-id=1"
        f" :viewer!viewer@viewer.tmi.twitch.tv PRIVMSG #{channel} :{text}"
    )
    event = parse_line(line, 0)
    assert isinstance(event, MessageEvent)
    return event


def test_third_party_emotes_are_added_with_code_point_spans(index: EmoteIndex) -> None:
    event = message("😂 KEKW Kappa  Sadge D: catJAM", emotes_tag="25:7-11")
    out = index.annotate(event)
    assert [(e.name, e.provider) for e in out.emotes] == [
        ("KEKW", "7tv"),
        ("Kappa", "twitch"),
        ("Sadge", "ffz"),
        ("D:", "bttv"),
        ("catJAM", "7tv"),
    ]
    assert all(out.text[e.start : e.end] == e.name for e in out.emotes)
    assert [e.start for e in out.emotes] == sorted(e.start for e in out.emotes)
    assert event.emotes == out.emotes[1:2]  # the input event is left untouched


def test_channel_sets_beat_global_ones_and_7tv_beats_bttv_and_ffz(index: EmoteIndex) -> None:
    (kekw, catjam, clap) = index.annotate(message("KEKW catJAM Clap")).emotes
    assert (kekw.provider, kekw.id) == ("7tv", "6f1b00000000000000000003")  # channel 7TV, not FFZ/global
    assert (catjam.provider, catjam.id) == ("7tv", "6f1b00000000000000000001")  # not BTTV shared
    assert (clap.provider, clap.id) == ("7tv", "6f1a00000000000000000002")  # global 7TV over BTTV


def test_only_whole_words_match_case_sensitively(index: EmoteIndex) -> None:
    event = message("KEKWait kekw catJAMs @KEKW KEKW, EZ")
    assert [e.name for e in index.annotate(event).emotes] == ["EZ"]


def test_other_channels_only_see_global_emotes(index: EmoteIndex) -> None:
    out = index.annotate(message("KEKW xqcPls EZ D:", channel="someoneelse", room_id="999"))
    assert [(e.name, e.provider) for e in out.emotes] == [("KEKW", "7tv"), ("EZ", "7tv"), ("D:", "bttv")]
    assert out.emotes[0].id == "6f1a00000000000000000004"  # the global KEKW, not xqc's


def test_a_channel_is_found_by_login_when_the_event_has_no_room_id(index: EmoteIndex) -> None:
    out = index.annotate(message("xqcPls", room_id=""))
    assert [(e.name, e.provider) for e in out.emotes] == [("xqcPls", "bttv")]


def test_twitch_tag_emotes_are_never_overlapped(index: EmoteIndex) -> None:
    # A channel whose Twitch sub emote is literally named "Clap": the tag wins.
    out = index.annotate(message("Clap Clap EZ", emotes_tag="emotesv2_abc:0-3,5-8"))
    assert [(e.name, e.provider, e.start) for e in out.emotes] == [
        ("Clap", "twitch", 0),
        ("Clap", "twitch", 5),
        ("EZ", "7tv", 10),
    ]


def test_a_message_without_third_party_emotes_is_returned_as_is(index: EmoteIndex) -> None:
    event = message("hello chat Kappa", emotes_tag="25:11-15")
    assert index.annotate(event) is event


def test_annotating_is_fast_enough_for_every_message(index: EmoteIndex) -> None:
    events = [
        e
        for e in (parse_line(line, 0) for line in generate_lines(20_000, seed=5))
        if isinstance(e, MessageEvent)
    ]
    busy = EmoteIndex(
        [
            EmoteSet(
                "7tv",
                None,
                tuple((str(i), n) for i, n in enumerate(["KEKW", "Sadge", "catJAM", "EZ", "Clap"])),
                0,
            )
        ]
    )
    started = time.perf_counter()
    annotated = [busy.annotate(e) for e in events]
    rate = len(events) / (time.perf_counter() - started)
    assert sum(len(a.emotes) > len(e.emotes) for a, e in zip(annotated, events, strict=True)) > 1000
    assert rate > 20_000, f"{rate:,.0f} msgs/s"  # ~120k msgs/s measured alone; the CI machine is shared
