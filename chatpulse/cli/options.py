"""Click options shared by the commands that read live chat (``tail``, ``run``, ``ingest``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from chatpulse.sources.channels import read_channel_file

F = TypeVar("F", bound=Callable[..., Any])


def live_chat_options(command: F) -> F:
    """``--irc-url URL``, ``--channels-file FILE`` and ``--source irc|eventsub|both``.

    The command receives ``irc_url``, ``channels_file`` and ``live_source``: pass the first and
    last as the ``twitch.irc_url`` and ``twitch.source`` overrides of ``load_settings``, and the
    file to :func:`channel_list`.
    """
    command = click.option(
        "--irc-url", default=None, help="IRC endpoint: ircs://host:port, irc://, wss://, ws://."
    )(command)
    command = click.option(
        "--source", "live_source", type=click.Choice(["irc", "eventsub", "both"]), default=None,
        help="Live chat path: IRC (default), EventSub, or both deduplicated by message id.",
    )(command)  # fmt: skip
    return click.option(
        "--channels-file", type=click.Path(dir_okay=False), default=None,
        help="File of channel names, one per line or comma-separated (# starts a comment).",
    )(command)  # fmt: skip


def channel_list(channels: tuple[str, ...], channels_file: str | None) -> tuple[str, ...]:
    """``--channel`` flags followed by the names in ``--channels-file``."""
    return channels + read_channel_file(channels_file) if channels_file is not None else channels
