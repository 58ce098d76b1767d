"""Opening a store that must already exist: what every read command (query, report, dashboard...)
uses instead of :func:`~chatpulse.store.open_store`, so a mistyped ``--store`` creates nothing.

``open_store`` creates what it opens (a chDB folder, on ``migrate`` the schema): right for
``run``, ``sink`` and ``db migrate``, wrong for a command asked to read. Here a chDB path that
does not exist, or a folder or server database without the ChatPulse schema, is a
:class:`ConfigError` (exit 2) in one line: ``no ChatPulse store at PATH``. Nothing is created:
a chDB folder is checked on disk before chDB would create its files in it.
"""

from __future__ import annotations

from pathlib import Path

from chatpulse.config import StoreSettings
from chatpulse.errors import ConfigError
from chatpulse.store import Store, open_store
from chatpulse.store.chdb_folder import has_chatpulse_schema
from chatpulse.store.dsn import MEMORY, ChdbTarget, parse_dsn
from chatpulse.store.migrations import SCHEMA_TABLE

_HINT = "(check --store / store.dsn; `chatpulse run` or `chatpulse db migrate` creates one)"


def open_existing_store(settings: StoreSettings) -> Store:
    """Open ``settings.dsn`` only if it holds a ChatPulse store; else ConfigError, nothing made."""
    target = parse_dsn(settings.dsn)
    if isinstance(target, ChdbTarget):
        if target.path == MEMORY:
            raise ConfigError(f"no ChatPulse store in memory: chdb:///{MEMORY} starts empty each time")
        folder = Path(target.path).expanduser()
        if not folder.exists():
            raise ConfigError(f"no ChatPulse store at {target.path}: no such folder {_HINT}")
        if not folder.is_dir():
            raise ConfigError(
                f"no ChatPulse store at {target.path}: it is a file, not a store folder {_HINT}"
            )
        if not has_chatpulse_schema(folder):
            raise ConfigError(
                f"no ChatPulse store at {target.path}: the folder holds no ChatPulse schema {_HINT}"
            )
        return open_store(settings)
    store = open_store(settings)
    try:
        found = store.query(
            "SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND name = {t:String}",
            {"t": SCHEMA_TABLE},
        )
    except BaseException:
        store.close()
        raise
    if not found or not found[0]["n"]:
        store.close()
        raise ConfigError(
            f"no ChatPulse store at {target.describe()}: the database holds no ChatPulse schema {_HINT}"
        )
    return store
