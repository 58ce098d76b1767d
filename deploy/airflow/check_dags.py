"""Load the ChatPulse DAGs in a real Airflow and optionally run some with ``dag.test()``.

Runs in Airflow's own virtual environment (``make airflow-venv`` -> deploy/airflow/.venv, with
ChatPulse installed into it). Prints one JSON object on stdout::

    {"import_errors": {file: traceback}, "dags": {dag_id: {"schedule": ..., "tasks": [...]}},
     "runs": {dag_id: {"state": "success"|"failed", "tasks": {task_id: state}}}}

    AIRFLOW_HOME=/tmp/af deploy/airflow/.venv/bin/airflow db migrate
    AIRFLOW_HOME=/tmp/af CHATPULSE_STORE=chdb:///./data/chatpulse \\
        deploy/airflow/.venv/bin/python deploy/airflow/check_dags.py \\
        --test chatpulse_hourly_reports=2019-09-15T01:00:00Z

Exit code 0 when every DAG imported (run states are reported, not judged: a data-quality run
is supposed to fail on bad data), 1 on import errors.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

DAGS_FOLDER = Path(__file__).resolve().parent / "dags"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Load (and test-run) the ChatPulse DAGs.")
    parser.add_argument(
        "--test",
        action="append",
        default=[],
        metavar="DAG_ID=RUN_AFTER",
        help="run this DAG with dag.test() for the interval before RUN_AFTER (ISO-8601)",
    )
    parser.add_argument("--out", type=Path, default=None, help="write the JSON here (default: stdout)")
    args = parser.parse_args(argv)
    os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(DAGS_FOLDER))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

    from airflow.dag_processing.dagbag import DagBag  # type: ignore[import-not-found, unused-ignore]

    bag = DagBag(dag_folder=str(DAGS_FOLDER))
    out: dict[str, Any] = {
        "import_errors": dict(bag.import_errors),
        "dags": {
            dag_id: {"schedule": str(dag.schedule), "tasks": sorted(dag.task_dict), "tags": sorted(dag.tags)}
            for dag_id, dag in sorted(bag.dags.items())
        },
        "runs": {},
    }
    for item in args.test:
        dag_id, _, when = item.partition("=")
        run_after = datetime.fromisoformat(when.replace("Z", "+00:00"))
        run = bag.dags[dag_id].test(logical_date=run_after)
        tis = run.get_task_instances() if run is not None else []
        out["runs"][dag_id] = {
            "state": str(run.state) if run is not None else None,
            "data_interval": [str(run.data_interval_start), str(run.data_interval_end)] if run else None,
            "tasks": {f"{ti.task_id}[{ti.map_index}]": str(ti.state) for ti in tis},
        }
    # Airflow logs to stdout too; --out keeps the result apart from them.
    text = json.dumps(out) + "\n"
    if args.out is not None:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 1 if bag.import_errors else 0


if __name__ == "__main__":
    sys.exit(main())
