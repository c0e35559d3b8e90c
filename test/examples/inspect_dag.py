"""Loads a DAG file against a minimal stand-in for Airflow and prints its structure as JSON.

Airflow cannot be installed on the test machines, so this records what the DAG file asks
Airflow to build (DAG arguments, operators, partial/expand mapping, dependencies, outlets as
``airflow.sdk.Asset`` on 3.x or ``airflow.datasets.Dataset`` on 2.x) through the
same import paths Airflow 2.x and 3.x expose. It proves the DAG file runs and wires what we
expect; it does not prove Airflow's own behaviour.

    python3 test/examples/inspect_dag.py airflow/dags/dataflow_shop.py 3   # or 2
"""

import datetime as dt
import json
import runpy
import sys
import types

DAGS = []
_current = []


class _Node:
    def __init__(self, dag, task_id, kind, kwargs, mapped=None):
        self.dag = dag
        self.task_id = task_id
        self.kind = kind
        self.kwargs = kwargs
        self.mapped = mapped
        self.upstream = []
        dag.tasks.append(self)

    def __rshift__(self, other):
        other.upstream.append(self.task_id)
        return other

    def as_json(self):
        kwargs = {k: v for k, v in self.kwargs.items() if not k.startswith("_")}
        return {
            "task_id": self.task_id,
            "kind": self.kind,
            "kwargs": _jsonable(kwargs),
            "mapped": _jsonable(self.mapped),
            "upstream": sorted(self.upstream),
        }


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.timedelta):
        return {"timedelta_seconds": value.total_seconds()}
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, _XComArg):
        return {"xcom_from": value.task_id}
    if isinstance(value, _Param):
        return {"param": value.default}
    if isinstance(value, _DataReference):
        return {type(value).__name__: value.uri}
    return value


class DAG:
    def __init__(self, dag_id, **kwargs):
        self.dag_id = dag_id
        self.kwargs = kwargs
        self.tasks = []
        DAGS.append(self)

    def __enter__(self):
        _current.append(self)
        return self

    def __exit__(self, *exc):
        _current.pop()
        return False


class _Partial:
    def __init__(self, cls, kwargs):
        self.cls = cls
        self.kwargs = kwargs

    def expand(self, **mapped):
        kwargs = dict(self.kwargs)
        task_id = kwargs.pop("task_id")
        node = _Node(_current[-1], task_id, self.cls.__name__, kwargs, mapped=mapped)
        # Mapping over another task's output makes it upstream, as in Airflow.
        node.upstream.extend(v.task_id for v in mapped.values() if isinstance(v, _XComArg))
        return node


class BashOperator:
    template_fields = ("bash_command", "env", "cwd")

    def __new__(cls, task_id, **kwargs):
        return _Node(_current[-1], task_id, cls.__name__, kwargs)

    @classmethod
    def partial(cls, **kwargs):
        return _Partial(cls, kwargs)


class _XComArg(_Node):
    pass


class _DataReference:
    def __init__(self, name=None, uri=None, **kwargs):
        self.uri = uri if uri is not None else name
        self.kwargs = kwargs


class Asset(_DataReference):
    """airflow.sdk.Asset (3.x): ``Asset(name=None, uri=None, ...)``."""


class Dataset(_DataReference):
    """airflow.datasets.Dataset (2.4+): ``Dataset(uri, extra=None)``."""

    def __init__(self, uri, extra=None):
        super().__init__(uri=uri, extra=extra)


class _Param:
    def __init__(self, default=None, **kwargs):
        self.default = default
        self.kwargs = kwargs


def task(fn=None, **_options):
    def wrap(f):
        class _Decorated:
            def __init__(self, task_id):
                self.task_id = task_id

            def override(self, task_id):
                return _Decorated(task_id)

            def __call__(self, *args, **kwargs):
                node = _XComArg(_current[-1], self.task_id, "python_task", {"args": list(args)})
                node.function = f
                return node

        return _Decorated(f.__name__)

    return wrap(fn) if fn is not None else wrap


def _pendulum():
    mod = types.ModuleType("pendulum")

    def parse(text, tz="UTC"):
        assert tz == "UTC"
        return dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc)

    def datetime(*args, tz="UTC"):
        return dt.datetime(*args, tzinfo=dt.timezone.utc)

    mod.parse = parse
    mod.datetime = datetime
    return mod


def install(major):
    modules = {name: types.ModuleType(name) for name in ["airflow", "airflow.models", "airflow.models.param",
                                                         "airflow.operators", "airflow.operators.bash",
                                                         "airflow.decorators", "airflow.datasets"]}
    modules["airflow.datasets"].Dataset = Dataset
    modules["airflow"].DAG = DAG
    modules["airflow.models.param"].Param = _Param
    modules["airflow.operators.bash"].BashOperator = BashOperator
    modules["airflow.decorators"].task = task
    if major == 3:
        for name in ["airflow.sdk", "airflow.providers", "airflow.providers.standard",
                     "airflow.providers.standard.operators", "airflow.providers.standard.operators.bash"]:
            modules[name] = types.ModuleType(name)
        modules["airflow.sdk"].DAG = DAG
        modules["airflow.sdk"].Param = _Param
        modules["airflow.sdk"].task = task
        modules["airflow.sdk"].Asset = Asset
        modules["airflow.providers.standard.operators.bash"].BashOperator = BashOperator
        # Airflow 3 moved these: importing the 2.x paths must not be what makes the DAG work.
        del modules["airflow.operators.bash"].BashOperator
        del modules["airflow"].DAG
        del modules["airflow.datasets"].Dataset
    sys.modules.update(modules)
    sys.modules["pendulum"] = _pendulum()


def main(path, major):
    install(major)
    runpy.run_path(path, run_name="dag_under_test")
    out = []
    for dag in DAGS:
        out.append({
            "dag_id": dag.dag_id,
            "kwargs": _jsonable(dag.kwargs),
            "tasks": [t.as_json() for t in dag.tasks],
        })
    # Mapped commands computed at run time (backfill): call the task functions with params.
    for dag in DAGS:
        for t in dag.tasks:
            fn = getattr(t, "function", None)
            if fn is not None:
                params = {k: v.default for k, v in dag.kwargs.get("params", {}).items()}
                out_dag = next(d for d in out if d["dag_id"] == dag.dag_id)
                out_dag.setdefault("xcom", {})[t.task_id] = fn(*t.kwargs["args"], params=params)
    json.dump(out, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
