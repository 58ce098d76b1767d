"""The producer's on-disk spool: order, bounds, crash tolerance, one folder per process."""

from __future__ import annotations

from pathlib import Path

from chatpulse.transport.spool import RecordSpool, SpooledRecord, lock_spool_folder, read_segment


def _record(i: int) -> SpooledRecord:
    return SpooledRecord(
        topic="chatpulse.chat.raw.v1",
        value=f'{{"n": {i}}}'.encode(),
        key=b"xqcow" if i % 2 else None,
        headers=(("chatpulse.schema", b"1"), ("empty", None)),
    )


def _read_all(spool: RecordSpool) -> list[SpooledRecord]:
    return [record for segment in spool.segments() for record in read_segment(segment)]


def test_records_come_back_in_order_across_segments_and_restarts(tmp_path: Path) -> None:
    spool = RecordSpool(tmp_path, max_bytes=10**6, segment_bytes=300)
    for i in range(50):
        assert spool.append(_record(i))
    spool.close()
    assert len(spool.segments()) > 1
    reopened = RecordSpool(tmp_path, max_bytes=10**6, segment_bytes=300)
    assert reopened.size_bytes == spool.size_bytes
    assert reopened.append(_record(50))
    reopened.seal()
    assert _read_all(reopened) == [_record(i) for i in range(51)]


def test_a_full_spool_refuses_records_until_a_segment_is_removed(tmp_path: Path) -> None:
    spool = RecordSpool(tmp_path, max_bytes=1000, segment_bytes=200)
    accepted = 0
    while spool.append(_record(accepted)):
        accepted += 1
    assert 0 < accepted < 50
    assert spool.size_bytes <= 1000
    spool.seal()
    oldest = spool.segments()[0]
    sent = list(read_segment(oldest))
    spool.remove(oldest)
    assert spool.append(_record(999))
    spool.seal()
    assert _read_all(spool) == [_record(i) for i in range(len(sent), accepted)] + [_record(999)]


def test_a_torn_last_record_is_skipped_and_earlier_records_survive(tmp_path: Path) -> None:
    spool = RecordSpool(tmp_path, max_bytes=10**6)
    for i in range(3):
        spool.append(_record(i))
    spool.close()
    segment = spool.segments()[0]
    segment.write_bytes(segment.read_bytes()[:-5])  # a crash in the middle of the last write
    assert list(read_segment(segment)) == [_record(0), _record(1)]


def test_two_workers_of_one_stage_get_separate_folders_and_a_free_one_is_reused(tmp_path: Path) -> None:
    first = lock_spool_folder(tmp_path, "enrich")
    second = lock_spool_folder(tmp_path, "enrich")
    assert first.folder != second.folder
    first.release()
    third = lock_spool_folder(tmp_path, "enrich")
    assert third.folder == first.folder  # a restarted worker adopts what its predecessor left
    second.release()
    third.release()
