"""An alert's dashboard link in a real browser: it opens the alert's channel over the moment's window.

A replay of real chat (the xqcow capture on the scripted timeline) posts its hype alert to a
receiver on 127.0.0.1; ``chatpulse dashboard`` then serves the stored chat, and headless Debian
Chromium (Playwright) opens the link the alert carries.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from chatpulse.testing.webhook_receiver import WebhookReceiver
from chatpulse.times import parse_time
from tests.alert_recordings import HYPE_MINUTE, STORY, scripted, write

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """(store DSN, port) of a dashboard that starts once the test has filled the store."""
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.fail("Debian chromium is missing: `make test` installs it (apt-get install chromium)")
    yield f"chdb://{tmp_path / 'db'}", _free_port()


def test_the_hype_alerts_link_opens_its_channel_and_moment(
    dashboard: tuple[str, int], shared_data: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    dsn, port = dashboard
    story = write(tmp_path / "xqcow.irc", scripted(shared_data / "replay" / "xqcow-2019-09-15.irc.gz"))
    with WebhookReceiver() as hook:
        done = subprocess.run(
            [sys.executable, "-m", "chatpulse", "run", "--replay", str(story), "--speed", "max",
             "--no-dashboard", "--workers", "0", "--store", dsn, "--alerts-on-replay",
             "--alert-webhook", hook.url()],
            capture_output=True, text=True, timeout=180, cwd=tmp_path, check=False,
            env={**_clean_env(), "CHATPULSE_ALERTS__DASHBOARD_URL": f"http://127.0.0.1:{port}"},
        )  # fmt: skip
        bodies = hook.wait_for(1, timeout=5)
    assert done.returncode == 0, done.stderr
    hype = next(b for b in bodies if b["kind"] == "hype")
    link = hype["dashboard_url"]
    query = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    assert int(query["from"]) < parse_time(hype["at"]) < int(query["to"])

    server = subprocess.Popen(
        [sys.executable, "-m", "chatpulse", "dashboard", "--store", dsn, "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=_clean_env(),
    )  # fmt: skip
    try:
        _wait_for_api(f"http://127.0.0.1:{port}", server)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 1250})
            page.goto(link)
            page.wait_for_selector('[data-panel="hype"][data-state="ready"]', timeout=60_000)
            page.wait_for_function("() => document.getElementById('kpi-window').dataset.from", timeout=30_000)
            window = page.eval_on_selector("#kpi-window", "el => [el.dataset.from, el.dataset.to]")
            selected = page.eval_on_selector_all(".chip.selected", "els => els.map(e => e.dataset.channel)")
            active = page.eval_on_selector("[data-range].active", "el => el.dataset.range")
            moments = page.eval_on_selector_all(
                ".hype-card", "els => els.map(e => [e.dataset.channel, e.dataset.t])"
            )
            browser.close()
    finally:
        server.terminate()
        server.communicate(timeout=30)
    assert [int(t) for t in window] == [int(query["from"]), int(query["to"])]
    assert selected == ["xqcow"] and active == "custom"
    # The page's hype panel shows the moment the alert announced, and only it.
    assert parse_time(hype["minute"]) == STORY.minute(HYPE_MINUTE)
    assert [(channel, int(t)) for channel, t in moments] == [("xqcow", STORY.minute(HYPE_MINUTE))]


def _clean_env() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CHATPULSE_", "KAFKA_")) and "PROXY" not in k.upper()
    }


def _wait_for_api(base: str, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/api/channels", timeout=5) as response:  # noqa: S310 - 127.0.0.1
                if json.loads(response.read())["channels"]:
                    return
        except OSError:
            pass
        assert server.poll() is None, server.stderr.read() if server.stderr else ""
        assert time.monotonic() < deadline, "the dashboard did not answer within 60 s"
        time.sleep(0.3)
