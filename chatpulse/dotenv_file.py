"""Reading a ``.env`` file for :mod:`chatpulse.config`, with its problems reported as ours.

python-dotenv parses the lines (same syntax and ``${VAR}`` interpolation as its
``dotenv_values``), but its own handling of a bad file is not for our users: a file that is not
UTF-8 raises UnicodeDecodeError out of the library, and a line it cannot parse is logged by the
``dotenv.main`` logger as "Python-dotenv could not parse statement starting at line N". Here
the first is a :class:`ConfigError` naming the file and line (exit 2), and the second one of
our warnings naming the file, the line and the setting the line was meant for. Values never
appear in a message: a ``.env`` holds the Twitch token and the ClickHouse password.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable
from pathlib import Path

from dotenv.main import resolve_variables
from dotenv.parser import parse_stream

from chatpulse.textfile import read_text

log = logging.getLogger("chatpulse.config")

# The name a KEY=VALUE line starts with (python-dotenv's own key grammar, optional "export ").
_LINE_KEY = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=")


def read_env_file(path: Path, setting_of: Callable[[str], str | None]) -> dict[str, str | None]:
    """``KEY -> value`` of every good line of ``path``, later lines winning, ``${VAR}`` resolved.

    A line python-dotenv cannot parse is skipped with a warning that names the file, the line and
    (``setting_of(KEY)``) the setting it was meant for. Raises :class:`ConfigError` when the file
    cannot be read or is not text.
    """
    pairs: list[tuple[str, str | None]] = []
    for binding in parse_stream(io.StringIO(read_text(path, str(path)))):
        if binding.error:
            _warn_bad_line(path, binding.original.line, binding.original.string, setting_of)
        elif binding.key is not None:
            pairs.append((binding.key, binding.value))
    # The same resolution dotenv_values applies (override=True: the file's own earlier values
    # win over the environment inside ${...}).
    return dict(resolve_variables(pairs, override=True))


def _warn_bad_line(path: Path, line: int, text: str, setting_of: Callable[[str], str | None]) -> None:
    match = _LINE_KEY.match(text)
    if match is None:
        log.warning("%s line %d: not a KEY=VALUE line; ignored", path, line)
        return
    key = match.group(1)
    setting = setting_of(key)
    meant = f"{key}, setting {setting}" if setting else key
    log.warning(
        "%s line %d (%s): the value cannot be read (an unclosed quote?); the line is ignored",
        path, line, meant,
    )  # fmt: skip
