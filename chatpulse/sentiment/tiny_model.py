"""Build a tiny Hugging Face-style sentiment model on disk, for tests and the benchmark.

The folder holds what a real hub model holds: ``config.json`` (``id2label``), ``tokenizer.json``
(a word-level tokenizer built with the ``tokenizers`` library) and ``model.onnx``: a graph made
with ``onnx.helper`` that gathers token embeddings, averages them over the attention mask and
applies a linear layer, giving 3 logits. Embeddings are chosen by hand so that a few words and
emoji carry a sentiment, which makes the model's answers predictable enough to test the real
loading, tokenising, batching and label-mapping code. It knows nothing else: not a real model.

Needs the ``onnx`` package (a dev dependency), imported only when building.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any, Final

import numpy as np

# word -> (negative, neutral, positive) embedding; the linear layer is the identity.
TINY_WORDS: Final[dict[str, tuple[float, float, float]]] = {
    "good": (0.0, 0.0, 4.0),
    "great": (0.0, 0.0, 4.0),
    "love": (0.0, 0.0, 4.0),
    "win": (0.0, 0.0, 3.0),
    "😂": (0.0, 0.0, 4.0),
    "😊": (0.0, 0.0, 4.0),
    "bad": (4.0, 0.0, 0.0),
    "hate": (4.0, 0.0, 0.0),
    "trash": (4.0, 0.0, 0.0),
    "lose": (3.0, 0.0, 0.0),
    "😢": (4.0, 0.0, 0.0),
    "the": (0.0, 1.0, 0.0),
    "game": (0.0, 1.0, 0.0),
    "is": (0.0, 1.0, 0.0),
    "what": (0.0, 1.0, 0.0),
    "stream": (0.0, 1.0, 0.0),
}
SPECIAL: Final = ("[PAD]", "[UNK]")
TINY_LABELS: Final = {0: "negative", 1: "neutral", 2: "positive"}


def build_tiny_model(
    folder: Path,
    *,
    id2label: dict[int, str] | None = None,
    onnx_subdir: bool = False,
    two_class: bool = False,
) -> Path:
    """Write the tiny model into ``folder`` (created) and return it.

    ``id2label`` renames the three outputs (order negative, neutral, positive), e.g. to test
    ``LABEL_0..2``; ``onnx_subdir`` puts the graph at ``onnx/model.onnx`` as hub exports do;
    ``two_class`` drops the neutral output (neutral words then give 50/50 logits).
    """
    folder.mkdir(parents=True, exist_ok=True)
    vocab = {token: i for i, token in enumerate((*SPECIAL, *TINY_WORDS))}
    _write_tokenizer(folder / "tokenizer.json", vocab)
    onnx_path = folder / ("onnx/model.onnx" if onnx_subdir else "model.onnx")
    onnx_path.parent.mkdir(parents=True, exist_ok=True)
    _write_graph(onnx_path, vocab, two_class)
    labels = id2label or ({0: "negative", 1: "positive"} if two_class else TINY_LABELS)
    config = {
        "architectures": ["TinySentimentForSequenceClassification"],
        "model_type": "tiny-sentiment",
        "id2label": {str(i): name for i, name in labels.items()},
        "label2id": {name: i for i, name in labels.items()},
        "pad_token_id": 0,
    }
    (folder / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    return folder


def _write_tokenizer(path: Path, vocab: dict[str, int]) -> None:
    tokenizers: Any = importlib.import_module("tokenizers")
    tokenizer = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab=vocab, unk_token="[UNK]"))  # noqa: S106 - a vocabulary token, not a secret
    tokenizer.normalizer = tokenizers.normalizers.Lowercase()
    tokenizer.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    tokenizer.save(str(path))


def _write_graph(path: Path, vocab: dict[str, int], two_class: bool) -> None:
    onnx: Any = importlib.import_module("onnx")
    helper, tensor = onnx.helper, onnx.TensorProto
    embedding = np.zeros((len(vocab), 3), dtype=np.float32)
    embedding[vocab["[UNK]"]] = (0.0, 0.5, 0.0)  # unknown words lean neutral
    for word, vector in TINY_WORDS.items():
        embedding[vocab[word]] = vector
    # Identity for three classes; for two, the neutral dimension feeds neither output.
    weight = np.eye(3, dtype=np.float32)[:, [0, 2]] if two_class else np.eye(3, dtype=np.float32)
    outputs = weight.shape[1]
    initializers = [
        onnx.numpy_helper.from_array(embedding, "embedding"),
        onnx.numpy_helper.from_array(weight, "weight"),
        onnx.numpy_helper.from_array(np.zeros(outputs, dtype=np.float32), "bias"),
        onnx.numpy_helper.from_array(np.array([2], dtype=np.int64), "last_axis"),
        onnx.numpy_helper.from_array(np.array([1], dtype=np.int64), "time_axis"),
        onnx.numpy_helper.from_array(np.array(1e-6, dtype=np.float32), "epsilon"),
    ]
    nodes = [
        helper.make_node("Gather", ["embedding", "input_ids"], ["vectors"]),  # [B, T, 3]
        helper.make_node("Cast", ["attention_mask"], ["mask_f"], to=tensor.FLOAT),
        helper.make_node("Unsqueeze", ["mask_f", "last_axis"], ["mask_3d"]),  # [B, T, 1]
        helper.make_node("Mul", ["vectors", "mask_3d"], ["masked"]),
        helper.make_node("ReduceSum", ["masked", "time_axis"], ["summed"], keepdims=0),  # [B, 3]
        helper.make_node("ReduceSum", ["mask_3d", "time_axis"], ["count"], keepdims=0),  # [B, 1]
        helper.make_node("Add", ["count", "epsilon"], ["count_safe"]),
        helper.make_node("Div", ["summed", "count_safe"], ["mean"]),
        helper.make_node("Gemm", ["mean", "weight", "bias"], ["logits"]),  # [B, outputs]
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_sentiment",
        [
            helper.make_tensor_value_info("input_ids", tensor.INT64, ["batch", "sequence"]),
            helper.make_tensor_value_info("attention_mask", tensor.INT64, ["batch", "sequence"]),
        ],
        [helper.make_tensor_value_info("logits", tensor.FLOAT, ["batch", outputs])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8  # readable by every onnxruntime >= 1.10
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
