"""Finding transformer models on this machine and fetching them from the Hugging Face hub.

``resolve_model_folder`` never touches the network: a model is a local folder or a snapshot in
the Hugging Face cache, or a :class:`~chatpulse.errors.ModelError` says how to get it. Only
``download_model`` (``chatpulse models download ID``) goes online. Starting a pipeline therefore
never begins a surprise multi-hundred-megabyte download, and it behaves the same offline.
"""

from __future__ import annotations

import importlib
import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from chatpulse.errors import ModelError

_HUB_ID: Final = re.compile(r"[\w.-]+(/[\w.-]+)?")
# Files a sequence-classification model needs besides its weights (tokenizer in any format).
META_FILES: Final = frozenset({
    "config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
    "vocab.json", "vocab.txt", "merges.txt", "sentencepiece.bpe.model", "spiece.model",
    "added_tokens.json",
})  # fmt: skip
TORCH_WEIGHTS: Final = ("model.safetensors", "pytorch_model.bin")
REACH_TIMEOUT_S: Final = 5.0  # a connection to the hub; a working network answers in well under 1 s
_PROXY_VARIABLES: Final = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


def how_to_get(model: str) -> str:
    """The one-line advice every "model missing" error ends with."""
    return (
        f"get it with `chatpulse models download {model}` on a machine with internet, "
        "or pass --model PATH to a local model folder"
    )


def resolve_model_folder(model: str) -> Path:
    """The folder holding ``model`` (a local path or a cached hub id), without network access."""
    path = Path(model).expanduser()
    if path.is_dir():
        return path
    if path.exists():
        raise ModelError(f"model {model!r} is a file; pass the folder that holds config.json")
    if not _HUB_ID.fullmatch(model):
        raise ModelError(f"model folder {model!r} does not exist; {how_to_get(model)}")
    hub = importlib.import_module("huggingface_hub")
    try:
        return Path(hub.snapshot_download(repo_id=model, local_files_only=True))
    except Exception:  # noqa: BLE001 - any miss in the cache means the same thing here
        raise ModelError(
            f"model {model!r} is neither a local folder nor in the Hugging Face cache; " + how_to_get(model)
        ) from None


def find_onnx(folder: Path) -> Path | None:
    """``model.onnx``, else ``onnx/model.onnx``, else the first other ``onnx/*.onnx``."""
    for candidate in (folder / "model.onnx", folder / "onnx" / "model.onnx"):
        if candidate.is_file():
            return candidate
    others = sorted((folder / "onnx").glob("*.onnx")) if (folder / "onnx").is_dir() else []
    return others[0] if others else None


def pick_onnx(files: list[str]) -> str | None:
    """The repository ONNX file to fetch: the full-precision one when there is a choice."""
    onnx = [f for f in files if f.endswith(".onnx")]
    for preferred in ("model.onnx", "onnx/model.onnx"):
        if preferred in onnx:
            return preferred
    return sorted(onnx)[0] if onnx else None


@dataclass(frozen=True, slots=True)
class DownloadResult:
    """What ``download_model`` fetched, and whether ONNX weights are now available."""

    folder: Path
    onnx: Path | None
    note: str


def download_model(model: str, revision: str | None = None) -> DownloadResult:
    """Fetch config, tokenizer and weights (ONNX when the repository has them; else PyTorch,
    exported to ONNX when optimum is installed). Network problems raise ModelError."""
    if not _HUB_ID.fullmatch(model):
        raise ModelError(f"{model!r} is not a Hugging Face model id (owner/name)")
    hub = importlib.import_module("huggingface_hub")
    _require_reachable(str(importlib.import_module("huggingface_hub.constants").ENDPOINT), model)
    # The hub logs every retry of a failing request as a WARNING (twice, through its own
    # handler and ours); the one line that matters is the ModelError below.
    importlib.import_module("huggingface_hub.utils.logging").set_verbosity_error()
    try:
        files: list[str] = list(hub.HfApi().list_repo_files(model, revision=revision))
    except Exception as exc:  # noqa: BLE001 - offline, unknown repo, gated, rate-limited ...
        raise ModelError(f"cannot list {model!r} on the Hugging Face hub: {_first_line(exc)}") from None
    onnx_file = pick_onnx(files)
    wanted = [f for f in files if f.rsplit("/", 1)[-1] in META_FILES and "/" not in f]
    if onnx_file is not None:
        wanted += [f for f in files if f == onnx_file or f.startswith(onnx_file + "_data")]
    else:
        wanted += [next((w for w in TORCH_WEIGHTS if w in files), "")]
    try:
        folder = Path(hub.snapshot_download(repo_id=model, revision=revision, allow_patterns=wanted))
    except Exception as exc:  # noqa: BLE001
        raise ModelError(f"downloading {model!r} failed: {_first_line(exc)}") from None
    found = find_onnx(folder)
    if found is not None:
        return DownloadResult(folder, found, "ONNX weights ready")
    return _export_onnx(folder)


def _require_reachable(endpoint: str, model: str, timeout_s: float = REACH_TIMEOUT_S) -> None:
    """One TCP connection to the hub first: without a network, huggingface_hub retries each
    request with backoff for ~24 s; this says so in one line within ``timeout_s``. Skipped behind
    a proxy (the hub is then reached through it, not directly) and in the hub's offline mode
    (HF_HUB_OFFLINE: the hub refuses at once, in one line)."""
    if any(os.environ.get(name) for name in (*_PROXY_VARIABLES, "HF_HUB_OFFLINE")):
        return
    parts = urlsplit(endpoint)
    host = parts.hostname or endpoint
    port = parts.port or (80 if parts.scheme == "http" else 443)
    try:
        socket.create_connection((host, port), timeout=timeout_s).close()
    except OSError as exc:
        reason = exc.strerror or str(exc) or exc.__class__.__name__
        raise ModelError(
            f"cannot download {model!r}: the Hugging Face hub at {endpoint} cannot be reached "
            f"({reason}); `models download` needs internet, or copy a model folder here and pass --model PATH"
        ) from None


def _export_onnx(folder: Path) -> DownloadResult:
    try:
        exporters: Any = importlib.import_module("optimum.exporters.onnx")
    except ImportError:
        return DownloadResult(
            folder,
            None,
            "only PyTorch weights: use --backend torch, or `pip install 'optimum[onnx]'` and "
            "download again to export ONNX",
        )
    try:
        exporters.main_export(str(folder), output=str(folder / "onnx"), task="text-classification")
    except Exception as exc:  # noqa: BLE001 - optimum raises many kinds
        raise ModelError(f"ONNX export of {folder} failed: {_first_line(exc)}") from None
    return DownloadResult(folder, find_onnx(folder), "exported ONNX weights with optimum")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else exc.__class__.__name__
