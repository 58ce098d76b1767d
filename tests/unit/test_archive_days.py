"""Archive day planning and URL checks: what `chatpulse import` fetches, skips and refuses."""

from __future__ import annotations

import datetime as dt

import pytest

from chatpulse.archive.client import ChannelRef
from chatpulse.archive.days import is_complete, parse_available, plan_days
from chatpulse.archive.http import check_base_url
from chatpulse.errors import ArchiveError

D = dt.date


def test_rustlog_list_gives_days_oldest_first() -> None:
    answer = {
        "availableLogs": [{"year": "2024", "month": "1", "day": "6"}, {"year": 2023, "month": 12, "day": 31}]
    }
    assert parse_available(answer) == [D(2023, 12, 31), D(2024, 1, 6)]


def test_a_month_without_days_stands_for_each_of_its_days() -> None:
    days = parse_available({"availableLogs": [{"year": "2024", "month": "2"}]})
    assert days[0] == D(2024, 2, 1) and days[-1] == D(2024, 2, 29) and len(days) == 29


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        ({"messages": []}, "availableLogs"),
        ([1, 2], "availableLogs"),
        ({"availableLogs": ["2024-01-01"]}, "not an object"),
        ({"availableLogs": [{"year": "2024", "month": "13", "day": "1"}]}, "not a date"),
        ({"availableLogs": [{"year": "x", "month": "1", "day": "1"}]}, "not a number"),
        ({"availableLogs": [{"month": "1", "day": "1"}]}, "no 'year'"),
    ],
)
def test_a_list_of_another_shape_is_refused(answer: object, says: str) -> None:
    with pytest.raises(ArchiveError, match=says) as caught:
        parse_available(answer)
    assert not caught.value.retryable


def test_a_list_of_a_million_days_is_refused() -> None:
    months = [{"year": str(y), "month": str(m)} for y in range(1, 3000) for m in range(1, 13)]
    with pytest.raises(ArchiveError, match="more than"):
        parse_available({"availableLogs": months})


def test_plan_keeps_the_range_and_skips_stored_days() -> None:
    listed = [D(2024, 1, d) for d in range(1, 11)]
    plan = plan_days(listed, D(2024, 1, 3), D(2024, 1, 7), stored=[D(2024, 1, 4), D(2024, 1, 9)])
    assert plan.fetch == (D(2024, 1, 3), D(2024, 1, 5), D(2024, 1, 6), D(2024, 1, 7))
    assert plan.available == 5
    assert plan.already_stored == (D(2024, 1, 4),)
    assert plan_days(listed, None, None).fetch == tuple(listed)


def test_today_is_never_complete() -> None:
    now = dt.datetime(2024, 1, 6, 23, 59, tzinfo=dt.UTC)
    assert is_complete(D(2024, 1, 5), now)
    assert not is_complete(D(2024, 1, 6), now)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ftp://logs.example.org", "http:// or https://"),
        ("https://", "with a host"),
        ("https://user:secret@logs.example.org", "credentials"),
        ("https://logs.example.org/?channel=x", "without .query"),
        ("https://logs.example.org:99999", "bad port"),
    ],
)
def test_bad_archive_urls_are_refused_without_echoing_secrets(url: str, says: str) -> None:
    with pytest.raises(ArchiveError, match=says) as caught:
        check_base_url(url)
    assert "secret" not in str(caught.value)


def test_archive_url_and_channel_forms() -> None:
    assert check_base_url("https://logs.example.org/") == "https://logs.example.org"
    assert ChannelRef.of("#NymN", None).path() == "channel/nymn"
    assert ChannelRef.of(None, "62300805").key == "id:62300805"
    with pytest.raises(ArchiveError, match="digits"):
        ChannelRef.of(None, "../etc")
    with pytest.raises(ArchiveError, match="must match"):
        ChannelRef.of("../etc", None)
