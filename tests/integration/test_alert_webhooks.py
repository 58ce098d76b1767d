"""`chatpulse run` posting alerts to webhook receivers on 127.0.0.1, fed by real captures and the demo.

Each run is a subprocess, as users start it; the receiver is a real HTTP server
(:mod:`chatpulse.testing.webhook_receiver`) that records bodies, or fails, or hangs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from chatpulse.config import StoreSettings
from chatpulse.store import open_store
from chatpulse.store.queries import hype_moments
from chatpulse.testing.webhook_receiver import WebhookReceiver
from chatpulse.times import parse_time
from tests.alert_recordings import HYPE_MINUTE, LAST_CHAT_MINUTE, SOUR_MINUTE, STORY, scripted, write
from tests.integration.conftest import kafka_cli_env, unique_kafka_settings

SECRET = "s3cr3t-webhook-t0ken"
HOOK_PATH = f"/api/webhooks/123456/{SECRET}"  # shaped like a Discord webhook: the token is the path


def _env(**extra: str) -> dict[str, str]:
    """No settings of the developer's shell; no proxy between the run and 127.0.0.1."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CHATPULSE_", "KAFKA_")) and "PROXY" not in k.upper()
    }
    return {**env, "COLUMNS": "200", **extra}


def _run(
    cwd: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    # cwd: the test's folder, so no chatpulse.yaml or .env of the checkout applies.
    return subprocess.run(
        [sys.executable, "-m", "chatpulse", "run", *args],
        capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env or _env(), check=False,
    )  # fmt: skip


def _stored_totals(stderr: str) -> dict[str, int]:
    line = [text for text in stderr.splitlines() if "done" in text][-1]
    return {stage: int(n.replace(",", "")) for stage, n in re.findall(r"(read|stored) ([\d,]+)", line)}


@pytest.fixture(scope="module", params=["xqcow-2019-09-15.irc.gz", "nymn-2024-01-06.json"])
def story(
    request: pytest.FixtureRequest, shared_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A capture's real chat on the scripted timeline: hype in minute 12, a sour minute 18, a
    silence after minute 23 (see tests/alert_recordings.py)."""
    folder = tmp_path_factory.mktemp("story")
    return write(
        folder / f"{request.param.split('-')[0]}.irc", scripted(shared_data / "replay" / request.param)
    )


def _replay(
    story: Path, tmp_path: Path, *extra: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return _run(
        tmp_path, "--replay", str(story), "--speed", "max", "--no-dashboard", "--workers", "0",
        "--store", f"chdb://{tmp_path / 'db'}", *extra, env=env,
    )  # fmt: skip


def _kinds(bodies: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(b["kind"], b["channel"]) for b in bodies]


def test_a_replay_with_alerts_on_posts_hype_mood_and_silence_as_the_dashboard_sees_them(
    story: Path, tmp_path: Path
) -> None:
    channel = story.stem
    with WebhookReceiver() as hook:
        done = _replay(story, tmp_path, "--alerts-on-replay", "--alert-webhook", hook.url(HOOK_PATH))
        bodies = hook.wait_for(3, timeout=30)
    assert done.returncode == 0, done.stderr
    assert _kinds(bodies) == [("hype", channel), ("mood_drop", channel), ("chat_stopped", channel)]
    hype, mood, stopped = bodies
    assert parse_time(hype["minute"]) == STORY.minute(HYPE_MINUTE)
    assert parse_time(mood["minute"]) == STORY.minute(SOUR_MINUTE)
    assert (
        STORY.minute(LAST_CHAT_MINUTE + 5) <= parse_time(stopped["at"]) < STORY.minute(LAST_CHAT_MINUTE + 6)
    )
    assert hype["numbers"]["messages"] > hype["numbers"]["bar"]
    # The same minute the dashboard's /api/hype and `chatpulse report` name, from the store.
    store = open_store(StoreSettings(dsn=f"chdb://{tmp_path / 'db'}"))
    try:
        moments = hype_moments(store, channel, STORY.minute(0), STORY.minute(len(STORY.counts)))
    finally:
        store.close()
    assert [m.minute for m in moments] == [STORY.minute(HYPE_MINUTE)]
    # Each alert is on stderr too, and the webhook's token never is.
    assert "alert Hype in #" in done.stderr
    assert SECRET not in done.stderr and SECRET not in done.stdout


def test_a_replay_fires_no_alerts_unless_asked(story: Path, tmp_path: Path) -> None:
    with WebhookReceiver() as hook:
        done = _replay(story, tmp_path, "--alert-webhook", hook.url(HOOK_PATH))
    assert done.returncode == 0, done.stderr
    assert hook.requests == []
    assert "--alerts-on-replay" in done.stderr


def test_a_failing_webhook_is_retried_until_it_takes_the_alerts(story: Path, tmp_path: Path) -> None:
    with WebhookReceiver(fail_first=2) as hook:
        done = _replay(
            story, tmp_path, "--alerts-on-replay", "--alert-webhook", hook.url(HOOK_PATH),
            env=_env(CHATPULSE_ALERTS__DRAIN_S="30"),
        )  # fmt: skip
        bodies = hook.wait_for(3, timeout=30)
    assert done.returncode == 0, done.stderr
    assert [kind for kind, _ in _kinds(bodies)] == ["hype", "mood_drop", "chat_stopped"]
    assert len(hook.requests) == 5  # two 500s, then each alert once
    assert "alerts: 3 (hype 1, mood_drop 1, chat_stopped 1)" in done.stderr
    assert "3 sent, 2 retries, 0 dropped, 0 failed" in done.stderr
    assert SECRET not in done.stderr


def test_a_hanging_webhook_never_holds_up_the_pipeline(story: Path, tmp_path: Path) -> None:
    with WebhookReceiver(hang=True) as hook:
        started = time.monotonic()
        done = _replay(
            story, tmp_path, "--alerts-on-replay", "--alert-webhook", hook.url(HOOK_PATH),
            env=_env(CHATPULSE_ALERTS__TIMEOUT_S="600", CHATPULSE_ALERTS__DRAIN_S="1"),
        )  # fmt: skip
        took = time.monotonic() - started
        still_open = hook.open_requests
    assert done.returncode == 0, done.stderr
    # The run stored everything and ended while the webhook still held its first request (it
    # would for 10 minutes): nothing in the pipeline waited for it.
    totals = _stored_totals(done.stderr)
    assert totals["stored"] == totals["read"] == sum(STORY.counts)
    assert still_open == 1
    assert took < 600
    assert "not delivered before shutdown" in done.stderr
    assert SECRET not in done.stderr


def test_alerts_from_the_config_file_in_discord_format_for_chosen_kinds(story: Path, tmp_path: Path) -> None:
    with WebhookReceiver() as everything, WebhookReceiver() as hype_only:
        (tmp_path / "chatpulse.yaml").write_text(
            "alerts:\n"
            "  on_replay: true\n"
            "  dashboard_url: http://stream-pc:8080\n"
            "  webhooks:\n"
            f"    - url: {everything.url(HOOK_PATH)}\n"
            "      format: discord\n"
            f"    - url: {hype_only.url('/slack')}\n"
            "      format: slack\n"
            "      kinds: [hype]\n",
            encoding="utf-8",
        )
        done = _replay(story, tmp_path)
        discord = everything.wait_for(3, timeout=5)
        slack = hype_only.wait_for(1, timeout=5)
    assert done.returncode == 0, done.stderr
    assert len(discord) == 3 and len(slack) == 1
    embed = discord[0]["embeds"][0]
    assert embed["title"] == f"Hype moment in #{story.stem}"
    assert embed["url"].startswith(f"http://stream-pc:8080/?channel={story.stem}&from=")
    assert discord[0]["allowed_mentions"] == {"parse": []}
    assert slack[0]["text"].startswith(f"Hype in #{story.stem}: ")


def test_a_bad_webhook_url_exits_2_without_showing_its_token(tmp_path: Path) -> None:
    done = _run(tmp_path, "--demo", "--no-dashboard", "--alert-webhook", f"ftp://example.org/{SECRET}")
    assert done.returncode == 2
    assert "--alert-webhook ftp://example.org/…" in done.stderr
    assert SECRET not in done.stderr


def test_the_demos_back_fill_builds_baselines_but_only_asked_for_fires(tmp_path: Path) -> None:
    """The demo's back-fill is chat from before the run: with --alerts-on-replay its raids and
    gift bombs are posted, without it none of them is (only live chat may alert). The same
    seed makes the same back-fill both times."""
    args = ["--demo", "--demo-history", "3", "--duration", "12", "--no-dashboard", "--workers", "0"]
    bodies: dict[bool, list[dict[str, Any]]] = {}
    starts: dict[bool, int] = {}
    for on_replay in (True, False):
        with WebhookReceiver() as hook:
            starts[on_replay] = time.time_ns() // 1_000_000
            flag = ["--alerts-on-replay"] if on_replay else []
            store = f"chdb://{tmp_path / f'db-{on_replay}'}"
            done = _run(tmp_path, *args, "--store", store, *flag, "--alert-webhook", hook.url(HOOK_PATH))
            assert done.returncode == 0, done.stderr
            bodies[on_replay] = list(hook.bodies)
    history = [b for b in bodies[True] if parse_time(b["at"]) < starts[True]]
    assert {b["kind"] for b in history} & {"raid", "gift_bomb"}  # the back-fill has alert-worthy chat
    assert all(parse_time(b["at"]) >= starts[False] for b in bodies[False])


def test_alerts_through_kafka(story: Path, tmp_path: Path, kafka_bootstrap: str) -> None:
    kafka = unique_kafka_settings(kafka_bootstrap, tmp_path / "spool")
    properties = tmp_path / "client.properties"
    properties.write_text(f"bootstrap.servers={kafka_bootstrap}\n", encoding="utf-8")
    with WebhookReceiver() as hook:
        done = _replay(
            story, tmp_path, "--kafka", str(properties), "--alerts-on-replay",
            "--alert-webhook", hook.url(HOOK_PATH),
            env=_env(**{k: v for k, v in kafka_cli_env(kafka).items() if k.startswith("CHATPULSE_KAFKA__")}),
        )  # fmt: skip
        bodies = hook.wait_for(3, timeout=30)
    assert done.returncode == 0, done.stderr
    assert [kind for kind, _ in _kinds(bodies)] == ["hype", "mood_drop", "chat_stopped"]
    assert parse_time(bodies[0]["minute"]) == STORY.minute(HYPE_MINUTE)
