"""``chatpulse forget``: delete users from every table that names them and add them to the opt-out list."""

from __future__ import annotations

import json
import re

import click

from chatpulse.cli.db import cli_settings, store_options
from chatpulse.errors import ConfigError

_LOGIN = re.compile(r"^[a-z0-9_]{1,25}$")


@click.command(name="forget")
@click.argument("logins", nargs=-1, required=True, metavar="LOGIN...")
@click.option("--dry-run", is_flag=True, help="Only count what is stored about them; change nothing.")
@store_options
def command(logins: tuple[str, ...], dry_run: bool, store_dsn: str | None, config_file: str | None) -> None:
    """Delete users' messages, emotes and events from the store, and opt them out.

    Every table with a user column is searched (messages, emotes, events, and any aggregate
    keyed by user); their rows are deleted, replies to them keep only the reply's own text,
    and the logins (and the user ids found for them) are added to privacy.opt_out, so
    nothing of theirs is stored again. Per-minute counts that name nobody keep their
    numbers. One JSON line per table on stdout, then a summary.

    \b
    Examples:
      chatpulse forget --dry-run some_user        # what the store holds about some_user
      chatpulse forget some_user other_user --store chdb:///./data/chatpulse
    """
    from chatpulse.privacy import optout
    from chatpulse.privacy.forget import execute, plan_forget
    from chatpulse.privacy.pseudonym import Pseudonymiser
    from chatpulse.store.existing import open_existing_store

    wanted = [login.lower().lstrip("@#") for login in logins]
    for login in wanted:
        if not _LOGIN.match(login):
            raise ConfigError(f"{login[:40]!r} is not a Twitch login ([a-z0-9_], 1-25 characters)")
    settings = cli_settings(config_file, store_dsn)
    privacy = settings.privacy
    stored = wanted
    if privacy.hash_users and privacy.hash_key is not None:
        pseudonymiser = Pseudonymiser(privacy.hash_key.get_secret_value().encode())
        stored = [pseudonymiser.login(login) for login in wanted]
    added: list[str] = []
    store = open_existing_store(settings.store)  # a mistyped --store creates nothing
    try:
        plan = plan_forget(store, stored)
        if not dry_run:
            # The list first: a pipeline writing meanwhile stops storing them within seconds.
            real_ids = [] if privacy.hash_users else plan.ids
            added = optout.add(privacy.opt_out, [*wanted, *real_ids])
            execute(store, plan)
    finally:
        store.close()
    for action in plan.actions:
        click.echo(
            json.dumps(
                {"table": action.table, "action": action.action, "rows": action.rows, "dry_run": dry_run}
            )
        )
    deleted = sum(a.rows for a in plan.actions if a.action == "delete")
    cleared = sum(a.rows for a in plan.actions if a.action != "delete")
    summary = {
        "logins": wanted, "user_ids": len(plan.ids), "rows_deleted": 0 if dry_run else deleted,
        "rows_found": deleted, "replies_cleared": 0 if dry_run else cleared, "dry_run": dry_run,
        "opt_out": str(privacy.opt_out), "opt_out_added": added,
    }  # fmt: skip
    click.echo(json.dumps(summary))
    verb = "would delete" if dry_run else "deleted"
    tables = (
        ", ".join(f"{a.table} {a.rows:,}" for a in plan.actions if a.rows and a.action == "delete")
        or "nothing"
    )
    click.echo(
        f"{verb} {deleted:,} rows naming {', '.join(wanted)} ({tables}); {cleared:,} replies to them",
        err=True,
    )
    if not dry_run:
        click.echo(f"opted out in {privacy.opt_out}: {', '.join(added) or 'already listed'}", err=True)
