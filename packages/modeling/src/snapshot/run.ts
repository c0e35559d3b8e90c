import { inTransaction } from '@dataflow/pg';
import type pg from 'pg';
import { ModelingError } from '../errors.js';
import type { RelationInfo } from '../graph.js';
import { assertUniqueKeys } from '../key-check.js';
import { ensureSchema, type Logger } from '../materialize.js';
import { planPublishLock } from '../plan.js';
import type { SnapshotConfig } from './config.js';
import {
  planSnapshotAddColumns,
  planSnapshotApply,
  planSnapshotCloses,
  planSnapshotCreate,
  planSnapshotInserts,
  planSnapshotSource,
  planSnapshotTime,
  SNAPSHOT_WORK,
  type SnapshotChangeInputs,
} from './plan.js';

/** One snapshot to run: where it lives, its compiled source query and its configuration. */
export interface SnapshotSpec {
  name: string;
  uniqueId?: string;
  file?: string;
  relation: RelationInfo;
  /** The compiled SELECT whose rows are snapshotted. */
  sql: string;
  config: SnapshotConfig;
}

/** Options of {@link runSnapshot}. */
export interface SnapshotRunOptions {
  /** The snapshot time (default: the transaction's `localtimestamp`); stored as `timestamp without time zone`. */
  now?: string | Date;
  /** How long to wait for another run of the same snapshot (default 5 minutes). */
  lockTimeoutMs?: number;
  logger?: Logger;
  signal?: AbortSignal;
}

/** What one snapshot run did. */
export interface SnapshotOutcome {
  /** `created` on the first run, else `snapshotted`. */
  action: 'created' | 'snapshotted';
  /** Versions inserted (all rows on the first run; new, changed and deletion records later). */
  inserted: number;
  /** Current versions closed (changed rows, and hard deletes unless `ignore`). */
  closed: number;
}

// A regclass resolves `pg_temp."x"` to the session's own temp schema, which a schema name cannot.
const COLUMNS_OF = `select a.attname as name, pg_catalog.format_type(a.atttypid, a.atttypmod) as type
from pg_catalog.pg_attribute a where a.attrelid = $1::pg_catalog.regclass and a.attnum > 0 and not a.attisdropped
order by a.attnum`;
const KIND_OF = `select c.relkind from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where n.nspname = $1 and c.relname = $2`;

type Column = { name: string; type: string };

function invalid(spec: SnapshotSpec, message: string): ModelingError {
  return new ModelingError('SNAPSHOT_INVALID', `${spec.name}: ${message}`, {
    ...(spec.uniqueId ? { node: spec.uniqueId } : {}),
    ...(spec.file ? { file: spec.file } : {}),
  });
}

async function columnsOf(client: pg.ClientBase, relationSql: string): Promise<Column[]> {
  return (await client.query<Column>(COLUMNS_OF, [relationSql])).rows;
}

function metaColumns(config: SnapshotConfig): string[] {
  const c = config.columns;
  return [c.scdId, c.updatedAt, c.validFrom, c.validTo, c.isDeleted];
}

/** Columns of the source query; it may not use a metadata column name nor lack a configured column. */
function checkSource(spec: SnapshotSpec, source: Column[]): string[] {
  const names = source.map((c) => c.name);
  const clash = metaColumns(spec.config).filter((m) => names.includes(m));
  if (clash.length > 0)
    throw invalid(
      spec,
      `the source query has column(s) ${clash.join(', ')}, which the snapshot table keeps itself`,
    );
  const { uniqueKey, updatedAt, checkCols } = spec.config;
  const wanted = [
    ...uniqueKey,
    ...(updatedAt ? [updatedAt] : []),
    ...(Array.isArray(checkCols) ? checkCols : []),
  ];
  const missing = wanted.filter((w) => !names.includes(w));
  if (missing.length > 0)
    throw invalid(
      spec,
      `the source query has no column(s) ${missing.join(', ')} (from unique_key / updated_at / check_cols)`,
    );
  return names;
}

/**
 * Compares the existing table with the source: the metadata columns it must have, the source
 * columns it lacks (added now), and for `check` which columns to compare.
 */
async function reconcileTarget(
  client: pg.ClientBase,
  spec: SnapshotSpec,
  source: Column[],
): Promise<Pick<SnapshotChangeInputs, 'checkColumns' | 'columnAdded'>> {
  const { config } = spec;
  const existing = new Set((await columnsOf(client, spec.relation.sql)).map((c) => c.name));
  const c = config.columns;
  const required = [c.scdId, c.updatedAt, c.validFrom, c.validTo];
  const absent = required.filter((m) => !existing.has(m));
  if (absent.length > 0)
    throw invalid(
      spec,
      `${spec.relation.sql} is not a snapshot table with these metadata columns: no ${absent.join(', ')}`,
    );
  const added = source.filter((col) => !existing.has(col.name));
  const additions = [...added];
  if (config.hardDeletes === 'new_record' && !existing.has(c.isDeleted))
    additions.push({ name: c.isDeleted, type: 'text' });
  for (const statement of planSnapshotAddColumns(spec.relation, additions)) await client.query(statement);
  if (config.strategy !== 'check') return {};
  const candidates = config.checkCols === 'all' ? source.map((col) => col.name) : (config.checkCols ?? []);
  return {
    checkColumns: candidates.filter((name) => existing.has(name)),
    columnAdded: candidates.some((name) => !existing.has(name)),
  };
}

async function relationKind(client: pg.ClientBase, relation: RelationInfo): Promise<string | undefined> {
  return (await client.query<{ relkind: string }>(KIND_OF, [relation.schema, relation.identifier])).rows[0]
    ?.relkind;
}

/**
 * Runs one snapshot in one transaction (SCD type 2, dbt's semantics): the source query is read once
 * into a session-temp table, its keys are checked (a NULL or repeated `unique_key` is an error naming
 * the keys, nothing is written), then the first run creates the table and later runs close the
 * current versions of changed (and, per `hard_deletes`, deleted) keys and insert the new versions.
 * Concurrent runs of the same snapshot wait for each other on an advisory lock.
 *
 * @example
 * const out = await runSnapshot(client, { name: 'customers_snapshot', relation, sql: 'select * from raw.customers', config });
 * out; // { action: 'snapshotted', inserted: 3, closed: 2 }
 */
export async function runSnapshot(
  client: pg.ClientBase,
  spec: SnapshotSpec,
  options: SnapshotRunOptions = {},
): Promise<SnapshotOutcome> {
  if (options.signal?.aborted) throw new ModelingError('ABORTED', `${spec.name}: aborted before it started`);
  await ensureSchema(client, spec.relation.schema);
  const now = options.now instanceof Date ? options.now.toISOString() : options.now;
  return inTransaction(client, async () => {
    await client.query(`select set_config('lock_timeout', $1, true)`, [
      `${options.lockTimeoutMs ?? 300_000}ms`,
    ]);
    const lock = planPublishLock(spec.relation);
    await client.query(lock.text, lock.values);
    const time = planSnapshotTime(now);
    await client.query(time.text, time.values);
    await client.query(planSnapshotSource(spec.sql));
    const source = await columnsOf(client, SNAPSHOT_WORK.source.sql);
    const sourceColumns = checkSource(spec, source);
    await assertUniqueKeys(client, SNAPSHOT_WORK.source, spec.config.uniqueKey, {
      name: spec.name,
      ...(spec.uniqueId ? { uniqueId: spec.uniqueId } : {}),
      ...(spec.file ? { file: spec.file } : {}),
      rows: 'source',
    });
    const kind = await relationKind(client, spec.relation);
    if (kind === undefined) {
      const created = await client.query(
        planSnapshotCreate({
          target: spec.relation,
          sourceSql: `select * from ${SNAPSHOT_WORK.source.sql}`,
          config: spec.config,
        }),
      );
      return { action: 'created', inserted: created.rowCount ?? 0, closed: 0 };
    }
    if (kind !== 'r' && kind !== 'p') throw invalid(spec, `${spec.relation.sql} exists and is not a table`);
    const inputs: SnapshotChangeInputs = {
      target: spec.relation,
      config: spec.config,
      sourceColumns,
      ...(await reconcileTarget(client, spec, source)),
    };
    await client.query(planSnapshotCloses(inputs));
    await client.query(planSnapshotInserts(inputs));
    const apply = planSnapshotApply(inputs);
    const closed = await client.query(apply.close);
    const inserted = await client.query(apply.insert);
    options.logger?.debug(
      { snapshot: spec.name, inserted: inserted.rowCount, closed: closed.rowCount },
      'snapshot applied',
    );
    return { action: 'snapshotted', inserted: inserted.rowCount ?? 0, closed: closed.rowCount ?? 0 };
  });
}
