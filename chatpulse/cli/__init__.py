"""The ``chatpulse`` command: one click group; each subcommand lives in its own module.

Subcommands are imported only when invoked, so ``chatpulse --help`` stays fast and a missing
optional dependency of one command cannot break the others. To add a command, write
``chatpulse/cli/<name>.py`` exposing a click command named ``command`` and list it in
:data:`COMMANDS`.

Exit codes (DESIGN.md section 6): 0 success, 1 runtime failure, 2 bad usage or configuration.
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Any

import click

from chatpulse.errors import ChatPulseError, ConfigError, ModelError

COMMANDS: dict[str, tuple[str, str]] = {
    # name: (module under chatpulse.cli, one-line help shown in `chatpulse --help`)
    "bench": ("bench", "Run the benchmarks; print a table, write bench-results.json."),
    "db": ("db", "Store administration: db migrate creates or upgrades the ClickHouse schema."),
    "emotes": ("emotes", "Third-party emotes (7TV, BTTV, FFZ): refresh the cache, list."),
    "parse": ("parse", "Raw IRC lines -> event JSONL."),
    "sentiment": ("sentiment", "Text lines or event JSONL -> the same with sentiment."),
    "models": ("models", "Download or locate transformer sentiment models."),
    "query": ("query", "Run SQL on the store (chDB or ClickHouse); table, csv or jsonl."),
    "report": ("report", "One channel's activity, sentiment, emotes, chatters, events, hype moments."),
    "tail": ("tail", "Live chat, human-readable, from Twitch, a recording or synthetic chat."),
    "run": ("run", "The whole pipeline in one process: source -> sentiment -> store -> live dashboard."),
    "dashboard": ("dashboard", "Serve the live dashboard for an existing store."),
    "ingest": ("ingest", "Kafka stage 1: a source -> parsed events on the raw topic."),
    "enrich": ("enrich", "Kafka stage 2: raw topic -> sentiment -> enriched topic (scale out: N processes)."),
    "sink": ("sink", "Kafka stage 3: enriched topic -> ClickHouse."),
    "import": ("import_", "Past chat from a justlog/rustlog log archive, through the live stages."),
    "streams": ("streams", "A channel's streams (Twitch's, or chat sessions cut at silences), newest first."),
    "recap": ("recap", "One stream's recap: a self-contained offline HTML page, or JSON."),
    "forget": ("forget", "Delete users from every table that names them; add them to the opt-out list."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module = importlib.import_module(f"chatpulse.cli.{entry[0]}")
        command: click.Command = module.command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More logging on stderr (-vv for debug).")
@click.version_option(package_name="chatpulse")
def cli(verbose: int) -> None:
    """ChatPulse: real-time analytics for Twitch chat.

    \b
    Example:
      chatpulse parse ../shared/data/replay/xqcow-2019-09-15.irc.gz | head
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def main(argv: list[str] | None = None) -> Any:
    """Console-script entry point: maps ChatPulse errors onto exit codes with a one-line reason."""
    try:
        code = cli.main(args=argv, prog_name="chatpulse", standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
        return code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.exceptions.NoArgsIsHelpError as exc:
        exc.show()  # a group without its subcommand: the help is the answer
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        # One line naming the problem (click's own form adds "Usage:" and "Try ..." lines).
        where = exc.ctx.command_path if exc.ctx is not None else "chatpulse"
        click.echo(f"{where}: {exc.format_message()} (see {where} --help)", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (ConfigError, ModelError) as exc:
        click.echo(f"chatpulse: {exc}", err=True)
        sys.exit(2)
    except ChatPulseError as exc:
        click.echo(f"chatpulse: {exc}", err=True)
        sys.exit(1)
    except BrokenPipeError:
        sys.stderr.close()  # downstream closed the pipe (| head): not an error
        sys.exit(0)
