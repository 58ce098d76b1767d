"""The scores bench sentiment prints: per-class F1, macro-F1, confusion matrix, reliability bands."""

from __future__ import annotations

import pytest

from chatpulse.sentiment.evaluation import confusion, macro_f1, per_class_f1, reliability

GOLD = ["positive", "positive", "positive", "neutral", "neutral", "negative"]
PRED = ["positive", "positive", "neutral", "neutral", "negative", "negative"]


def test_per_class_and_macro_f1_by_hand() -> None:
    scores = per_class_f1(GOLD, PRED)
    # positive: tp 2, fn 1 -> 4/5; neutral: tp 1, fp 1, fn 1 -> 1/2; negative: tp 1, fp 1 -> 2/3
    assert scores == pytest.approx({"positive": 0.8, "neutral": 0.5, "negative": 2 / 3})
    assert macro_f1(GOLD, PRED) == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)


def test_a_class_never_seen_nor_predicted_scores_zero() -> None:
    assert per_class_f1(["neutral"], ["neutral"]) == {"positive": 0.0, "neutral": 1.0, "negative": 0.0}


def test_confusion_rows_are_what_people_said() -> None:
    assert confusion(GOLD, PRED) == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]


def test_reliability_bands_count_and_score_each_verdict_once() -> None:
    confidence = [0.95, 0.9, 0.55, 0.35, 0.62, 1.0]
    table = reliability(GOLD, PRED, confidence, edges=(1 / 3, 0.6, 1.0))
    assert [(round(low, 2), high, n) for low, high, n, _, _ in table] == [(0.33, 0.6, 2), (0.6, 1.0, 4)]
    low_band, high_band = table
    assert low_band[4] == pytest.approx(0.5)  # 0.55 wrong (positive said neutral), 0.35 right
    assert high_band[4] == pytest.approx(0.75)  # 0.62 wrong; 0.95, 0.9, 1.0 (closed end) right
    assert high_band[3] == pytest.approx((0.95 + 0.9 + 0.62 + 1.0) / 4)


def test_lengths_must_match() -> None:
    with pytest.raises(ValueError, match="length"):
        per_class_f1(["positive"], [])
