"""The archive client on its own against the local archive: plain and gzip bodies, cuts, refusals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatpulse.archive.client import ArchiveClient, ChannelRef, DayReader
from chatpulse.errors import ArchiveError
from chatpulse.sources.replay import iter_lines
from chatpulse.testing.archive_server import ArchiveData, ArchiveTestServer, Fault, capture_days

XQCOW = "xqcow-2019-09-15.irc.gz"


@pytest.fixture(params=[False, True], ids=["plain", "gzip"])
def server(shared_data: Path, request: pytest.FixtureRequest) -> Iterator[ArchiveTestServer]:
    data = ArchiveData()
    data.add(*capture_days(shared_data / "replay" / XQCOW))
    with ArchiveTestServer(data, gzip=request.param) as running:
        yield running


def _all(reader: DayReader | None) -> list[str]:
    assert reader is not None
    out: list[str] = []
    try:
        while chunk := reader.read(700):
            out.extend(chunk)
    finally:
        reader.close()
    return out


def test_a_day_comes_back_line_for_line(server: ArchiveTestServer, shared_data: Path) -> None:
    client = ArchiveClient(server.url, timeout_s=5)
    [day] = client.list_days(ChannelRef.of("xqcow", None))
    assert day == dt.date(2019, 9, 15)
    assert _all(client.open_day(ChannelRef.of("xqcow", None), day)) == list(
        iter_lines(shared_data / "replay" / XQCOW)
    )
    assert client.open_day(ChannelRef.of("xqcow", None), dt.date(2019, 9, 14)) is None, "no log: 404"


def test_a_cut_body_is_retryable_and_hands_out_no_partial_line(server: ArchiveTestServer) -> None:
    client = ArchiveClient(server.url, timeout_s=5)
    day = dt.date(2019, 9, 15)
    server.fault("xqcow", day, Fault("cut", times=1))
    reader = client.open_day(ChannelRef.of("xqcow", None), day)
    assert reader is not None
    got: list[str] = []
    try:
        with pytest.raises(ArchiveError, match="cut off") as caught:
            while chunk := reader.read(700):
                got.extend(chunk)
    finally:
        reader.close()
    assert caught.value.retryable
    whole = _all(client.open_day(ChannelRef.of("xqcow", None), day))
    assert got == whole[: len(got)] and len(got) < len(whole), "only whole lines before the cut"


def test_an_archive_that_does_not_answer_is_retryable() -> None:
    refused = ArchiveClient("http://127.0.0.1:9", timeout_s=1)  # the discard port: nothing listens
    with pytest.raises(ArchiveError) as caught:
        refused.list_days(ChannelRef.of("xqcow", None))
    assert caught.value.retryable and "127.0.0.1:9/list?channel=xqcow" in str(caught.value)
