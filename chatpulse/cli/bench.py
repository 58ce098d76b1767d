"""``chatpulse bench``: run benchmarks, print one table, write ``bench-results.json``."""

from __future__ import annotations

import importlib
import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from chatpulse.bench import BENCHMARKS, BenchOptions, Measurement
from chatpulse.errors import ChatPulseError

_DEFAULT_SHARED = Path("../shared/data")
# The checkout's sibling folder, for a run started elsewhere (an editable install of the repo).
_CHECKOUT_SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


def _shared_data(given: Path | None) -> Path:
    """The captures folder: ``--shared-data``, else ../shared/data here or beside the checkout."""
    candidates = [given] if given is not None else [_DEFAULT_SHARED, _CHECKOUT_SHARED]
    for folder in candidates:
        if (folder / "replay").is_dir():
            return folder
    shown = given if given is not None else _DEFAULT_SHARED
    raise click.UsageError(f"--shared-data {shown}: no replay/ captures there (pass the shared data folder)")


@click.command(name="bench", epilog="Benchmarks: " + ", ".join(BENCHMARKS))
@click.argument("names", nargs=-1)
@click.option(
    "--shared-data",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of the shared real-world captures (default: ../shared/data).",
)
@click.option("--quick", is_flag=True, help="Smaller inputs: a smoke run, not a measurement.")
@click.option("--opt", "opts", multiple=True, metavar="KEY=VALUE", help="Benchmark-specific option.")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("bench-results.json"),
    show_default=True,
    help="Where to write the results as JSON.",
)
def command(
    names: tuple[str, ...], shared_data: Path | None, quick: bool, opts: tuple[str, ...], output: Path
) -> None:
    """Run benchmarks (all when NAMES is empty or 'all') and print one table.

    \b
    Example:
      chatpulse bench parse
    """
    selected = list(BENCHMARKS) if not names or names == ("all",) else list(names)
    unknown = [n for n in selected if n not in BENCHMARKS]
    if unknown:
        raise click.UsageError(f"unknown benchmark {unknown[0]!r}; choose from {', '.join(BENCHMARKS)}")
    extra = {}
    for opt in opts:
        key, sep, value = opt.partition("=")
        if not sep:
            raise click.UsageError(f"--opt {opt!r} must be KEY=VALUE")
        extra[key] = value
    options = BenchOptions(shared_data=_shared_data(shared_data), quick=quick, extra=extra)
    results: list[Measurement] = []
    console = Console(stderr=True)
    for name in selected:
        console.print(f"[bold]bench {name}[/bold]: {BENCHMARKS[name]}")
        # A fresh process per benchmark: peak-memory figures (ru_maxrss) and chDB's one folder
        # per process must not carry over from the benchmark before.
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
            try:
                results.extend(pool.submit(_run_one, name, options).result())
            except BrokenProcessPool:
                raise ChatPulseError(f"bench {name}: its process died (killed, or out of memory)") from None
    _print_table(results)
    output.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n", encoding="utf-8")
    console.print(f"wrote {output}")


def _run_one(name: str, options: BenchOptions) -> list[Measurement]:
    module = importlib.import_module(f"chatpulse.bench.{name}")
    measurements: list[Measurement] = module.run(options)
    return measurements


def _print_table(results: list[Measurement]) -> None:
    table = Table(title="ChatPulse benchmarks")
    for column in ("benchmark", "measurement", "value", "unit", "target", "met", "note"):
        table.add_column(column, justify="right" if column == "value" else "left")
    for r in results:
        met = "" if r.met is None else ("yes" if r.met else "NO")
        table.add_row(r.benchmark, r.name, f"{r.value:,.2f}", r.unit, r.target, met, r.note)
    Console(width=160).print(table)
