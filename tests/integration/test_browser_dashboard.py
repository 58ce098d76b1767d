"""The dashboard in a real browser: `chatpulse run --demo` + headless Debian Chromium (Playwright).

Every panel must render with data, and what the page shows must equal what the API answers for
the same channels and window. A screenshot goes to the test's output folder; with
``CHATPULSE_SCREENSHOT=docs/dashboard.png`` the README's screenshot is refreshed as well.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
PANELS = ["kpis", "messages", "chatters", "sentiment", "emotes", "top-chatters", "feed", "events", "hype"]

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port: int = probe.getsockname()[1]
        return port


def _api(base: str, path: str, **query: Any) -> Any:
    url = f"{base}/api/{path}?{urllib.parse.urlencode(query, doseq=True)}"
    assert url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(url, timeout=20) as response:  # noqa: S310 - checked above
        return json.loads(response.read())


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[str]:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.fail("Debian chromium is missing: `make test` installs it (apt-get install chromium)")
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "chatpulse", "run", "--demo", "--demo-history", "12", "--duration", "180",
         "--port", str(port), "--store", f"chdb://{tmp_path / 'db'}", "--workers", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if _api(base, "channels")["channels"]:
                break
        except OSError:
            pass
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "the demo did not store any chat within 60 s"
        time.sleep(0.5)
    try:
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 0, stderr


def test_every_panel_renders_and_matches_the_api(demo: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1250})
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(demo)

        # 1. Live: every panel renders with data.
        for panel in PANELS:
            page.wait_for_selector(f'[data-panel="{panel}"][data-state="ready"]', timeout=90_000)
        page.wait_for_function("() => document.querySelectorAll('#feed li').length >= 10", timeout=30_000)
        assert page.locator("#waiting").is_hidden()
        assert page.locator(".chip.selected").count() == 4
        # Live chat follows the back-filled history: once it flows, the dot pulses.
        page.wait_for_selector("#live-dot:not(.stale)", timeout=60_000)
        page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
        docs_copy = os.environ.get("CHATPULSE_SCREENSHOT")
        if docs_copy:
            page.screenshot(path=docs_copy, full_page=True)

        # 2. Freeze a finished window (custom range ending 15 s ago) and compare with the API.
        channels = page.eval_on_selector_all(".chip.selected", "els => els.map(e => e.dataset.channel)")
        page.click('[data-range="custom"]')
        page.evaluate(
            """() => {
                const to = Math.floor((Date.now() - 15000) / 1000) * 1000;
                document.getElementById('custom-from').value = toInputValue(to - 120000);
                document.getElementById('custom-to').value = toInputValue(to);
            }"""
        )
        page.click("#custom-range button[type=submit]")
        page.wait_for_function(
            "() => { const k = document.getElementById('kpi-window').dataset;"
            " return Number(k.to) - Number(k.from) === 120000; }",
            timeout=20_000,
        )
        window = page.eval_on_selector(
            "#kpi-window", "el => [Number(el.dataset.from), Number(el.dataset.to)]"
        )
        query = {"channel": channels, "from": window[0], "to": window[1]}
        stable = _api(demo, "overview", **query)
        time.sleep(2.5)  # the page refreshes every 2 s; wait for a refresh after the data settled
        shown_fields = ("messages", "chatters", "mean_score")  # (moderation may still mark messages later)
        again = _api(demo, "overview", **query)["totals"]
        assert [again[f] for f in shown_fields] == [stable["totals"][f] for f in shown_fields], (
            "still filling"
        )
        page.wait_for_function(
            "since => Number(document.body.dataset.updated) > since",
            arg=time.time() * 1000 + 100,
            timeout=10_000,
        )
        page.click("#pause")

        totals = stable["totals"]
        assert page.inner_text("#kpi-messages") == f"{totals['messages']:,}"
        assert page.inner_text("#kpi-chatters") == f"{totals['chatters']:,}"
        assert page.inner_text("#kpi-score") == f"{totals['mean_score']:+.2f}"
        emotes = _api(demo, "emotes", limit=10, **query)["emotes"]
        shown = page.eval_on_selector_all(
            "#emotes li", "els => els.map(e => [e.dataset.name, +e.dataset.uses])"
        )
        assert shown == [[e["name"], e["uses"]] for e in emotes] and shown
        chatters = _api(demo, "chatters", limit=10, **query)["chatters"]
        shown = page.eval_on_selector_all(
            "#top-chatters li", "els => els.map(e => [e.dataset.login, +e.dataset.messages])"
        )
        assert shown == [[c["user_login"], c["messages"]] for c in chatters] and shown
        events = _api(demo, "events", limit=500, **query)["events"]
        assert page.get_attribute('[data-panel="events"]', "data-count") == str(len(events))
        series = _api(demo, "series", **query)["series"]
        traces = page.evaluate(
            "() => document.getElementById('chart-messages').data.map(t => t.y.reduce((a, b) => a + b, 0))"
        )
        per_minute = 60 / _api(demo, "series", **query)["window"]["bucket_s"]
        assert sum(traces) == pytest.approx(sum(r["messages"] for r in series) * per_minute)
        page.screenshot(path=str(tmp_path / "dashboard-custom-range.png"), full_page=True)
        assert problems == []
        browser.close()
