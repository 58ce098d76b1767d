"""``chatpulse models``: fetch and locate transformer models."""

from __future__ import annotations

import click

from chatpulse.sentiment.model_store import download_model, find_onnx, resolve_model_folder


@click.group(name="models")
def command() -> None:
    """Fetch and locate transformer sentiment models.

    \b
    Example:
      chatpulse models download cardiffnlp/twitter-roberta-base-sentiment-latest
    """


@command.command(name="download")
@click.argument("model_id")
@click.option("--revision", help="Branch, tag or commit (default: the main branch).")
def download(model_id: str, revision: str | None) -> None:
    """Download MODEL_ID from the Hugging Face hub into its cache (needs internet).

    Fetches config, tokenizer and ONNX weights; when the repository has only PyTorch weights,
    fetches those and exports ONNX if optimum is installed. Prints the local folder.

    \b
    Example:
      chatpulse models download cardiffnlp/twitter-roberta-base-sentiment-latest
    """
    result = download_model(model_id, revision)
    click.echo(str(result.folder))
    click.echo(f"{model_id}: {result.note}", err=True)


@command.command(name="path")
@click.argument("model")
def path(model: str) -> None:
    """Print the local folder of MODEL (a folder or a cached hub id); exit 2 when absent.

    \b
    Example:
      chatpulse models path cardiffnlp/twitter-roberta-base-sentiment-latest
    """
    folder = resolve_model_folder(model)
    click.echo(str(folder))
    onnx = find_onnx(folder)
    click.echo(f"ONNX weights: {onnx if onnx else 'none (use --backend torch)'}", err=True)
