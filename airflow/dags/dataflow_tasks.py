"""The task plan of the dataflow DAGs, as plain data.

Pure Python (standard library only): the DAG files turn this plan into BashOperators, and
tests import it without Airflow to run the very same commands in the same order:

    python3 airflow/dags/dataflow_tasks.py            # daily plan as JSON
    python3 airflow/dags/dataflow_tasks.py --backfill 2026-05-01 2026-05-03

Every command reads the CLI and the project directory from the environment
(``$DATAFLOW_CLI``, ``$DATAFLOW_PROJECT_DIR``), which the DAG fills from Airflow Variables
(``dataflow_cli``, ``dataflow_project_dir``) with defaults from the worker's environment.
The only Jinja left in a command is ``{{ ds }}`` (the DAG run's logical date).

Each step also lists the URIs of the tables it writes (``outlets``): ``load`` the raw tables,
``build`` the models. The DAG files declare them as Airflow Assets (3.x) or Datasets (2.x), so
other DAGs can be scheduled on data. A URI is Airflow's PostgreSQL form,
``postgres://host:port/database/schema/table``, from the worker's DATAFLOW_DATABASE_URL
(credentials dropped); OpenLineage names the same table ``postgres://host:port`` +
``database.schema.table``.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import sys
from typing import Any, Dict, List, Mapping, Sequence
from urllib.parse import unquote, urlsplit

#: Sources of examples/shop/dataflow.yml. Override with DATAFLOW_SOURCES="a,b,c".
DEFAULT_SOURCES = ("customers", "orders", "payments", "rates")
#: Models of examples/shop (the tables and views `build` publishes). Override with DATAFLOW_MODELS.
DEFAULT_MODELS = (
    "stg_customers", "stg_orders", "stg_payments", "stg_rates",
    "dim_customers", "fct_orders", "fct_daily_revenue",
)
#: Schema of the raw tables and models (examples/shop/dataflow.yml `warehouse.schema`).
DEFAULT_SCHEMA = "analytics"
#: Where the assets live when the worker has no DATAFLOW_DATABASE_URL (the CLI's embedded PostgreSQL).
DEFAULT_DATABASE = "postgres://localhost:5432/postgres"
#: What a worker runs when no Variable / env says otherwise (the docker image links it).
DEFAULT_CLI = "dataflow"
DEFAULT_PROJECT_DIR = "/opt/dataflow/examples/shop"
#: The CLI's "nothing to do" exit code: Airflow marks the task skipped, not failed.
SKIP_EXIT_CODE = 99

_CLI = '$DATAFLOW_CLI'
_PROJECT = '--project "$DATAFLOW_PROJECT_DIR"'


def sources_from_env(env: Mapping[str, str] = os.environ) -> List[str]:
    """The source list: DATAFLOW_SOURCES (comma separated) or the example's four sources."""
    raw = env.get("DATAFLOW_SOURCES", "")
    names = [s.strip() for s in raw.split(",") if s.strip()]
    return names or list(DEFAULT_SOURCES)


def defaults_from_env(env: Mapping[str, str] = os.environ) -> Dict[str, str]:
    """Fallbacks used when the Airflow Variables are not set."""
    return {
        "DATAFLOW_CLI": env.get("DATAFLOW_CLI", DEFAULT_CLI),
        "DATAFLOW_PROJECT_DIR": env.get("DATAFLOW_PROJECT_DIR", DEFAULT_PROJECT_DIR),
    }


def operator_env_template(env: Mapping[str, str] = os.environ) -> Dict[str, str]:
    """BashOperator ``env`` (a templated field): Airflow Variables first, then the defaults."""
    defaults = defaults_from_env(env)
    return {
        "DATAFLOW_CLI": "{{ var.value.get('dataflow_cli', %s) }}" % json.dumps(defaults["DATAFLOW_CLI"]),
        "DATAFLOW_PROJECT_DIR": "{{ var.value.get('dataflow_project_dir', %s) }}"
        % json.dumps(defaults["DATAFLOW_PROJECT_DIR"]),
    }


def _names_from_env(env: Mapping[str, str], key: str, default: Sequence[str]) -> List[str]:
    names = [s.strip() for s in env.get(key, "").split(",") if s.strip()]
    return names or list(default)


def models_from_env(env: Mapping[str, str] = os.environ) -> List[str]:
    """The models `build` publishes: DATAFLOW_MODELS (comma separated) or the shop's seven."""
    return _names_from_env(env, "DATAFLOW_MODELS", DEFAULT_MODELS)


def database_location(env: Mapping[str, str] = os.environ) -> str:
    """``postgres://host:port/database`` of DATAFLOW_DATABASE_URL, never its user or password."""
    url = env.get("DATAFLOW_DATABASE_URL", "")
    if not url:
        return DEFAULT_DATABASE
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ValueError("DATAFLOW_DATABASE_URL must be a postgres:// URL")
    database = unquote(parts.path.strip("/")) or "postgres"
    return "postgres://%s:%d/%s" % (parts.hostname or "localhost", parts.port or 5432, database)


def table_uri(table: str, env: Mapping[str, str] = os.environ) -> str:
    """The Asset / Dataset URI of a table in the warehouse schema (DATAFLOW_SCHEMA, default analytics)."""
    schema = env.get("DATAFLOW_SCHEMA", DEFAULT_SCHEMA)
    return "%s/%s/%s" % (database_location(env), _check_name(schema), _check_name(table))


def raw_table_uris(sources: Sequence[str], env: Mapping[str, str] = os.environ) -> List[str]:
    """The raw table each source loads into (``raw_<source>``)."""
    return [table_uri("raw_" + s, env) for s in sources]


def model_uris(env: Mapping[str, str] = os.environ) -> List[str]:
    return [table_uri(m, env) for m in models_from_env(env)]


def _check_name(source: str) -> str:
    if not source or not all(c.isalnum() or c == "_" for c in source):
        raise ValueError("source names are letters, digits and _ only: %r" % source)
    return source


def ingest_command(source: str, date: str = "{{ ds }}") -> str:
    return "%s ingest %s --source %s --date %s" % (_CLI, _PROJECT, _check_name(source), date)


def load_command(source: str, date: str = "{{ ds }}") -> str:
    return "%s load %s --source %s --date %s" % (_CLI, _PROJECT, _check_name(source), date)


def build_command(date: str = "{{ ds }}") -> str:
    """Models and their data tests (write-audit-publish), for the day."""
    return "%s build %s --date %s" % (_CLI, _PROJECT, date)


def build_range_command(start: str, end: str) -> str:
    return "%s build %s --start %s --end %s" % (_CLI, _PROJECT, start, end)


def daily_plan(sources: Sequence[str], env: Mapping[str, str] = os.environ) -> List[Dict[str, Any]]:
    """The daily DAG: ingest (mapped per source) >> load (mapped per source) >> build.

    Each step is ``{task_id, mapped, commands, upstream, outlets}``; a mapped step is one
    dynamically mapped task (``BashOperator.partial(...).expand(bash_command=commands)``),
    whose instances run in parallel on any worker: each touches only its source and day.
    ``outlets`` are table URIs; a mapped task's outlets belong to every instance (Airflow
    attaches them to the task, not to one instance), so each load instance announces all
    raw tables: schedule downstream DAGs on the models, or on the whole set of raw tables.
    """
    return [
        {"task_id": "ingest", "mapped": True, "commands": [ingest_command(s) for s in sources], "upstream": [],
         "outlets": []},
        {"task_id": "load", "mapped": True, "commands": [load_command(s) for s in sources], "upstream": ["ingest"],
         "outlets": raw_table_uris(sources, env)},
        {"task_id": "build", "mapped": False, "commands": [build_command()], "upstream": ["load"],
         "outlets": model_uris(env)},
    ]


def days_between(start: str, end: str) -> List[str]:
    """Days of the half-open interval [start, end), like the CLI's --start/--end."""
    first = _dt.date.fromisoformat(start)
    last = _dt.date.fromisoformat(end)
    if last <= first:
        raise ValueError("end must be after start: %s .. %s" % (start, end))
    return [(first + _dt.timedelta(days=i)).isoformat() for i in range((last - first).days)]


def backfill_plan(
    sources: Sequence[str], start: str, end: str, env: Mapping[str, str] = os.environ
) -> List[Dict[str, Any]]:
    """The backfill DAG: ingest and load mapped over every (source, day), then one build.

    Loading is per partition (replace_partition), so days load in parallel safely; the build
    then runs once over the whole range. Snapshot sources (a daily full export, such as
    customers) only need the range's last day, which holds every earlier row: loading every
    day would do the same work N times and run N upserts of the same keys concurrently.
    """
    days = days_between(start, end)
    pairs = [(s, d) for s in sources for d in (days[-1:] if s in SNAPSHOT_SOURCES else days)]
    return [
        {"task_id": "ingest", "mapped": True, "commands": [ingest_command(s, d) for s, d in pairs], "upstream": [],
         "outlets": []},
        {"task_id": "load", "mapped": True, "commands": [load_command(s, d) for s, d in pairs], "upstream": ["ingest"],
         "outlets": raw_table_uris(sources, env)},
        {"task_id": "build", "mapped": False, "commands": [build_range_command(start, end)], "upstream": ["load"],
         "outlets": model_uris(env)},
    ]


#: Sources that land a daily full snapshot in examples/shop (merged on their key).
SNAPSHOT_SOURCES = frozenset({"customers"})


def main(argv: Sequence[str]) -> int:
    sources = sources_from_env()
    if len(argv) == 3 and argv[0] == "--backfill":
        plan = backfill_plan(sources, argv[1], argv[2])
    elif not argv:
        plan = daily_plan(sources)
    else:
        sys.stderr.write("usage: dataflow_tasks.py [--backfill START END]\n")
        return 2
    json.dump({"sources": sources, "env": operator_env_template(), "plan": plan}, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
