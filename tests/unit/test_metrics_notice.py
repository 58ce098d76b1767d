"""Where a stage serves its metrics is news (INFO, shown with -v), not a warning: a Kafka stage
started at the default verbosity prints no WARNING line for it."""

from __future__ import annotations

import logging
import urllib.request

import pytest

from chatpulse.metrics import StageMetrics, StageSnapshot
from chatpulse.services.runtime import serve_metrics


def test_metrics_address_is_logged_at_info(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    server = serve_metrics(StageMetrics("sink", StageSnapshot), "127.0.0.1", 0, lambda: (True, "ok"))
    assert server is not None
    try:
        with urllib.request.urlopen(f"{server.url}/healthz", timeout=10) as answer:  # noqa: S310 - local
            assert answer.status == 200  # it does serve there
    finally:
        server.stop()
    notices = [record for record in caplog.records if "metrics on" in record.getMessage()]
    assert [record.levelno for record in notices] == [logging.INFO]
    assert server.url in notices[0].getMessage()
