"""The lexicon analyzer: VADER's rules reproduced, Twitch chat understood, quality vs plain VADER."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from chatpulse.errors import ModelError
from chatpulse.events import Emote, MessageEvent
from chatpulse.sentiment.base import label_for
from chatpulse.sentiment.evaluation import load_labeled, macro_f1
from chatpulse.sentiment.lexicon import LexiconAnalyzer
from chatpulse.sentiment.twitch_lexicon import load_twitch_lexicon, parse_twitch_lexicon
from chatpulse.sentiment.vader_rules import RuleScorer

EVAL_SET = Path(__file__).resolve().parents[1] / "data" / "sentiment_eval_authored.tsv"
VADER_EXAMPLES = [
    "VADER is smart, handsome, and funny.",
    "VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!",
    "VADER is not smart, handsome, nor funny.",
    "At least it isn't a horrible book.",
    "The book was only kind of good.",
    "The plot was good, but the characters are uncompelling and the dialog is not great.",
    "Today only kinda sux! But I'll get by, lol",
    "Make sure you :) or :D today!",
    "Catch utf-8 emoji such as 💘 and 💋 and 😁",
    "Sentiment analysis has never been this good!",
    "With VADER, sentiment analysis is the shit!",
    "Roger Dodger is one of the least compelling variations on this theme.",
    "Without a doubt, excellent idea.",
    "no good no fun??",
]


@pytest.fixture(scope="module")
def analyzer() -> LexiconAnalyzer:
    return LexiconAnalyzer()


def label(analyzer: LexiconAnalyzer, message: str | MessageEvent) -> str:
    return analyzer.analyze([message])[0].label


def test_without_twitch_lexicon_the_rules_reproduce_vader_exactly() -> None:
    vader = SentimentIntensityAnalyzer()
    plain = RuleScorer(None)
    texts = VADER_EXAMPLES + [row.text for row in load_labeled(EVAL_SET)]
    mismatches = [
        t for t in texts if abs(vader.polarity_scores(t)["compound"] - round(plain.compound(t), 4)) > 1e-4
    ]
    assert mismatches == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PogChamp insane play!!!", "positive"),
        ("this streamer is trash", "negative"),
        ("W streamer", "positive"),
        ("L take", "negative"),
        ("KEKW", "positive"),
        ("Sadge", "negative"),
        ("forsenPog", "positive"),  # channel emote read by its suffix
        ("xqcL", "positive"),  # a heart, not the slang "L"
        ("LETS GOOOOO", "positive"),
        ("he choked again", "negative"),
        ("jajaja", "positive"),
        ("!discord", "neutral"),  # a bot command, not disagreement
        ("what game is this", "neutral"),
        ("😂😂😂", "positive"),
        ("🗑️", "negative"),  # with the emoji variation selector
    ],
)
def test_twitch_chat_is_read_as_chatters_mean_it(analyzer: LexiconAnalyzer, text: str, expected: str) -> None:
    assert label(analyzer, text) == expected


def test_sarcasm_marker_flips_praise_and_softens_complaints(analyzer: LexiconAnalyzer) -> None:
    assert label(analyzer, "great job") == "positive"
    assert label(analyzer, "great job Kappa") == "negative"
    assert analyzer.score("so sad Kappa") > analyzer.score("so sad")
    assert analyzer.score("so sad Kappa") < 0


def test_emote_spam_is_emphasis_not_many_words(analyzer: LexiconAnalyzer) -> None:
    once = analyzer.score("Sadge")
    spam = analyzer.score("Sadge Sadge Sadge Sadge Sadge Sadge")
    as_six_words = -12.0 / math.sqrt(144.0 + 15.0)  # what summing six Sadge words would give
    assert as_six_words < spam < once < 0


def test_emote_spans_mark_unknown_emotes(analyzer: LexiconAnalyzer) -> None:
    text = "LOVE LOVE LOVE LOVE LOVE"
    spans = tuple(Emote("1", "LOVE", i * 5, i * 5 + 4) for i in range(5))
    event = MessageEvent(received_at=0, source="replay", text=text, emotes=spans)
    assert analyzer.analyze([event])[0].label == analyzer.analyze([text])[0].label == "positive"
    # The rules' compound score (which the learned layer reads): five emotes are one emphatic
    # emote, not five words.
    rules = LexiconAnalyzer(learned=False)
    assert rules.analyze([event])[0].score < rules.analyze([text])[0].score


def test_caps_and_repeated_letters_intensify(analyzer: LexiconAnalyzer) -> None:
    assert analyzer.score("this is AMAZING") > analyzer.score("this is amazing") > 0
    assert analyzer.score("nooooo") < 0  # plain VADER does not know "nooooo"
    assert analyzer.score("goooood") > analyzer.score("good")


def test_all_caps_emote_names_are_not_shouting(analyzer: LexiconAnalyzer) -> None:
    # With only "good" besides the emote, VADER would treat KEKW as a capitalised lexicon word.
    assert analyzer.score("good KEKW") == pytest.approx(analyzer.score("good kekw"), abs=0.05)


def test_duplicate_message_filter_character_is_ignored(analyzer: LexiconAnalyzer) -> None:
    assert analyzer.analyze(["LUL \U000e0000"])[0].score == analyzer.analyze(["LUL"])[0].score


def test_batch_keeps_length_and_order_and_names_the_model(analyzer: LexiconAnalyzer) -> None:
    batch = ["W", "L", "", "what", "W"]
    verdicts = analyzer.analyze(batch)
    assert [v.label for v in verdicts] == ["positive", "negative", "neutral", "neutral", "positive"]
    assert {v.model for v in verdicts} == {"lexicon@2"} == {analyzer.model_id}
    assert all(-1.0 <= v.score <= 1.0 and 0.0 <= v.confidence <= 1.0 for v in verdicts)


def test_cached_and_uncached_verdicts_agree() -> None:
    texts = [row.text for row in load_labeled(EVAL_SET)]
    cached = LexiconAnalyzer(cache_size=50)  # smaller than the set: eviction happens
    assert cached.analyze(texts + texts) == LexiconAnalyzer(cache_size=0).analyze(texts + texts)


def test_macro_f1_is_15_points_above_plain_vader_on_the_labeled_set(analyzer: LexiconAnalyzer) -> None:
    rows = load_labeled(EVAL_SET)
    gold = [row.label for row in rows]
    vader = SentimentIntensityAnalyzer()
    vader_labels = [label_for(vader.polarity_scores(row.text)["compound"]) for row in rows]
    ours = [v.label for v in analyzer.analyze([row.text for row in rows])]
    assert macro_f1(gold, ours) - macro_f1(gold, vader_labels) >= 0.15


def test_labeled_set_is_large_balanced_and_covers_hard_cases() -> None:
    rows = load_labeled(EVAL_SET)
    assert len(rows) >= 400
    for wanted in ("positive", "neutral", "negative"):
        assert sum(r.label == wanted for r in rows) >= 100
    categories = {r.category for r in rows}
    assert {"sarcasm", "spam", "copypasta", "question", "nonenglish", "slang", "negation"} <= categories
    emotes = load_twitch_lexicon().emotes
    emote_only = [r for r in rows if all(word in emotes for word in r.text.split())]
    assert len(emote_only) >= 30
    assert len({r.text for r in rows}) == len(rows)


def test_shipped_lexicon_covers_the_issue_vocabulary() -> None:
    lexicon = load_twitch_lexicon()
    wanted = "Kappa PogChamp LUL BibleThump NotLikeThis ResidentSleeper 4Head Kreygasm SeemsGood KEKW"
    wanted += " OMEGALUL Pog PogU Sadge monkaS PepeHands FeelsGoodMan FeelsBadMan WeirdChamp Copium EZ catJAM"
    for emote in wanted.split():
        assert emote in lexicon.emotes or emote in lexicon.sarcasm
    for word in ("w", "l", "ratio", "goated", "cracked", "based", "cringe", "mald", "clutch", "throw",
                 "gg", "ez", "rip", "f"):  # fmt: skip
        assert word in lexicon.words
    assert {"Kappa", "Keepo"} <= lexicon.sarcasm


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Pog\t2.5\n", "expected token"),
        ("Pog\tlots\temote\n", "not a number"),
        ("Pog\t2.5\temote\nPog\t2.0\temote\n", "duplicate"),
        ("Pog\t9\temote\n", "outside"),
        ("Pog\t1\tmeme\n", "unknown kind"),
        ("lets go now\t2\tphrase\n", "two words"),
    ],
)
def test_malformed_lexicon_names_file_and_line(text: str, problem: str) -> None:
    with pytest.raises(ModelError, match=problem) as caught:
        parse_twitch_lexicon("# header\n" + text, "custom.tsv")
    assert "custom.tsv:" in str(caught.value)


def test_custom_lexicon_file_replaces_the_shipped_one(tmp_path: Path) -> None:
    custom = tmp_path / "lexicon.tsv"
    custom.write_text("Sadge\t3.0\temote\tin this channel Sadge is a joke\n", encoding="utf-8")
    assert LexiconAnalyzer(custom).analyze(["Sadge"])[0].label == "positive"
    with pytest.raises(ModelError, match="missing.tsv"):
        LexiconAnalyzer(tmp_path / "missing.tsv")
