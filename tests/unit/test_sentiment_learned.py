"""The default analyzer's learned layer: chat read as chatters mean it, calibrated confidence."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatpulse.errors import ModelError
from chatpulse.events import Emote, MessageEvent
from chatpulse.sentiment.chat_model import load_chat_model, parse_chat_model
from chatpulse.sentiment.evaluation import load_labeled, load_real_chat, reliability
from chatpulse.sentiment.lexicon import LexiconAnalyzer

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def analyzer() -> LexiconAnalyzer:
    return LexiconAnalyzer()


def spanned(text: str) -> MessageEvent:
    """``text`` as a chat event whose every word is a Twitch emote span."""
    spans, at = [], 0
    for word in text.split(" "):
        spans.append(Emote("1", word, at, at + len(word)))
        at += len(word) + 1
    return MessageEvent(received_at=0, source="replay", text=text, emotes=tuple(spans))


@pytest.mark.parametrize("text", ["KEKW", "KEKW KEKW KEKW", "OMEGALUL", "LULW", "PogU PogU PogU", "xqcL"])
def test_laughing_and_hype_emotes_alone_are_positive(analyzer: LexiconAnalyzer, text: str) -> None:
    assert analyzer.analyze([text])[0].label == "positive"
    assert analyzer.analyze([spanned(text)])[0].label == "positive"


@pytest.mark.parametrize("text", ["Sadge", "Sadge Sadge Sadge", "PepeHands", "WeirdChamp", "FeelsBadMan"])
def test_sad_and_disapproving_emotes_alone_are_negative(analyzer: LexiconAnalyzer, text: str) -> None:
    assert analyzer.analyze([text])[0].label == "negative"
    assert analyzer.analyze([spanned(text)])[0].label == "negative"


def test_negation_turns_praise_into_complaint(analyzer: LexiconAnalyzer) -> None:
    good, not_good = analyzer.analyze(["this is good", "this is not good"])
    assert (good.label, not_good.label) == ("positive", "negative")


def test_questions_commands_and_greetings_stay_neutral(analyzer: LexiconAnalyzer) -> None:
    verdicts = analyzer.analyze(["what game is this?", "!uptime", "hi chat"])
    assert [v.label for v in verdicts] == ["neutral", "neutral", "neutral"]


def test_confidence_is_the_winning_probability_and_score_its_balance(analyzer: LexiconAnalyzer) -> None:
    texts = [r.text for r in load_labeled(DATA / "sentiment_eval_authored.tsv")]
    for v in analyzer.analyze(texts):
        assert round(1 / 3, 4) <= v.confidence <= 1.0
        assert -1.0 <= v.score <= 1.0
        assert v.label != "positive" or v.score > 0
        assert v.label != "negative" or v.score < 0


def test_more_confident_verdicts_are_right_more_often_on_messages_it_never_trained_on(
    analyzer: LexiconAnalyzer,
) -> None:
    # The authored set was never read by the trainer (it reads dev rows only); held-out stays
    # for the benchmark.
    rows = load_labeled(DATA / "sentiment_eval_authored.tsv")
    verdicts = analyzer.analyze([r.text for r in rows])
    labels, confidence = [v.label for v in verdicts], [v.confidence for v in verdicts]
    table = reliability([r.label for r in rows], labels, confidence, edges=(1 / 3, 0.6, 0.8, 1.0))
    accuracies = [correct for *_, correct in table]
    assert len(accuracies) == 3 and accuracies == sorted(accuracies)
    assert accuracies[-1] - accuracies[0] > 0.2


def test_learned_layer_beats_the_rules_on_dev_and_rules_only_is_still_available() -> None:
    rows = load_real_chat(DATA / "sentiment_real_chat.tsv", "dev")
    gold = [r.label for r in rows]
    rules = LexiconAnalyzer(learned=False)
    learned = LexiconAnalyzer()
    rules_right = sum(v.label == g for v, g in zip(rules.analyze(rows), gold, strict=True))
    learned_right = sum(v.label == g for v, g in zip(learned.analyze(rows), gold, strict=True))
    assert learned_right > rules_right
    assert (rules.model_id, learned.model_id) == ("lexicon@1", "lexicon@2")


def test_shipped_layer_says_it_was_trained_on_dev_only() -> None:
    header = (Path(__file__).resolve().parents[2] / "chatpulse" / "sentiment" / "chat_model.tsv").read_text()
    dev = len(load_real_chat(DATA / "sentiment_real_chat.tsv", "dev"))
    assert f"({dev} messages)" in header and "dev part ONLY" in header
    assert load_chat_model().temperature > 0


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("feature\tpositive\tneutral\tnegative\nbias\t1\t2\n", "m.tsv:2: expected feature<TAB>3 weights"),
        ("feature\tpositive\tneutral\tnegative\nbias\t1\tx\t2\n", "m.tsv:2: expected feature<TAB>3 weights"),
        ("feature\tpositive\tneutral\tnegative\n@temperature\t0\t\t\nbias\t0\t0\t0\n", "m.tsv:2"),
        ("feature\tpositive\tneutral\tnegative\nt:w\t1\t0\t0\n", "m.tsv: no bias row"),
    ],
)
def test_malformed_layer_file_names_file_and_line(text: str, problem: str) -> None:
    with pytest.raises(ModelError, match=problem):
        parse_chat_model(text, "m.tsv")


def test_a_model_file_round_trips() -> None:
    shipped = load_chat_model()
    again = parse_chat_model(shipped.to_text("header"), "again")
    assert again.temperature == shipped.temperature
    assert again.weights.keys() == shipped.weights.keys()
