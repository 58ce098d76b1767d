"""``chatpulse sentiment``: text lines or event JSONL in, one JSON object with ``sentiment`` out per
non-empty line, in order."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import Any, TextIO

import click

from chatpulse.config import load_settings
from chatpulse.errors import WireFormatError
from chatpulse.events import ChatEvent, Sentiment
from chatpulse.recording import require_text
from chatpulse.sentiment import create_analyzer, enrich_events
from chatpulse.sentiment.batching import iter_batches
from chatpulse.wire import from_wire, to_wire

MAX_BATCH_AGE_S = 0.2  # a line typed into a pipe is answered within this long


def _lines(stream: TextIO) -> Iterator[str]:
    for line in stream:
        line = line.rstrip("\r\n")
        if line.strip():
            yield line


def _decode(line: str) -> str | ChatEvent | WireFormatError:
    """An event when the line is a wire event object; otherwise the line is chat text."""
    if not line.lstrip().startswith("{"):
        return line
    try:
        obj = json.loads(line)
    except ValueError as exc:
        # A line opening a JSON object was meant as an event: say it is broken, do not score it.
        return WireFormatError(f"not valid JSON: {exc}")
    if not isinstance(obj, dict) or "schema" not in obj:
        return line
    try:
        return from_wire(obj)
    except WireFormatError as exc:
        return exc


_SENTIMENT_FIELDS = tuple(f.name for f in dataclass_fields(Sentiment))


def _dump(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


@click.command(name="sentiment")
@click.argument("file", default="-", type=click.Path(allow_dash=True, dir_okay=False))
@click.option("--analyzer", type=click.Choice(["lexicon", "transformer"]), help="Default: lexicon.")
@click.option("--model", help="Transformer model: Hugging Face id or local folder.")
@click.option("--backend", type=click.Choice(["onnx", "torch"]), help="Transformer backend (default onnx).")
@click.option("--device", help="cpu (default) or cuda.")
@click.option("--batch-size", type=int, help="Messages per analyzer call (default 64).")
@click.option(
    "--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), help="YAML settings."
)
def command(
    file: str,
    analyzer: str | None,
    model: str | None,
    backend: str | None,
    device: str | None,
    batch_size: int | None,
    config_file: Path | None,
) -> None:
    """Score chat text lines or event JSONL from FILE (or - for stdin); JSONL on stdout.

    Each non-empty line gives one JSON object, in order: plain text gives {"text", "sentiment"};
    an event line gives the full event with "sentiment" added (other kinds pass unchanged); a
    malformed event line gives {"error", "raw"}. The rate goes to stderr.

    \b
    Example:
      echo "PogChamp insane play!!!" | chatpulse sentiment
      chatpulse parse chat.irc.gz | chatpulse sentiment --analyzer transformer --model ./my-model
    """
    settings = load_settings(
        config_file=config_file,
        overrides={
            "sentiment.analyzer": analyzer,
            "sentiment.model": model,
            "sentiment.backend": backend,
            "sentiment.device": device,
            "sentiment.batch_size": batch_size,
        },
    )
    if file != "-":
        require_text(file, file)  # missing or binary: exit 2 with one line, before the model loads
    scorer = create_analyzer(settings.sentiment)
    stream = sys.stdin if file == "-" else open(file, encoding="utf-8", errors="replace")  # noqa: SIM115
    scored = passed = errors = 0
    started = time.perf_counter()
    out = sys.stdout
    try:
        for batch in iter_batches(_lines(stream), settings.sentiment.batch_size, MAX_BATCH_AGE_S):
            decoded = [_decode(line) for line in batch]
            texts = [item for item in decoded if isinstance(item, str)]
            events = [item for item in decoded if isinstance(item, ChatEvent)]
            text_verdicts = iter(scorer.analyze(texts) if texts else [])
            enriched = iter(enrich_events(events, scorer) if events else [])
            for line, item in zip(batch, decoded, strict=True):
                if isinstance(item, str):
                    verdict: Sentiment = next(text_verdicts)
                    # Sentiment's fields by hand: dataclasses.asdict deep-copies, ~5x slower.
                    fields = {f: getattr(verdict, f) for f in _SENTIMENT_FIELDS}
                    out.write(_dump({"text": item, "sentiment": fields}))
                    scored += 1
                elif isinstance(item, ChatEvent):
                    event = next(enriched)
                    has_sentiment = getattr(event, "sentiment", None) is not None
                    scored += has_sentiment
                    passed += not has_sentiment
                    out.write(_dump(to_wire(event)))
                else:
                    errors += 1
                    out.write(_dump({"error": str(item), "raw": line}))
                out.write("\n")
            out.flush()
    finally:
        if stream is not sys.stdin:
            stream.close()
    elapsed = max(time.perf_counter() - started, 1e-9)
    click.echo(
        f"scored {scored} messages with {scorer.model_id} ({passed} other events passed through, "
        f"{errors} bad lines); {scored / elapsed:,.0f} msgs/s",
        err=True,
    )
