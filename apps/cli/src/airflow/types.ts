/** What generates the DAG file (see {@link planAirflowDag}). */
export interface AirflowDagOptions {
  /** Airflow dag_id (default `dataflow_<project name>_models`). */
  dagId?: string | undefined;
  /** Cron preset or expression; `none` for manual runs only (default `@daily`). */
  schedule?: string | undefined;
  /** First logical date, YYYY-MM-DD (default 2026-01-01); `DATAFLOW_START_DATE` overrides it at parse time. */
  startDate?: string | undefined;
  /** Project directory as the Airflow workers see it (Variable `dataflow_project_dir` overrides it). */
  workerProject: string;
  /** dbt selection of the nodes that get tasks (as `dataflow build --select`). */
  select?: string[] | undefined;
  exclude?: string[] | undefined;
  /** Build models into this schema: passed on to every `build` / `test` task. */
  targetSchema?: string | undefined;
  /** The command that generated the file, for the header comment. */
  generatedBy: string;
}

/** Which CLI step a task runs, and which group it sits in. */
export type AirflowTaskKind =
  | 'ingest'
  | 'load'
  | 'freshness'
  | 'source_test'
  | 'seed'
  | 'snapshot'
  | 'model'
  | 'test';

/** A table a task publishes (an outlet of the task: an Airflow Asset / Dataset). */
export interface TableRef {
  schema: string;
  table: string;
}

/** One BashOperator of the generated DAG. */
export interface AirflowTask {
  kind: AirflowTaskKind;
  /** TaskGroup id (`ingest`, `load`, `freshness`, `source_tests`, `snapshots`, `models`, `tests`), or none (`seed`). */
  group: string | undefined;
  /** Full Airflow task id (`models.stg_orders`): group id, dot, id inside the group. */
  taskId: string;
  /** Python variable holding the operator. */
  variable: string;
  /** `dataflow` subcommand. */
  command: 'ingest' | 'load' | 'freshness' | 'build' | 'snapshot' | 'test';
  /** Flags after `--project`, before `--date {{ ds }}`. */
  args: string[];
  /** Whether the command takes `--date {{ ds }}` (`freshness` checks the tables as they are now). */
  dated: boolean;
  /** Full ids of the upstream tasks, sorted. */
  upstream: string[];
  /** Unique id of the model / detached test / source (or dataflow source name) the task is about. */
  node: string;
  /** Unique ids of the data tests this task runs, sorted. */
  tests: string[];
  /** Tables the task publishes (load: its raw table; models.<model>, snapshots.<snapshot>: its relation; seed: the seeds). */
  outlets: TableRef[];
}

/** The DAG before it is rendered as Python. */
export interface AirflowDagPlan {
  dagId: string;
  projectName: string;
  schedule: string;
  startDate: string;
  workerProject: string;
  generatedBy: string;
  tasks: AirflowTask[];
  /** Tests in scope (what `dataflow build` with the same selection runs), each run by exactly one task. */
  testCount: number;
}
