"""WebhookSender against receivers on 127.0.0.1: drop-oldest queue, retries, refusals, redaction."""

from __future__ import annotations

import logging
import time

import pytest

from chatpulse.alerts.webhook import WebhookSender
from chatpulse.testing.webhook_receiver import WebhookReceiver

SECRET = "T0KEN-in-the-path"


def test_a_full_queue_drops_its_oldest_alert_counted_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    with WebhookReceiver(hang=True) as hook:
        sender = WebhookSender(hook.url(f"/hook/{SECRET}"), queue_size=2, timeout_s=30)
        sender.send({"n": 0})  # taken by the sending thread, which then hangs on the receiver
        deadline = time.monotonic() + 5
        while hook.open_requests == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="chatpulse.alerts.webhook"):
            for n in range(1, 6):
                sender.send({"n": n})
        assert time.monotonic() - started < 1.0  # send() never waits for the network
        assert (sender.stats.queued, sender.stats.dropped, sender.pending) == (6, 3, 3)
        hook.release()  # the hanging request ends without an answer: a network error, retried
        sender.close(drain_s=0.5)
    assert "dropped its oldest queued alert (3 dropped so far)" in caplog.text
    assert SECRET not in caplog.text


def test_a_refused_request_is_not_retried_but_a_rate_limit_is() -> None:
    with (
        WebhookReceiver(fail_first=1, fail_status=404) as refused,
        WebhookReceiver(fail_first=1, fail_status=429) as limited,
    ):
        senders = [WebhookSender(hook.url(), base_backoff_s=0.05) for hook in (refused, limited)]
        for sender in senders:
            sender.send({"kind": "hype"})
        for sender in senders:
            sender.close(drain_s=10)
        not_found, retried = senders
    assert (len(refused.requests), refused.bodies, not_found.stats.failed) == (1, [], 1)
    assert not_found.stats.last_error == "HTTP 404"
    assert (len(limited.requests), limited.bodies, retried.stats.sent) == (2, [{"kind": "hype"}], 1)
    assert retried.stats.retries == 1


def test_a_redirecting_webhook_is_refused_not_followed() -> None:
    # urllib would follow a 302 as a GET without the body, and the alert would look delivered.
    with WebhookReceiver(fail_first=1, fail_status=302) as hook:
        sender = WebhookSender(hook.url(), base_backoff_s=0.05)
        sender.send({"kind": "hype"})
        sender.close(drain_s=10)
    assert hook.requests == ["/hook"]
    assert (sender.stats.sent, sender.stats.failed, sender.stats.last_error) == (0, 1, "HTTP 302")


def test_an_unreachable_webhook_gives_up_after_its_attempts_without_naming_the_path(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with WebhookReceiver() as hook:
        url = hook.url(f"/hook/{SECRET}")
    # The receiver is gone: connection refused at every attempt.
    sender = WebhookSender(url, max_attempts=3, base_backoff_s=0.01, max_backoff_s=0.05)
    with caplog.at_level(logging.INFO, logger="chatpulse.alerts.webhook"):
        sender.send({"kind": "raid"})
        sender.close(drain_s=10)
    assert (sender.stats.sent, sender.stats.retries, sender.stats.failed) == (0, 2, 1)
    assert "gave up on an alert: ConnectionRefusedError" in caplog.text
    assert SECRET not in caplog.text and "/hook" not in caplog.text
