"""The transformer analyzer on a tiny ONNX model the tests build themselves (no hub access)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from chatpulse.errors import ModelError
from chatpulse.events import Emote, MessageEvent
from chatpulse.sentiment.emotes import load_emote_map
from chatpulse.sentiment.labels import label_classes
from chatpulse.sentiment.tiny_model import build_tiny_model
from chatpulse.sentiment.transformer import TransformerAnalyzer


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-sentiment")


def labels_of(analyzer: TransformerAnalyzer, texts: list[str]) -> list[str]:
    return [s.label for s in analyzer.analyze(texts)]


def test_loads_a_local_folder_and_classifies(tiny: Path) -> None:
    analyzer = TransformerAnalyzer(str(tiny))
    verdicts = analyzer.analyze(["good game", "this is trash", "what is the game"])
    assert [v.label for v in verdicts] == ["positive", "negative", "neutral"]
    assert verdicts[0].score > 0 > verdicts[1].score
    assert all(v.model == "transformer@tiny-sentiment" for v in verdicts)
    assert all(0.0 <= v.confidence <= 1.0 and -1.0 <= v.score <= 1.0 for v in verdicts)


def test_length_buckets_keep_input_order(tiny: Path) -> None:
    texts = ["good", "the game is the game is the game is bad", "", "love", "hate the stream", "what"]
    one_by_one = [TransformerAnalyzer(str(tiny)).analyze([t])[0] for t in texts]
    batched = TransformerAnalyzer(str(tiny), batch_size=2).analyze(texts)
    assert batched == one_by_one
    assert batched[2].label == "neutral"  # empty message: neutral, not a guess


def test_truncation_to_max_length(tiny: Path) -> None:
    long_text = "good " + "bad " * 200
    short = TransformerAnalyzer(str(tiny), max_length=8)
    assert short.analyze([long_text])[0].label == "negative"
    assert TransformerAnalyzer(str(tiny), max_length=2).analyze(["good bad bad bad"])[0].label == "positive"


def test_emotes_are_normalised_before_the_model(tiny: Path) -> None:
    with_map = TransformerAnalyzer(str(tiny), emote_map=load_emote_map())
    without = TransformerAnalyzer(str(tiny), emote_map=None)
    assert labels_of(with_map, ["LUL", "Sadge"]) == ["positive", "negative"]
    assert labels_of(without, ["LUL", "Sadge"]) == ["neutral", "neutral"]
    event = MessageEvent(
        received_at=0, source="replay", text="myEmote", emotes=(Emote("9", "myEmote", 0, 7),)
    )
    custom = TransformerAnalyzer(str(tiny), emote_map={"myEmote": "😢"})
    assert custom.prepare(event) == "😢"
    assert custom.analyze([event])[0].label == "negative"


def test_generic_label_names_and_onnx_subfolder(tmp_path: Path) -> None:
    folder = build_tiny_model(
        tmp_path / "generic", id2label={0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}, onnx_subdir=True
    )
    analyzer = TransformerAnalyzer(str(folder))
    assert analyzer.classes == ["negative", "neutral", "positive"]
    assert labels_of(analyzer, ["good", "bad", "game"]) == ["positive", "negative", "neutral"]


def test_two_class_model_says_neutral_when_unsure(tmp_path: Path) -> None:
    analyzer = TransformerAnalyzer(str(build_tiny_model(tmp_path / "binary", two_class=True)))
    verdicts = analyzer.analyze(["good", "bad", "what is the game"])
    assert [v.label for v in verdicts] == ["positive", "negative", "neutral"]
    assert verdicts[2].confidence == pytest.approx(1.0 - abs(verdicts[2].score))


def test_missing_model_offline_says_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as caught:
        TransformerAnalyzer("someone/not-downloaded-model")
    message = str(caught.value)
    assert "chatpulse models download someone/not-downloaded-model" in message
    assert "--model PATH" in message and "\n" not in message
    with pytest.raises(ModelError, match="does not exist"):
        TransformerAnalyzer(str(tmp_path / "nothing" / "here"))


def test_folder_without_onnx_weights_is_explained(tiny: Path, tmp_path: Path) -> None:
    folder = tmp_path / "no-onnx"
    folder.mkdir()
    for name in ("config.json", "tokenizer.json"):
        shutil.copy(tiny / name, folder / name)
    with pytest.raises(ModelError, match="no ONNX weights"):
        TransformerAnalyzer(str(folder))


def test_unmappable_labels_are_refused(tmp_path: Path) -> None:
    folder = build_tiny_model(tmp_path / "emotions", id2label={0: "anger", 1: "joy", 2: "surprise"})
    with pytest.raises(ModelError, match="anger, joy, surprise"):
        TransformerAnalyzer(str(folder))


def test_torch_backend_without_torch_says_what_to_install(tiny: Path) -> None:
    pytest.importorskip("transformers")
    try:
        import torch  # noqa: F401
    except ImportError:
        with pytest.raises(ModelError, match=r"pip install 'chatpulse\[torch\]'"):
            TransformerAnalyzer(str(tiny), backend="torch")
    else:
        pytest.skip("torch is installed; see test_torch_backend_runs_a_tiny_random_model")


def test_torch_backend_runs_a_tiny_random_model(tiny: Path, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    folder = tmp_path / "tiny-bert"
    folder.mkdir()
    shutil.copy(tiny / "tokenizer.json", folder / "tokenizer.json")
    vocab = len(json.loads((tiny / "tokenizer.json").read_text())["model"]["vocab"])
    config = transformers.BertConfig(
        vocab_size=vocab, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=16, num_labels=3, id2label={0: "negative", 1: "neutral", 2: "positive"},
        label2id={"negative": 0, "neutral": 1, "positive": 2}, pad_token_id=0,
    )  # fmt: skip
    transformers.BertForSequenceClassification(config).save_pretrained(str(folder))
    verdicts = TransformerAnalyzer(str(folder), backend="torch").analyze(["good game", "bad", "", "what"])
    assert len(verdicts) == 4 and verdicts[2].label == "neutral"
    assert all(v.model == "transformer@tiny-bert" and -1.0 <= v.score <= 1.0 for v in verdicts)


@pytest.mark.parametrize(
    ("id2label", "expected"),
    [
        ({"0": "negative", "1": "neutral", "2": "positive"}, ["negative", "neutral", "positive"]),
        ({"0": "NEGATIVE", "1": "POSITIVE"}, ["negative", "positive"]),
        ({"0": "LABEL_0", "1": "LABEL_1"}, ["negative", "positive"]),
        ({"0": "1 star", "1": "2 stars", "2": "3 stars", "3": "4 stars", "4": "5 stars"},
         ["negative", "negative", "neutral", "positive", "positive"]),
    ],
)  # fmt: skip
def test_label_mapping(id2label: dict[str, str], expected: list[str]) -> None:
    assert label_classes(id2label) == expected


def test_label_mapping_refuses_gaps_and_one_sided_models() -> None:
    with pytest.raises(ModelError, match="0..n-1"):
        label_classes({"0": "negative", "2": "positive"})
    with pytest.raises(ModelError, match="positive and a negative"):
        label_classes({"0": "positive", "1": "neutral"})
