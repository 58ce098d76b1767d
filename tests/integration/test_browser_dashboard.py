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

        _check_readability(page, demo)

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
        answer = _api(demo, "series", **query)
        traces = page.evaluate(
            "() => document.getElementById('chart-messages').data.map(t => t.y.reduce((a, b) => a + b, 0))"
        )
        # msgs/min over the part of each bucket inside the window (its first and last stick out).
        w = answer["window"]
        spans = [
            min(r["t"] + w["bucket_s"] * 1000, w["to"]) - max(r["t"], w["from"]) for r in answer["series"]
        ]
        rates = [r["messages"] * 60_000 / span for r, span in zip(answer["series"], spans, strict=True)]
        assert sum(traces) == pytest.approx(sum(rates))
        page.screenshot(path=str(tmp_path / "dashboard-custom-range.png"), full_page=True)
        assert problems == []
        browser.close()


def _luminance(rgb: tuple[int, ...]) -> float:
    """WCAG 2 relative luminance of an sRGB colour."""
    linear = [c / 255 / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _rgb(css: str) -> tuple[int, ...]:
    return tuple(int(part) for part in css[css.index("(") + 1 : css.index(")")].split(",")[:3])


def _overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (
        a["right"] <= b["left"]
        or b["right"] <= a["left"]
        or a["bottom"] <= b["top"]
        or b["bottom"] <= a["top"]
    )


def _check_readability(page: Any, demo: str) -> None:
    """What a viewer of the live demo notices: legends free of the chart toolbar, one channel's
    sentiment at a time, readable user names, a still-filling last bucket marked as such, events
    over the whole window, and a hint when the window holds no chat of a channel."""
    # Chart toolbars (shown on hover) never cover a legend.
    for chart in ("chart-messages", "chart-chatters", "chart-sentiment", "chart-events"):
        page.hover(f"#{chart} .plot-container")
        boxes = page.evaluate(
            """id => { const root = document.getElementById(id);
                const box = (sel) => { const e = root.querySelector(sel); if (!e) return null;
                  const r = e.getBoundingClientRect();
                  return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
                return [box('.modebar'), box('g.legend')]; }""",
            chart,
        )
        toolbar, legend = boxes
        assert toolbar and legend, chart
        assert not _overlaps(toolbar, legend), chart

    # Sentiment: one channel's bars and mean at a time, chosen with the panel's chips.
    chips = page.eval_on_selector_all("#sentiment-channels .mini", "els => els.map(e => e.dataset.channel)")
    assert len(chips) == 4
    names = page.evaluate("() => document.getElementById('chart-sentiment').data.map(t => t.name)")
    assert names == ["positive", "neutral", "negative", f"{chips[0]} mean"]
    page.click(f'#sentiment-channels .mini[data-channel="{chips[1]}"]')
    page.wait_for_function(
        "name => document.getElementById('chart-sentiment').data[3].name === name", arg=f"{chips[1]} mean"
    )

    # User names: every colour in the feed reads at 4.5:1 or more on the feed's background,
    # including the demo's dark blue and dark green.
    page.wait_for_function(
        "() => [...document.querySelectorAll('#feed .user')]"
        ".some(u => ['#0000FF', '#008000'].includes(u.dataset.color))",
        timeout=30_000,
    )
    shown = page.eval_on_selector_all(
        "#feed li .user[data-color]",
        "els => els.map(e => [e.dataset.color, getComputedStyle(e).color,"
        " getComputedStyle(e.parentElement).backgroundColor])",
    )
    assert shown
    for picked, color, background in shown:
        assert _contrast(_rgb(color), _rgb(background)) >= 4.5, (picked, color)

    # The live window's last bucket is still filling: drawn dotted, apart from the settled line
    # (once it covers half its 10 s; before that it is left out).
    dotted = page.wait_for_function(
        "() => { const names = document.getElementById('chart-messages').data"
        ".filter(t => t.line.dash === 'dot').map(t => t.name); return names.length && names; }",
        timeout=20_000,
    ).json_value()
    assert dotted and all(name.endswith("(in progress)") for name in dotted)

    # No hole where live chat follows the back-fill: every channel has chat in every 10 s bucket
    # from its first to its newest.
    series = _api(demo, "series", channel=chips, range="15m")
    step = series["window"]["bucket_s"] * 1000
    for channel in chips:
        times = [row["t"] for row in series["series"] if row["channel"] == channel]
        assert times == list(range(times[0], times[-1] + step, step)), channel

    # Events: the whole 15 minutes, counted per bucket when there are many.
    events = _api(demo, "events", limit=500, channel=chips, range="15m")
    assert page.get_attribute('[data-panel="events"]', "data-total") is not None
    assert events["bucketed"]  # 15 minutes of four busy demo chats: thousands of events
    first_chat = min(row["t"] for row in _api(demo, "series", channel=chips, range="15m")["series"])
    first_event = min(item["t"] for item in events["events"])
    assert first_event <= first_chat + 2 * events["window"]["bucket_s"] * 1000
    assert sum(item["count"] for item in events["events"]) == events["total"] > 500

    # A window after all chat: every channel is listed with when it last spoke and what to do.
    later = int(time.time() * 1000) + 3_600_000
    page.goto(f"{demo}/?channel={','.join(chips).upper()}&from={later}&to={later + 600_000}")
    page.wait_for_selector("#window-hint:not(.hidden)", timeout=20_000)
    hinted = page.eval_on_selector_all(
        "#window-hint [data-channel]", "els => els.map(e => e.dataset.channel)"
    )
    assert sorted(hinted) == sorted(chips)
    assert "widen the range" in page.inner_text("#window-hint")
    page.goto(demo)
    page.wait_for_selector('[data-panel="messages"][data-state="ready"]', timeout=30_000)
