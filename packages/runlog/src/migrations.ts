import { quoteIdent } from '@dataflow/pg';
import type { SqlQuery } from './statuses.js';

/** One migration: a version and the statements that bring the schema to it. */
export interface Migration {
  version: number;
  description: string;
  statements(schema: string): string[];
}

/**
 * Migrations, applied in order, each once. Pure: tests assert the SQL text, and the run log
 * applies them in one transaction under an advisory lock.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'run_history, job_status, row_counts, test_results',
    statements: (schema) => {
      const s = quoteIdent(schema);
      return [
        `create table ${s}.run_history (
  run_id text primary key,
  command text not null,
  args jsonb not null default '[]'::jsonb,
  project text,
  interval_start date,
  interval_end date,
  status text not null check (status in ('running','success','failed','aborted','skipped')),
  exit_code integer,
  started_at timestamptz not null default now(),
  ended_at timestamptz,
  duration_ms bigint,
  rows_in bigint not null default 0,
  rows_out bigint not null default 0,
  rows_rejected bigint not null default 0,
  error_class text,
  error_code text,
  error_message text,
  host text,
  version text,
  airflow_dag_id text,
  airflow_task_id text,
  airflow_dag_run_id text,
  airflow_try_number integer
)`,
        `create index run_history_started_at_idx on ${s}.run_history (started_at desc)`,
        `create table ${s}.job_status (
  job_id bigserial primary key,
  run_id text not null references ${s}.run_history (run_id) on delete cascade,
  step text not null check (step in ('ingest','load','seed','model','test')),
  target text not null,
  partition text,
  status text not null check (status in ('running','success','failed','aborted','skipped','warn')),
  started_at timestamptz not null default now(),
  ended_at timestamptz,
  duration_ms bigint,
  rows_in bigint,
  rows_out bigint,
  rows_rejected bigint,
  error_class text,
  error_code text,
  error_message text
)`,
        `create index job_status_run_id_idx on ${s}.job_status (run_id)`,
        `create table ${s}.row_counts (
  id bigserial primary key,
  run_id text not null references ${s}.run_history (run_id) on delete cascade,
  dataset text not null,
  partition text,
  stage text not null,
  rows bigint not null,
  measured_at timestamptz not null default now()
)`,
        `create index row_counts_run_id_idx on ${s}.row_counts (run_id)`,
        `create table ${s}.test_results (
  id bigserial primary key,
  run_id text not null references ${s}.run_history (run_id) on delete cascade,
  unique_id text,
  test_name text not null,
  status text not null check (status in ('pass','warn','fail','error','skipped')),
  severity text,
  failures bigint not null default 0,
  sql text,
  sample jsonb not null default '[]'::jsonb,
  sample_truncated boolean not null default false,
  message text,
  duration_ms bigint,
  recorded_at timestamptz not null default now()
)`,
        `create index test_results_run_id_idx on ${s}.test_results (run_id)`,
      ];
    },
  },
  {
    version: 2,
    description: "status 'abandoned' for runs and jobs whose process died",
    statements: (schema) => {
      const s = quoteIdent(schema);
      const allow = (table: string, statuses: string) => [
        `alter table ${s}.${table} drop constraint if exists ${table}_status_check`,
        `alter table ${s}.${table} add constraint ${table}_status_check check (status in (${statuses}))`,
      ];
      return [
        ...allow('run_history', "'running','success','failed','aborted','skipped','abandoned'"),
        ...allow('job_status', "'running','success','failed','aborted','skipped','warn','abandoned'"),
      ];
    },
  },
  {
    version: 3,
    description:
      'job_status.unique_id: node results keyed by unique id (names are ambiguous across packages)',
    statements: (schema) => {
      const s = quoteIdent(schema);
      return [
        `alter table ${s}.job_status add column if not exists unique_id text`,
        `create index if not exists job_status_run_id_unique_id_idx on ${s}.job_status (run_id, unique_id)`,
      ];
    },
  },
];

// 'df' + 1: keeps our advisory lock ids apart from other packages'.
const MIGRATION_LOCK_NAMESPACE = 0x64660001;

/**
 * The transaction-level advisory lock that serialises concurrent `migrate()` calls on one schema
 * (Airflow starts many CLI processes at once).
 */
export function migrationLockQuery(schema: string): SqlQuery {
  return {
    text: 'select pg_advisory_xact_lock($1, hashtext($2))',
    values: [MIGRATION_LOCK_NAMESPACE, schema],
  };
}

/** The versions already applied. */
export function appliedVersionsQuery(schema: string): SqlQuery {
  return { text: `select version from ${quoteIdent(schema)}.schema_migrations`, values: [] };
}

/** Records one applied migration. */
export function recordMigrationQuery(schema: string, m: Migration): SqlQuery {
  return {
    text: `insert into ${quoteIdent(schema)}.schema_migrations (version, description) values ($1, $2)`,
    values: [m.version, m.description],
  };
}

/** The migrations not yet applied, in order. Pure. */
export function pendingMigrations(
  applied: Iterable<number>,
  all: readonly Migration[] = MIGRATIONS,
): Migration[] {
  const have = new Set(applied);
  return all.filter((m) => !have.has(m.version));
}

/** The SQL that creates the bookkeeping table for migrations. */
export function migrationsTableSql(schema: string): string[] {
  const s = quoteIdent(schema);
  return [
    `create schema if not exists ${s}`,
    `create table if not exists ${s}.schema_migrations (version integer primary key, description text not null, applied_at timestamptz not null default now())`,
  ];
}
