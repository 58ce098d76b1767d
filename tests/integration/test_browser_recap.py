"""The recap file in a real browser (headless Debian Chromium through Playwright) with the
network off: for each real capture (replayed as an earlier session and a later one whose last
minutes chat echoes itself), every panel renders with content, what it shows equals the recap's
JSON, no request leaves the page and the console stays clean. With
``CHATPULSE_RECAP_SCREENSHOT=docs/recap.png`` the README's screenshot is refreshed too."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.cli import chatpulse
from tests.streams_data import capture_lines, echoed, minutes_of, shifted

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
PANELS = ["summary", "activity", "mood", "hype", "negative", "timeline", "emotes", "chatters", "comparison"]
LATER_MS = 3 * 3_600_000
CAPTURES = {"xqcow": "xqcow-2019-09-15.irc.gz", "nymn": "nymn-2024-01-06.json"}

pytestmark = pytest.mark.slow


def _recap(folder: Path, capture: Path, channel: str) -> tuple[Path, dict[str, Any]]:
    lines = capture_lines(capture)
    later = shifted(lines, LATER_MS, "later")
    echo = echoed(later, minutes_of(later)[-2], 3, "echo")  # a clip-worthy minute near the end
    recording = folder / f"{channel}.irc"
    recording.write_text("\n".join(lines + later + echo) + "\n", encoding="utf-8")
    dsn = f"chdb://{folder / 'db'}"
    done = chatpulse(folder, "run", "--replay", str(recording), "--speed", "max", "--no-dashboard",
                     "--store", dsn, "--workers", "0", timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    page = folder / "recap.html"
    for args in (("--output", str(page)), ("--json",)):
        done = chatpulse(folder, "recap", "--channel", channel, "--store", dsn, *args)
        assert done.returncode == 0, done.stderr
    return page, json.loads(done.stdout)


@pytest.mark.parametrize("channel", sorted(CAPTURES))
def test_recap_renders_offline_with_every_panel(channel: str, shared_data: Path, tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.fail("Debian chromium is missing: `make test` installs it (apt-get install chromium)")
    from playwright.sync_api import Route, sync_playwright

    page_file, recap = _recap(tmp_path, shared_data / "replay" / CAPTURES[channel], channel)
    html = page_file.read_text(encoding="utf-8")
    assert "<script src" not in html and "<link" not in html and "@import" not in html

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(offline=True, viewport={"width": 1400, "height": 1000})
        requests: list[str] = []

        def refuse(route: Route) -> None:
            requests.append(route.request.url)
            route.abort()

        context.route("http*://**/*", refuse)  # any network request would be seen and refused
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
        page.goto(page_file.as_uri())
        page.wait_for_selector("body[data-state=ready]", timeout=30_000)
        states = page.eval_on_selector_all(
            "[data-panel]", "els => els.map(e => [e.dataset.panel, e.dataset.state])"
        )
        assert states == [[name, "ready"] for name in PANELS]

        summary = recap["summary"]
        assert page.inner_text('[data-kpi="messages"]') == f"{summary['messages']:,}"
        assert page.inner_text('[data-kpi="chatters"]') == f"{summary['chatters']:,}"
        assert page.inner_text('[data-kpi="mood"]') == f"{summary['mood']:+.2f}"
        assert page.inner_text('[data-kpi="duration"]') == summary["duration"]
        bars = page.evaluate(
            "() => document.querySelector('[data-panel=activity] .rc-chart').data[0].y"
            ".reduce((a, b) => a + b, 0)"
        )
        assert bars == summary["messages"]
        hype = page.eval_on_selector_all(
            '[data-panel="hype"] .rc-moment', "els => els.map(e => e.dataset.offset)"
        )
        assert hype == [h["offset"] for h in recap["hype_moments"]] and hype
        emotes = page.eval_on_selector_all(
            '[data-panel="emotes"] li', "els => els.map(e => [e.dataset.name, +e.dataset.uses, e.innerText])"
        )
        assert [[name, uses] for name, uses, _ in emotes] == [
            [e["name"], e["uses"]] for e in recap["top_emotes"]
        ]
        assert all(name in text for name, _, text in emotes) and emotes  # names shown offline
        assert page.locator("img").count() == 0  # offline: no emote image asked for
        chatters = page.eval_on_selector_all(
            '[data-panel="chatters"] li[data-login]',
            "els => els.map(e => [e.dataset.login, +e.dataset.messages])",
        )
        assert chatters == [[c["login"], c["messages"]] for c in recap["top_chatters"]]
        events = page.get_attribute('[data-panel="timeline"] .rc-chart', "data-events")
        assert events == str(len(recap["events"])) and recap["events"]
        assert "mean of previous 1" in page.inner_text('[data-panel="comparison"]')
        page.screenshot(path=str(tmp_path / "recap.png"), full_page=True)
        target = os.environ.get("CHATPULSE_RECAP_SCREENSHOT")
        if target and channel == "xqcow":
            page.screenshot(path=target, full_page=True)
        assert requests == [] and problems == []
        browser.close()
