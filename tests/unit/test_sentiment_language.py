"""Messages that are not English are marked with ``lang`` instead of being read by English rules."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from chatpulse.cli import main
from chatpulse.sentiment.evaluation import load_labeled, load_real_chat
from chatpulse.sentiment.lexicon import LexiconAnalyzer

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def analyzer() -> LexiconAnalyzer:
    return LexiconAnalyzer()


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("que asco de juego", "es"),
        ("das ist so schlecht", "de"),
        ("muito bom", "pt"),
        ("bonjour tout le monde", "fr"),
        ("привет", "ru"),
        ("こんにちは", "ja"),
    ],
)
def test_foreign_messages_are_marked_neutral_with_a_guess_confidence(
    analyzer: LexiconAnalyzer, text: str, lang: str
) -> None:
    verdict = analyzer.analyze([text])[0]
    assert (verdict.lang, verdict.label, verdict.score) == (lang, "neutral", 0.0)
    assert verdict.confidence == pytest.approx(1 / 3, abs=1e-3)


@pytest.mark.parametrize(
    "text", ["juicer pass PogU", "stockholm simulator :)", "this is not good", "KEKW", "what game is this"]
)
def test_english_chat_with_names_and_memes_is_not_marked(analyzer: LexiconAnalyzer, text: str) -> None:
    assert analyzer.analyze([text])[0].lang is None


def test_no_english_message_of_the_labeled_sets_is_marked(analyzer: LexiconAnalyzer) -> None:
    authored = [
        r.text for r in load_labeled(DATA / "sentiment_eval_authored.tsv") if r.category != "nonenglish"
    ]
    dev = load_real_chat(DATA / "sentiment_real_chat.tsv", "dev")  # English and emotes, as read
    marked = [v for v in analyzer.analyze([*authored, *dev]) if v.lang is not None]
    assert marked == []


def test_foreign_words_are_read_as_english_only_when_asked(analyzer: LexiconAnalyzer) -> None:
    english_only = LexiconAnalyzer(detect_language=False)
    assert english_only.analyze(["das ist so schlecht"])[0].lang is None
    assert analyzer.analyze(["das ist so schlecht"])[0].lang == "de"


def test_the_cli_prints_the_language(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("que asco de juego\nLUL\n"))
    monkeypatch.chdir(Path(__file__).resolve().parents[1])  # no chatpulse.yaml or .env here
    try:
        main(["sentiment", "-"])
    except SystemExit as exc:  # click may or may not exit on success
        assert not exc.code
    rows = [json.loads(line)["sentiment"] for line in capsys.readouterr().out.splitlines()]
    assert [(r["label"], r["lang"]) for r in rows] == [("neutral", "es"), ("positive", None)]
