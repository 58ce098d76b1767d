"""Import the ChatPulse bundle into a real Superset and print what Superset made of it.

Runs in Superset's own virtual environment (``make superset-venv``), with ``SUPERSET_CONFIG_PATH``
pointing at a config whose metadata database is already upgraded and has an admin user (the
integration test prepares both with Superset's CLI). Writes one JSON object: the
imported database, datasets, charts and dashboard, and for every chart the SQL that Superset's
ClickHouse engine spec generates for it, so the caller can run that SQL on ClickHouse (chDB).

    deploy/superset/.venv/bin/python deploy/superset/check_import.py BUNDLE.zip ADMIN result.json

(The result goes to a file: Superset prints its own lines on stdout.)
"""

from __future__ import annotations

import json
import sys
import zipfile
from typing import Any


def chart_query(params: dict[str, Any]) -> dict[str, Any]:
    """The query object Superset's front end builds for the bundle's chart types (simplified:
    no time-range filter, which the dashboard's native filter adds at view time)."""
    metrics = params.get("metrics") or ([params["metric"]] if params.get("metric") else None)
    columns: list[Any]
    if params.get("x_axis"):
        axis = {
            "columnType": "BASE_AXIS",
            "sqlExpression": params["x_axis"],
            "label": params["x_axis"],
            "expressionType": "SQL",
            "timeGrain": params.get("time_grain_sqla"),
        }
        columns = [axis, *params.get("groupby", [])]
    elif params.get("query_mode") == "raw":
        columns, metrics = list(params["all_columns"]), None
    else:
        columns = list(params.get("groupby", []))
    orderby = [[params["timeseries_limit_metric"], False]] if params.get("timeseries_limit_metric") else []
    return {
        "columns": columns,
        "metrics": metrics,
        "filter": [],
        "row_limit": int(params.get("row_limit") or 100),
        "is_timeseries": False,
        "extras": {},
        "orderby": orderby,
    }


def main(argv: list[str]) -> int:
    bundle, admin, out = argv
    from superset.app import create_app  # type: ignore[import-not-found, unused-ignore]

    app = create_app()
    with app.app_context():
        from superset.commands.dashboard.importers.dispatcher import ImportDashboardsCommand  # type: ignore[import-not-found, unused-ignore]
        from superset.commands.importers.v1.utils import get_contents_from_bundle  # type: ignore[import-not-found, unused-ignore]
        from superset.extensions import db, security_manager  # type: ignore[import-not-found, unused-ignore]
        from superset.models.core import Database  # type: ignore[import-not-found, unused-ignore]
        from superset.models.dashboard import Dashboard  # type: ignore[import-not-found, unused-ignore]
        from superset.models.slice import Slice  # type: ignore[import-not-found, unused-ignore]
        from superset.utils.core import override_user  # type: ignore[import-not-found, unused-ignore]

        with zipfile.ZipFile(bundle) as archive:
            files = get_contents_from_bundle(archive)
        with override_user(security_manager.find_user(username=admin)):
            ImportDashboardsCommand(files, overwrite=True).run()
        # Superset asks the live database for its default schema while it builds a virtual
        # dataset's SQL; there is no ClickHouse server here, so answer with the URI's database
        # (what clickhouse-connect's dialect would report). The SQL itself is Superset's own.
        Database.get_default_schema = lambda self, catalog=None: self.url_object.database
        result: dict[str, Any] = {
            "databases": [
                {"name": d.database_name, "backend": d.backend, "uri": d.sqlalchemy_uri}
                for d in db.session.query(Database).all()
            ],
            "dashboards": [
                {"title": d.dashboard_title, "slug": d.slug, "charts": sorted(s.slice_name for s in d.slices)}
                for d in db.session.query(Dashboard).all()
            ],
            "charts": {},
        }
        for chart in db.session.query(Slice).all():
            dataset = chart.datasource
            entry: dict[str, Any] = {"dataset": dataset.table_name, "viz_type": chart.viz_type}
            try:
                entry["sql"] = dataset.get_query_str(chart_query(chart.form_data))
            except Exception as exc:  # noqa: BLE001 - reported to the caller, which fails the test
                entry["error"] = f"{type(exc).__name__}: {exc}"
            result["charts"][chart.slice_name] = entry
    with open(out, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
