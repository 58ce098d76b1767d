"""``TransformerAnalyzer``: any Hugging Face sequence-classification model, on ONNX Runtime or
PyTorch.

A model is a folder (or a cached hub snapshot, see :mod:`chatpulse.sentiment.model_store`) with
``config.json`` (``id2label``), a tokenizer (``tokenizer.json``, or files ``transformers`` can
turn into one) and weights: ``model.onnx``/``onnx/*.onnx`` for the ONNX backend, PyTorch weights
for the torch backend. Messages are emote-normalised (``LUL`` -> 😂), tokenised with truncation
to ``max_length``, sorted by length and run in batches of ``batch_size`` padded only to the
longest message of each batch (chat lengths vary a lot, so this avoids most padding work).

Scores: ``score = P(positive) - P(negative)`` (each class summing the model labels mapped to it);
the label is the most probable class and ``confidence`` its probability. Two-class models have
no neutral output, so they say ``neutral`` when the winning class has less than
:data:`TWO_CLASS_NEUTRAL_BELOW` probability (``confidence`` is then ``1 - |score|``).
"""

from __future__ import annotations

import importlib
import inspect
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from chatpulse.errors import ModelError
from chatpulse.events import Sentiment, SentimentLabel
from chatpulse.sentiment.base import MessageLike, clean_text, text_of
from chatpulse.sentiment.emotes import normalize_emotes
from chatpulse.sentiment.labels import label_classes
from chatpulse.sentiment.model_store import find_onnx, resolve_model_folder

TWO_CLASS_NEUTRAL_BELOW: Final = 0.6
Backend = Literal["onnx", "torch"]
IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float32]


class ClassifierBackend(Protocol):
    """Runs the network: token ids and attention mask ``[batch, length]`` -> logits
    ``[batch, labels]``. Called by :class:`TransformerAnalyzer` once per length bucket."""

    def logits(self, input_ids: IntArray, attention_mask: IntArray) -> FloatArray: ...


class OnnxBackend:
    """ONNX Runtime inference; CPU by default, CUDA when onnxruntime-gpu provides it."""

    def __init__(self, model_file: Path, device: str) -> None:
        ort: Any = importlib.import_module("onnxruntime")
        providers = ["CPUExecutionProvider"]
        if device.startswith("cuda"):
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise ModelError("device cuda needs onnxruntime-gpu (pip install onnxruntime-gpu)")
            providers.insert(0, "CUDAExecutionProvider")
        try:
            self._session = ort.InferenceSession(str(model_file), providers=providers)
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own exception types
            raise ModelError(f"cannot load {model_file}: {str(exc).splitlines()[0]}") from None
        self._inputs = {i.name for i in self._session.get_inputs()}
        if "input_ids" not in self._inputs:
            raise ModelError(f"{model_file} has no input_ids input; is it a text classifier?")

    def logits(self, input_ids: IntArray, attention_mask: IntArray) -> FloatArray:
        feed = {"input_ids": input_ids}
        if "attention_mask" in self._inputs:
            feed["attention_mask"] = attention_mask
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(input_ids)
        result: FloatArray = np.asarray(self._session.run(None, feed)[0], dtype=np.float32)
        return result


class TorchBackend:
    """PyTorch through ``transformers``; fp16 on CUDA. Needs the ``torch`` extra."""

    def __init__(self, folder: Path, device: str) -> None:
        try:
            torch: Any = importlib.import_module("torch")
        except ImportError:
            raise ModelError(
                "the torch backend needs PyTorch: pip install 'chatpulse[torch]' (or use --backend onnx)"
            ) from None
        transformers: Any = importlib.import_module("transformers")
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise ModelError("device cuda requested but PyTorch sees no CUDA device")
        try:
            model = transformers.AutoModelForSequenceClassification.from_pretrained(str(folder))
        except Exception as exc:  # noqa: BLE001 - missing weights, bad config, ...
            reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
            raise ModelError(f"cannot load PyTorch weights from {folder}: {reason}") from None
        model.eval()
        if device.startswith("cuda"):
            model = model.half()
        self._model = model.to(device)
        self._torch = torch
        self._device = device
        self._takes_type_ids = "token_type_ids" in inspect.signature(model.forward).parameters

    def logits(self, input_ids: IntArray, attention_mask: IntArray) -> FloatArray:
        torch = self._torch
        ids = torch.from_numpy(input_ids).to(self._device)
        kwargs = {"input_ids": ids, "attention_mask": torch.from_numpy(attention_mask).to(self._device)}
        if self._takes_type_ids:
            kwargs["token_type_ids"] = torch.zeros_like(ids)
        with torch.inference_mode():
            output = self._model(**kwargs)
        result: FloatArray = output.logits.float().cpu().numpy()
        return result


def _load_tokenizer(folder: Path, max_length: int) -> Any:
    """A ``tokenizers.Tokenizer`` (from tokenizer.json, else converted by transformers)."""
    tokenizers: Any = importlib.import_module("tokenizers")
    file = folder / "tokenizer.json"
    try:
        if file.is_file():
            tokenizer = tokenizers.Tokenizer.from_file(str(file))
        else:
            auto = importlib.import_module("transformers").AutoTokenizer
            tokenizer = auto.from_pretrained(str(folder), use_fast=True).backend_tokenizer
    except Exception as exc:  # noqa: BLE001 - bad JSON, unsupported tokenizer, ...
        raise ModelError(f"cannot load the tokenizer in {folder}: {str(exc).splitlines()[0]}") from None
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_length)
    return tokenizer


def _pad_id(config: Mapping[str, Any], tokenizer: Any) -> int:
    if isinstance(config.get("pad_token_id"), int):
        return int(config["pad_token_id"])
    for token in ("<pad>", "[PAD]", "<|pad|>"):
        found = tokenizer.token_to_id(token)
        if found is not None:
            return int(found)
    return 0


class TransformerAnalyzer:
    """Sentiment from a Hugging Face sequence-classification model (see the module docstring).

    Construction loads everything and raises :class:`~chatpulse.errors.ModelError` with a
    one-line reason (missing model, weights, tokenizer, torch; unmappable labels).
    """

    name = "transformer"

    def __init__(
        self,
        model: str,
        *,
        backend: Backend = "onnx",
        device: str = "cpu",
        batch_size: int = 64,
        max_length: int = 64,
        emote_map: Mapping[str, str] | None = None,
    ) -> None:
        folder = resolve_model_folder(model)
        try:
            config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot read {folder / 'config.json'}: {exc}") from None
        self._classes = label_classes(config.get("id2label") or {})
        self._class_index: dict[SentimentLabel, list[int]] = {
            label: [i for i, c in enumerate(self._classes) if c == label]
            for label in ("neutral", "positive", "negative")  # neutral first: it wins ties
        }
        self._tokenizer = _load_tokenizer(folder, max_length)
        self._pad_id = _pad_id(config, self._tokenizer)
        self._backend: ClassifierBackend
        if backend == "onnx":
            onnx_file = find_onnx(folder)
            if onnx_file is None:
                raise ModelError(
                    f"no ONNX weights (model.onnx or onnx/*.onnx) in {folder}; "
                    f"run `chatpulse models download {model}` with optimum installed, or use --backend torch"
                )
            self._backend = OnnxBackend(onnx_file, device)
        else:
            self._backend = TorchBackend(folder, device)
        self._batch_size = batch_size
        self._emote_map = emote_map
        # A hub id names the model; a local folder is named by its last part, not the machine path.
        self.version = folder.name if Path(model).expanduser().is_dir() else model
        self._model_id = f"{self.name}@{self.version}"

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def classes(self) -> list[SentimentLabel]:
        """The sentiment class of each model output, in output order."""
        return list(self._classes)

    def prepare(self, message: MessageLike) -> str:
        """The text the model sees: invisible characters removed, emotes normalised."""
        text = clean_text(text_of(message))
        if self._emote_map is not None:
            spans = () if isinstance(message, str) else message.emotes
            text = normalize_emotes(text, self._emote_map, spans)
        return text

    def analyze(self, batch: Sequence[MessageLike]) -> list[Sentiment]:
        if not batch:
            return []
        texts = [self.prepare(message) for message in batch]
        encodings = self._tokenizer.encode_batch(texts)
        # Empty messages (emote-only text the tokenizer drops, whitespace) are neutral, not guessed.
        order = sorted((i for i, t in enumerate(texts) if t.strip()), key=lambda i: len(encodings[i].ids))
        probabilities = np.zeros((len(texts), len(self._classes)), dtype=np.float32)
        for start in range(0, len(order), self._batch_size):
            bucket = order[start : start + self._batch_size]
            width = max(1, max(len(encodings[i].ids) for i in bucket))
            ids = np.full((len(bucket), width), self._pad_id, dtype=np.int64)
            mask = np.zeros((len(bucket), width), dtype=np.int64)
            for row, i in enumerate(bucket):
                tokens = encodings[i].ids
                ids[row, : len(tokens)] = tokens
                mask[row, : len(tokens)] = 1
            logits = self._backend.logits(ids, mask)
            probabilities[bucket] = _softmax(logits)
        empty = Sentiment(label="neutral", score=0.0, confidence=1.0, model=self._model_id)
        return [
            self._verdict(row) if text.strip() else empty
            for text, row in zip(texts, probabilities, strict=True)
        ]

    def _verdict(self, probabilities: FloatArray) -> Sentiment:
        mass: dict[SentimentLabel, float] = {
            label: float(probabilities[idx].sum()) for label, idx in self._class_index.items()
        }
        score = max(-1.0, min(1.0, mass["positive"] - mass["negative"]))
        label = max(mass, key=lambda k: mass[k])
        confidence = mass[label]
        if not self._class_index["neutral"] and confidence < TWO_CLASS_NEUTRAL_BELOW:
            label, confidence = "neutral", 1.0 - abs(score)
        return Sentiment(
            label=label, score=round(score, 4), confidence=round(confidence, 4), model=self._model_id
        )


def _softmax(logits: FloatArray) -> FloatArray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    result: FloatArray = exp / exp.sum(axis=1, keepdims=True)
    return result
