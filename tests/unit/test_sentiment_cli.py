"""``chatpulse sentiment`` and ``chatpulse models`` as a user runs them."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from chatpulse.cli import main
from chatpulse.events import MessageEvent
from chatpulse.sentiment.tiny_model import build_tiny_model
from chatpulse.wire import dumps


def run(
    argv: list[str], stdin: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    monkeypatch.chdir(Path(__file__).resolve().parents[2] / "tests")  # no chatpulse.yaml or .env here
    code = 0
    try:
        main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_text_and_event_lines_in_order(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    event = MessageEvent(received_at=1_568_505_600_000, source="replay", channel="xqcow", text="L take")
    stdin = "\n".join([
        "PogChamp insane play!!!",
        "",
        dumps(event),
        '{"schema": 1, "kind": "nonsense", "received_at": "2019-09-15T00:00:00.000Z"}',
        "   ",
        '{"not": "an event"}',
        "this streamer is trash",
    ]) + "\n"  # fmt: skip
    code, out, err = run(["sentiment", "-"], stdin, monkeypatch, capsys)
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 5  # one per non-empty line
    assert rows[0]["text"] == "PogChamp insane play!!!" and rows[0]["sentiment"]["label"] == "positive"
    assert rows[1]["kind"] == "message" and rows[1]["channel"] == "xqcow"
    assert rows[1]["sentiment"]["label"] == "negative" and rows[1]["sentiment"]["model"] == "lexicon@2"
    assert "nonsense" in rows[2]["error"] and rows[2]["raw"].startswith('{"schema"')
    assert rows[3]["text"] == '{"not": "an event"}'  # JSON that is not an event is chat text
    assert rows[4]["sentiment"]["label"] == "negative"
    assert "msgs/s" in err and "1 bad lines" in err


def test_transformer_from_a_local_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = build_tiny_model(tmp_path / "tiny")
    argv = ["sentiment", "--analyzer", "transformer", "--model", str(model), "--batch-size", "2"]
    code, out, _ = run(argv, "good game\nLUL\nbad\n", monkeypatch, capsys)
    assert code == 0
    assert [json.loads(line)["sentiment"]["label"] for line in out.splitlines()] == [
        "positive", "positive", "negative",
    ]  # fmt: skip


def test_missing_model_exits_2_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    argv = ["sentiment", "--analyzer", "transformer", "--model", "nobody/absent-model"]
    code, out, err = run(argv, "hello\n", monkeypatch, capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "chatpulse models download nobody/absent-model" in err


def test_models_download_offline_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code, _, err = run(["models", "download", "nobody/absent-model"], "", monkeypatch, capsys)
    assert code == 2 and "nobody/absent-model" in err and err.count("\n") == 1


def test_models_path_prints_a_local_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    model = build_tiny_model(tmp_path / "tiny")
    code, out, err = run(["models", "path", str(model)], "", monkeypatch, capsys)
    assert code == 0 and out.strip() == str(model) and "model.onnx" in err
