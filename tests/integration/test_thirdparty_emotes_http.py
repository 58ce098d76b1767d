"""Third-party emotes over real HTTP: a local server on 127.0.0.1 plays 7TV, BTTV and FFZ.

It serves the saved responses in tests/data/emote_api at the providers' paths, so the fetch code,
the cache and the ``chatpulse emotes`` commands run exactly as against the real APIs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from chatpulse.emotes import EmoteCache, EmoteFetchError, EmoteLoader, Endpoints, http_get_json
from chatpulse.emotes.loader import EmoteSetNotFound

SAVED = Path(__file__).resolve().parents[1] / "data" / "emote_api"
XQC = "71092938"


@dataclass
class FakeProviders:
    base: str
    requests: list[str] = field(default_factory=list)
    broken: bool = False  # answer 503 to everything

    @property
    def endpoints(self) -> Endpoints:
        return Endpoints(f"{self.base}/7tv", f"{self.base}/bttv", f"{self.base}/ffz")

    def env(self, cache: Path) -> dict[str, str]:
        return {
            **os.environ,
            "CHATPULSE_EMOTES__SEVENTV_API": f"{self.base}/7tv",
            "CHATPULSE_EMOTES__BTTV_API": f"{self.base}/bttv",
            "CHATPULSE_EMOTES__FFZ_API": f"{self.base}/ffz",
            "CHATPULSE_EMOTES__CACHE_DIR": str(cache),
        }


@pytest.fixture
def providers() -> Iterator[FakeProviders]:
    state = FakeProviders(base="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append(self.path)
            file = SAVED / f"{self.path.lstrip('/')}.json"
            if state.broken:
                self._send(503, b"<html>upstream down</html>", "text/html")
            elif self.path == "/bttv/notjson":
                self._send(200, b"<html>", "text/html")
            elif ".." not in self.path and file.is_file():
                self._send(200, file.read_bytes(), "application/json")
            else:
                self._send(404, b'{"message":"user not found"}', "application/json")

        def _send(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # keep pytest output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_http_get_json_decodes_and_maps_failures(providers: FakeProviders) -> None:
    doc = http_get_json(f"{providers.base}/bttv/cached/emotes/global", 5.0)
    assert [e["code"] for e in doc][:2] == [":tf:", "D:"]
    with pytest.raises(EmoteSetNotFound):
        http_get_json(f"{providers.base}/bttv/cached/users/twitch/1", 5.0)
    with pytest.raises(EmoteFetchError, match="not JSON"):
        http_get_json(f"{providers.base}/bttv/notjson", 5.0)
    providers.broken = True
    with pytest.raises(EmoteFetchError, match="HTTP 503"):
        http_get_json(f"{providers.base}/bttv/cached/emotes/global", 5.0)
    with pytest.raises(EmoteFetchError, match="non-HTTP"):
        http_get_json("file:///etc/passwd", 5.0)


def test_loader_fetches_every_set_over_http_and_caches_it(providers: FakeProviders, tmp_path: Path) -> None:
    loader = EmoteLoader(EmoteCache(tmp_path), providers.endpoints, max_age_s=3600, timeout_s=5)
    report = loader.load_all([XQC, "5"])  # 5: a channel none of the providers knows
    assert report.ok
    assert sorted(providers.requests) == sorted(
        [
            "/7tv/emote-sets/global",
            "/bttv/cached/emotes/global",
            "/ffz/set/global",
            f"/7tv/users/twitch/{XQC}",
            f"/bttv/cached/users/twitch/{XQC}",
            f"/ffz/room/id/{XQC}",
            "/7tv/users/twitch/5",
            "/bttv/cached/users/twitch/5",
            "/ffz/room/id/5",
        ]
    )
    by_scope = {(s.provider, s.channel_id): len(s.emotes) for s in report.sets}
    assert by_scope[("7tv", XQC)] == 3 and by_scope[("ffz", None)] == 2 and by_scope[("bttv", "5")] == 0
    providers.broken = True
    again = EmoteLoader(EmoteCache(tmp_path), providers.endpoints, max_age_s=0.0, timeout_s=5).load_all([XQC])
    assert len(again.sets) == 6 and len(again.stale) == 6 and "HTTP 503" in again.summary()


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chatpulse", "emotes", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=env["CHATPULSE_EMOTES__CACHE_DIR"].rsplit("/", 1)[0],  # no stray chatpulse.yaml or .env
        timeout=60,
        check=False,
    )


def test_emotes_refresh_and_list_commands(providers: FakeProviders, tmp_path: Path) -> None:
    env = providers.env(tmp_path / "cache")
    missing_id = run_cli("refresh", "--channel", "xqcow", env=env)
    assert missing_id.returncode == 2 and "--channel-id" in missing_id.stderr

    done = run_cli("refresh", "--channel", "xqcow", "--channel-id", XQC, env=env)
    assert done.returncode == 0, done.stderr
    assert "7tv channel 71092938: 3" in done.stderr

    listed = run_cli("list", "--channel", "xqcow", env=env)  # the id was remembered
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert {"name": "xqcJAM", "id": "6f1b00000000000000000002", "provider": "7tv", "scope": "channel"} in rows
    assert {"name": "CatBag", "id": "25927", "provider": "ffz", "scope": "global"} in rows
    assert not any(r["name"] == "SupporterOnly" for r in rows)

    providers.broken = True  # the network is gone: refresh fails in one line, list still works
    failed = run_cli("refresh", "--channel", "xqcow", env=env)
    assert failed.returncode == 1
    assert failed.stderr.count("\n") == 1 and "emote sets not refreshed: " in failed.stderr
    assert "older cached sets stay in use" in failed.stderr
    assert run_cli("list", "--channel", "xqcow", env=env).stdout == listed.stdout


def test_list_without_a_cache_says_how_to_fill_it(tmp_path: Path) -> None:
    env = {**os.environ, "CHATPULSE_EMOTES__CACHE_DIR": str(tmp_path / "empty")}
    result = run_cli("list", "--channel", "nobody", env=env)
    assert result.returncode == 1
    assert "run chatpulse emotes refresh --channel nobody" in result.stderr
