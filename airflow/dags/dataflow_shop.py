"""Airflow DAGs for the dataflow shop example (examples/shop).

``dataflow_shop`` (daily, catchup): ingest[source] >> load[source] >> build
    ingest and load are dynamically mapped over the sources, so with the Celery or
    Kubernetes executor each source runs on its own worker slot; every task touches only
    its own slice (``--source``, ``--date {{ ds }}``), so parallel instances never collide.
    catchup=True turns a start_date in the past into one run per day (a backfill).

``dataflow_shop_backfill`` (manual, params start/end): ingest and load mapped over every
    (source, day) pair of the range, then one ``build --start --end``.

Commands come from dataflow_tasks.py (pure Python, tested without Airflow). The CLI exits
99 when there is nothing to do: the task is marked skipped. Exit codes 2/3/4 (config,
data tests, bad input) are not worth a retry; 1 (runtime) is, but BashOperator retries
every non-zero exit, so keep ``retries`` small or alert on the first failure.

Configure with Airflow Variables ``dataflow_cli`` and ``dataflow_project_dir`` (read at
run time), or the worker env DATAFLOW_CLI / DATAFLOW_PROJECT_DIR; the warehouse, lake and
S3 endpoint come from the worker env (DATAFLOW_DATABASE_URL, DATAFLOW_LAKE_URL,
DATAFLOW_S3_ENDPOINT, AWS_*), see docker-compose.yml. Works on Airflow 2.6+ and 3.x.

Data-aware scheduling: ``load`` declares the raw tables and ``build`` the models as outlets
(Airflow 3 ``Asset``, Airflow 2 ``Dataset``), URIs ``postgres://host:port/db/analytics/<table>``
from DATAFLOW_DATABASE_URL, so a downstream DAG can use ``schedule=[Asset(uri)]``.
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta

import pendulum

try:  # Airflow 3.x
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.sdk import DAG, Asset, Param, task
except ImportError:  # Airflow 2.x
    from airflow import DAG
    from airflow.datasets import Dataset as Asset
    from airflow.decorators import task
    from airflow.models.param import Param
    from airflow.operators.bash import BashOperator

# The DAG folder is on sys.path when Airflow parses it; this also makes a plain
# `python dataflow_shop.py` (or a DagBag in tests) find the sibling module.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dataflow_tasks as plan  # noqa: E402

SOURCES = plan.sources_from_env()
# catchup creates one run per day from START_DATE (to END_DATE when set): a backfill.
START_DATE = pendulum.parse(os.environ.get("DATAFLOW_START_DATE", "2026-05-01"), tz="UTC")
END_DATE = pendulum.parse(os.environ["DATAFLOW_END_DATE"], tz="UTC") if os.environ.get("DATAFLOW_END_DATE") else None

default_args = {
    "owner": "data-platform",
    "retries": int(os.environ.get("DATAFLOW_RETRIES", "3")),
    "retry_delay": timedelta(minutes=int(os.environ.get("DATAFLOW_RETRY_DELAY_MINUTES", "5"))),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
    # On timeout Airflow sends SIGTERM: the CLI cancels its COPY / multipart upload, marks the
    # run aborted and exits non-zero, so the retry starts clean.
    "execution_timeout": timedelta(minutes=int(os.environ.get("DATAFLOW_TASK_TIMEOUT_MINUTES", "120"))),
}

operator_args = {
    "env": plan.operator_env_template(),
    "append_env": True,  # keep the worker env: DATAFLOW_DATABASE_URL, AWS_* ...
    "skip_on_exit_code": plan.SKIP_EXIT_CODE,
}


def _outlets(step: dict) -> list:
    """The tables a step writes, as Assets (3.x) / Datasets (2.x); both take ``uri=``."""
    return [Asset(uri=uri) for uri in step["outlets"]]


def _operator(step: dict) -> BashOperator:
    """One step of the plan: a task mapped over its commands, or a single task."""
    if step["mapped"]:
        return BashOperator.partial(task_id=step["task_id"], outlets=_outlets(step), **operator_args).expand(
            bash_command=step["commands"]
        )
    return BashOperator(
        task_id=step["task_id"], bash_command=step["commands"][0], outlets=_outlets(step), **operator_args
    )


def _chain(steps: list, tasks: dict) -> None:
    for step in steps:
        for upstream in step["upstream"]:
            tasks[upstream] >> tasks[step["task_id"]]


with DAG(
    dag_id="dataflow_shop",
    description="shop example: ingest + load per source (mapped), then build models and tests",
    schedule="@daily",
    start_date=START_DATE,
    end_date=END_DATE,
    catchup=True,
    max_active_runs=int(os.environ.get("DATAFLOW_MAX_ACTIVE_RUNS", "1")),
    default_args=default_args,
    tags=["dataflow", "example"],
    doc_md=__doc__,
) as daily:
    daily_steps = plan.daily_plan(SOURCES)
    daily_tasks = {step["task_id"]: _operator(step) for step in daily_steps}
    _chain(daily_steps, daily_tasks)


with DAG(
    dag_id="dataflow_shop_backfill",
    description="backfill a date range: ingest + load mapped per (source, day), then one build",
    schedule=None,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=default_args,
    params={
        "start": Param("2026-05-01", type="string", format="date", description="first day"),
        "end": Param("2026-05-04", type="string", format="date", description="day after the last"),
    },
    tags=["dataflow", "example", "backfill"],
    doc_md=__doc__,
) as backfill:

    @task
    def commands_of(step_id, params=None):
        """The mapped commands of one step, for the range given in the run's params."""
        steps = plan.backfill_plan(SOURCES, params["start"], params["end"])
        return next(s["commands"] for s in steps if s["task_id"] == step_id)

    # The outlets do not depend on the range: take them from the daily plan's steps.
    outlets = {step["task_id"]: _outlets(step) for step in daily_steps}
    ingest_all = BashOperator.partial(task_id="ingest", **operator_args).expand(
        bash_command=commands_of.override(task_id="ingest_commands")("ingest")
    )
    load_all = BashOperator.partial(task_id="load", outlets=outlets["load"], **operator_args).expand(
        bash_command=commands_of.override(task_id="load_commands")("load")
    )
    build_range = BashOperator(
        task_id="build",
        bash_command=plan.build_range_command("{{ params.start }}", "{{ params.end }}"),
        outlets=outlets["build"],
        **operator_args,
    )
    ingest_all >> load_all >> build_range
