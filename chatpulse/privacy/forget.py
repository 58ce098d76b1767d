"""``chatpulse forget``: find every stored row that names a user, and delete it.

Tables are found from the store itself (``system.columns``), not from a fixed list, so a table
a later migration adds is covered as soon as it has a user column:

- a row is the user's when a login column (``user_login``, ``target_user_login``) holds one of
  their logins, an id column (``user_id``, ``target_user_id``) one of their ids (looked up from
  the logins first, so a renamed user goes too), a ``params`` map names them (a gift's
  recipient, a raid's raider), or a ``raw`` line carries their ``:login!`` prefix or id tag;
- a reply to one of their messages is someone else's message: it stays, without
  ``reply_parent_user_login`` / ``reply_parent_id``;
- views are skipped (their target tables are covered), and so are aggregates that name no user
  (per-minute counts keep their numbers; ``chatters`` there is a ``uniq`` sketch of hashes).

Deleting is ``ALTER TABLE ... DELETE`` / ``UPDATE`` with ``mutations_sync = 2``: the same SQL on
chDB and on a server, it rewrites the parts (the data is gone from disk, not masked as a
lightweight delete leaves it until a merge) and returns once done on every replica.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from chatpulse.store import Store

LOGIN_COLUMNS: Final = ("user_login", "target_user_login")
ID_COLUMNS: Final = ("user_id", "target_user_id")
REPLY_COLUMNS: Final = ("reply_parent_user_login", "reply_parent_id")
_LOOKED_AT: Final = (*LOGIN_COLUMNS, *ID_COLUMNS, *REPLY_COLUMNS, "params", "raw")
_NAME: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class TableAction:
    """What forgetting does to one table: delete rows, or clear reply columns."""

    table: str
    action: str  # "delete" or "clear reply"
    where: str
    rows: int = 0


@dataclass(slots=True)
class ForgetPlan:
    """The user's logins and ids as stored, and the rows of each table that name them."""

    logins: list[str]
    ids: list[str]
    actions: list[TableAction] = field(default_factory=list)

    @property
    def params(self) -> dict[str, Any]:
        names = [*self.logins, *self.ids]
        patterns = [f":{login}!" for login in self.logins] + [
            f"{tag}={value};" for tag in ("login", "user-id", "target-user-id") for value in names
        ]
        return {"logins": self.logins, "ids": self.ids, "names": names, "patterns": patterns}


def user_tables(store: Store) -> dict[str, set[str]]:
    """Table -> the columns of :data:`_LOOKED_AT` it has, for the database's stored tables."""
    rows = store.query(
        "SELECT c.table AS table, c.name AS column FROM system.columns AS c "
        "INNER JOIN system.tables AS t ON t.database = c.database AND t.name = c.table "
        "WHERE c.database = currentDatabase() AND c.name IN {names:Array(String)} "
        "AND t.engine NOT IN ('MaterializedView', 'View', 'Null', 'LiveView')",
        {"names": list(_LOOKED_AT)},
    )
    tables: dict[str, set[str]] = {}
    for row in rows:
        table = str(row["table"])
        if _NAME.match(table):  # spliced into SQL below: only plain identifiers
            tables.setdefault(table, set()).add(str(row["column"]))
    return tables


def _where(columns: set[str]) -> str | None:
    terms = [f"{c} IN {{logins:Array(String)}}" for c in LOGIN_COLUMNS if c in columns]
    terms += [f"{c} IN {{ids:Array(String)}}" for c in ID_COLUMNS if c in columns]
    if "params" in columns and terms:  # a Map(String, String) beside user columns: USERNOTICE params
        terms.append("hasAny(mapValues(params), {names:Array(String)})")
    if "raw" in columns and terms:
        terms.append("multiSearchAnyCaseInsensitive(raw, {patterns:Array(String)})")
    return " OR ".join(terms) if terms else None


def resolve_ids(store: Store, logins: Sequence[str], tables: dict[str, set[str]]) -> list[str]:
    """The user ids stored with ``logins`` (a login column beside its id column)."""
    ids: set[str] = set()
    for table, columns in sorted(tables.items()):
        for login_column, id_column in zip(LOGIN_COLUMNS, ID_COLUMNS, strict=True):
            if login_column in columns and id_column in columns:
                rows = store.query(  # identifiers checked in user_tables; values are parameters
                    f"SELECT DISTINCT {id_column} AS id FROM {table} "  # noqa: S608
                    f"WHERE {login_column} IN {{logins:Array(String)}} AND {id_column} != ''",
                    {"logins": list(logins)},
                )
                ids.update(str(row["id"]) for row in rows if row["id"])
    return sorted(ids)


def plan_forget(store: Store, logins: Sequence[str], extra_ids: Sequence[str] = ()) -> ForgetPlan:
    """What forgetting ``logins`` (stored form: pseudonyms under ``hash_users``) would remove."""
    tables = user_tables(store)
    plan = ForgetPlan(list(logins), sorted({*resolve_ids(store, logins, tables), *extra_ids}))
    params = plan.params
    for table, columns in sorted(tables.items()):
        where = _where(columns)
        if where is not None:
            count = store.query(f"SELECT count() AS n FROM {table} WHERE {where}", params)  # noqa: S608
            plan.actions.append(TableAction(table, "delete", where, int(count[0]["n"])))
        if set(REPLY_COLUMNS) <= columns:
            reply = "reply_parent_user_login IN {logins:Array(String)}"
            count = store.query(f"SELECT count() AS n FROM {table} WHERE {reply}", params)  # noqa: S608
            plan.actions.append(TableAction(table, "clear reply", reply, int(count[0]["n"])))
    return plan


def execute(store: Store, plan: ForgetPlan) -> None:
    """Carry out ``plan``: deletions first, then the replies' parent columns cleared."""
    params = plan.params
    for action in plan.actions:
        if not action.rows:
            continue
        if action.action == "delete":
            store.command(
                f"ALTER TABLE {action.table} DELETE WHERE {action.where} SETTINGS mutations_sync = 2", params
            )
        else:
            store.command(
                f"ALTER TABLE {action.table} UPDATE reply_parent_user_login = '', reply_parent_id = '' "
                f"WHERE {action.where} SETTINGS mutations_sync = 2",
                params,
            )
