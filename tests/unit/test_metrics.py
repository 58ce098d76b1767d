"""Prometheus exposition of a stage's counters (no server)."""

from __future__ import annotations

from chatpulse.metrics import StageMetrics, StageSnapshot
from chatpulse.run.status import render, stage_status


def test_exposition_shows_the_stage_counters_lag_and_latency() -> None:
    counts = {"in": 10}

    def snapshot() -> StageSnapshot:
        return StageSnapshot(
            events_in=counts["in"], events_out=9, errors={"decode": 1}, dead_letters=1, consumer_lag=42
        )

    metrics = StageMetrics("enrich", snapshot)
    metrics.observe_latency([0.2, 0.3, 3.0])
    counts["in"] = 12  # read at scrape time, not at construction
    text = metrics.exposition().decode()
    assert 'chatpulse_events_in_total{stage="enrich"} 12.0' in text
    assert 'chatpulse_events_out_total{stage="enrich"} 9.0' in text
    assert 'chatpulse_errors_total{kind="decode",stage="enrich"} 1.0' in text
    assert 'chatpulse_dead_letters_total{stage="enrich"} 1.0' in text
    assert 'chatpulse_consumer_lag{stage="enrich"} 42.0' in text
    assert 'chatpulse_end_to_end_latency_seconds_bucket{le="0.5",stage="enrich"} 2.0' in text
    assert 'chatpulse_end_to_end_latency_seconds_count{stage="enrich"} 3.0' in text


def test_a_failing_snapshot_still_answers_the_scrape() -> None:
    def broken() -> StageSnapshot:
        raise RuntimeError("boom")

    text = StageMetrics("sink", broken).exposition().decode()
    assert "chatpulse_end_to_end_latency_seconds" in text
    assert "chatpulse_events_in_total" not in text


def test_status_line_shows_rates_lag_and_errors() -> None:
    snap = StageSnapshot(
        events_in=12_345, events_out=12_000, errors={"decode": 2}, dead_letters=2, consumer_lag=7
    )
    line = render(stage_status("enrich", snap), {"enrich in": 2100.0, "out": 2000.0}, 5.0).plain
    assert "enrich in 12,345 2.1k/s" in line and "out 12,000 2.0k/s" in line
    assert "lag 7" in line and "dead letters 2" in line and "errors decode 2" in line
