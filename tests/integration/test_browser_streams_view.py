"""The dashboard's streams view in real Chromium: ``chatpulse dashboard`` over a store filled by
``run --replay`` with the real xqcow capture as two chat sessions (as captured, and 3 hours
later). The page lists the channel's streams as ``/api/streams`` does; a click shows that
stream's recap in the page with ``/api/recap``'s figures. The two endpoints validate their
parameters like the others."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli import chatpulse, clean_env
from tests.streams_data import sessions_file

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


def _get(base: str, path: str, **query: Any) -> tuple[int, Any]:
    url = f"{base}{path}?{urllib.parse.urlencode(query, doseq=True)}"
    assert url.startswith("http://127.0.0.1:")
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - checked above
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


@pytest.fixture(scope="module")
def dashboard(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("streams-view")
    recording = sessions_file(
        shared_data / "replay" / "xqcow-2019-09-15.irc.gz", folder / "two.irc", [3 * 3_600_000]
    )
    dsn = f"chdb://{folder / 'db'}"
    done = chatpulse(folder, "run", "--replay", str(recording), "--speed", "max", "--no-dashboard",
                     "--store", dsn, "--workers", "0", timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "chatpulse", "dashboard", "--store", dsn, "--port", str(port)],
        cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=clean_env(),
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if _get(base, "/api/channels")[0] == 200:
                break
        except OSError:
            pass
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "the dashboard did not answer within 60 s"
        time.sleep(0.3)
    try:
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 0, stderr


def test_streams_and_recap_endpoints_validate_their_parameters(dashboard: str) -> None:
    status, body = _get(dashboard, "/api/streams", channel="xqcow")
    assert status == 200 and [s["id"] for s in body["streams"]] == [
        "chat-xqcow-20190915T0300", "chat-xqcow-20190915T0000",
    ]  # fmt: skip
    status, recap = _get(dashboard, "/api/recap", channel="xqcow", stream="chat-xqcow-20190915T0000")
    assert status == 200 and recap["stream"]["id"] == "chat-xqcow-20190915T0000"
    assert recap["summary"]["messages"] == body["streams"][1]["messages"]
    for path, query in (
        ("/api/streams", {"channel": "Robert'); DROP TABLE streams;--"}),
        ("/api/streams", {"channel": "xqcow,nymn"}),
        ("/api/streams", {}),
        ("/api/recap", {"channel": "xqcow", "stream": "../../etc/passwd"}),
        ("/api/recap", {"channel": "xqcow", "stream": "chat-xqcow-19990101T0000"}),
        ("/api/recap", {"channel": "xqcow", "since": "1h"}),
    ):
        status, answer = _get(dashboard, path, **query)
        assert status == 400 and answer["error"], (path, query)
    after = _get(dashboard, "/api/streams", channel="xqcow")[1]["streams"]
    assert after == body["streams"]  # the refused requests changed nothing


def test_a_click_opens_the_streams_recap_in_the_page(dashboard: str, tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.fail("Debian chromium is missing: `make test` installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    streams = _get(dashboard, "/api/streams", channel="xqcow")[1]["streams"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1100})
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(dashboard)
        page.wait_for_selector(
            '[data-panel="streams"][data-state="ready"][data-channel="xqcow"]', timeout=60_000
        )
        listed = page.eval_on_selector_all(
            "#streams li[data-stream-id]", "els => els.map(e => e.dataset.streamId)"
        )
        assert listed == [s["id"] for s in streams]
        older = streams[1]
        page.click(f'#streams li[data-stream-id="{older["id"]}"]')
        page.wait_for_selector(
            f'#stream-recap[data-state="ready"][data-stream="{older["id"]}"]', timeout=30_000
        )
        recap = _get(dashboard, "/api/recap", channel="xqcow", stream=older["id"])[1]
        assert page.inner_text('#stream-recap [data-kpi="messages"]') == f"{recap['summary']['messages']:,}"
        assert page.inner_text('#stream-recap [data-kpi="duration"]') == recap["summary"]["duration"]
        states = page.eval_on_selector_all(
            "#stream-recap [data-panel]", "els => els.map(e => e.dataset.state)"
        )
        assert len(states) == 9 and set(states) == {"ready"}
        assert page.locator("#streams li.selected").get_attribute("data-stream-id") == older["id"]
        page.screenshot(path=str(tmp_path / "streams-view.png"), full_page=True)
        assert problems == []
        browser.close()
