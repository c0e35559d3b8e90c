import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGunzip } from 'node:zlib';
import type pg from 'pg';
import { type ByteTransform, copyErrorLine, copyStream, withClient } from './copy-into.js';
import { isDataError, type RowRef, toWarehouseError, WarehouseError } from './errors.js';
import { checkTypeName, qualify, quoteIdent, truncateBytes } from './identifiers.js';
import {
  type Interval,
  type LakeStore,
  type Logger,
  type PartitionManifest,
  partitionOf,
  readPartitionManifest,
  silentLogger,
} from './lake.js';
import {
  ndjsonToCsv,
  RowFormatError,
  readCsvRecords,
  readNdjsonRecords,
  type SourceRecord,
} from './records.js';
import { formatRowRefs, resolveLines } from './row-refs.js';
import {
  advisoryLockKey,
  buildAddColumnsSql,
  buildClearStatements,
  buildCopySql,
  buildCreateRejectsStagingSql,
  buildCreateRejectsTableSql,
  buildCreateStagingSql,
  buildCreateTableSql,
  buildDuplicateKeyCheck,
  buildDuplicateKeyRowsQuery,
  buildMetadataDefaultsSql,
  buildNullKeyCheck,
  buildNullKeyRowsQuery,
  buildPublishStatements,
  buildRejectsStatements,
  buildUniqueIndexSql,
  type ColumnDef,
  type Disposition,
  derivedName,
  isMetadataColumn,
  METADATA_SETTINGS,
  type PublishPlan,
  RESERVED_STAGING_PREFIX,
  STAGING_RECORD_COLUMN,
  type StagedFile,
} from './sql.js';

/** Options of {@link loadPartition}. */
export interface LoadPartitionOptions {
  store: LakeStore;
  source: string;
  interval: Interval;
  /** Target table; default `raw_<source>`. */
  table?: string;
  schema?: string;
  /** Default `replace_partition`. */
  disposition?: Disposition;
  /** Required for `merge`. */
  primaryKey?: string[];
  /** Declared PostgreSQL types by column; undeclared columns are `text`. */
  columns?: Record<string, string>;
  /** New columns: `evolve` (default) adds them, `freeze` fails with SCHEMA_DRIFT. */
  schemaEvolution?: 'evolve' | 'freeze';
  /** Rejected rows tolerated before the load fails with TOO_MANY_REJECTS; default 0. */
  maxRejects?: number;
  /** Where rejected rows go: `<table>__rejects` (default) or an NDJSON file beside the partition. */
  rejects?: 'table' | 'file';
  /**
   * `direct` (default for append, replace, replace_partition): one pass, each file COPYed into
   * the target inside the publish transaction. `staging`: files COPYed in parallel into UNLOGGED
   * staging tables, then inserted in the publish transaction. `merge` always stages.
   */
  mode?: 'direct' | 'staging';
  /** Staging mode: files COPYed at once, each on its own pool connection; default 3 (bounded by the pool size - 1). */
  parallel?: number;
  runId: string;
  /** How long to wait for another load of the same partition; default 10 minutes. */
  lockTimeoutMs?: number;
  signal?: AbortSignal;
  logger?: Logger;
}

/** What a load did. Always `rowsIn === rowsLoaded + rowsRejected`. */
export interface LoadResult {
  /** `schema.table` of the target. */
  table: string;
  partition: string;
  disposition: Disposition;
  files: number;
  rowsIn: number;
  rowsLoaded: number;
  rowsRejected: number;
  rejectsTable?: string;
  rejectsFile?: string;
  durationMs: number;
}

/** Rows held at most at once while isolating bad rows (one batch, bisected in place). */
const BISECT_BATCH_ROWS = 10_000;
const BISECT_BATCH_BYTES = 16 * 1024 * 1024;

interface Target {
  schema: string;
  table: string;
  qualified: string;
  /** Types of the manifest columns in the target, in manifest order. */
  columns: ColumnDef[];
}

interface FileOutcome {
  file: string;
  loaded: number;
  rejected: number;
  firstRejectLine?: number;
}

/** Validates names and options before any SQL runs. */
function validate(options: LoadPartitionOptions, table: string): void {
  if (!options || typeof options.runId !== 'string' || options.runId.length === 0) {
    throw new WarehouseError('INVALID_OPTIONS', 'runId is required');
  }
  if (typeof options.source !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(options.source)) {
    throw new WarehouseError('INVALID_OPTIONS', 'source must be a plain lake source name');
  }
  quoteIdent(table);
  if (options.schema !== undefined) quoteIdent(options.schema);
  for (const [name, type] of Object.entries(options.columns ?? {})) {
    quoteIdent(name);
    checkTypeName(type, name);
  }
  const disposition = options.disposition ?? 'replace_partition';
  if (!['append', 'replace', 'replace_partition', 'merge'].includes(disposition)) {
    throw new WarehouseError('INVALID_OPTIONS', 'unknown disposition', { table });
  }
  if (disposition === 'merge' && (!options.primaryKey || options.primaryKey.length === 0)) {
    throw new WarehouseError('INVALID_OPTIONS', 'merge needs a primaryKey', { table });
  }
  options.primaryKey?.forEach(quoteIdent);
  const maxRejects = options.maxRejects ?? 0;
  if (!(maxRejects >= 0)) throw new WarehouseError('INVALID_OPTIONS', 'maxRejects must be >= 0', { table });
  if (options.parallel !== undefined && !(Number.isInteger(options.parallel) && options.parallel >= 1)) {
    throw new WarehouseError('INVALID_OPTIONS', 'parallel must be a positive integer', { table });
  }
}

function checkManifest(
  manifest: PartitionManifest,
  options: LoadPartitionOptions,
  table: string,
  mode: 'direct' | 'staging',
): void {
  if (manifest.columns.length === 0) {
    throw new WarehouseError('BAD_MANIFEST', 'manifest lists no columns', { table });
  }
  const seen = new Set<string>();
  for (const column of manifest.columns) {
    quoteIdent(column);
    if (isMetadataColumn(column)) {
      throw new WarehouseError(
        'BAD_MANIFEST',
        `column ${quoteIdent(column)} collides with a metadata column`,
        {
          table,
          column,
        },
      );
    }
    if (seen.has(column))
      throw new WarehouseError('BAD_MANIFEST', 'manifest repeats a column', { table, column });
    if (mode === 'staging' && column.startsWith(RESERVED_STAGING_PREFIX)) {
      throw new WarehouseError(
        'BAD_MANIFEST',
        `column ${quoteIdent(column)} uses the prefix ${RESERVED_STAGING_PREFIX} reserved for staging tables`,
        { table, column },
      );
    }
    seen.add(column);
  }
  for (const key of options.primaryKey ?? []) {
    if (!seen.has(key)) {
      throw new WarehouseError(
        'INVALID_OPTIONS',
        `primary key column ${quoteIdent(key)} is not in the partition`,
        {
          table,
          column: key,
        },
      );
    }
  }
}

function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new WarehouseError('ABORTED', `${what}: aborted`, { cause: signal.reason });
}

/**
 * Waits for the session-level advisory lock of (table, partition), polling so that the wait is
 * bounded by `timeoutMs` and interruptible by `signal`. Session-level because the lock must
 * span staging (several connections) and the publish transaction.
 */
async function acquireLock(
  client: pg.ClientBase,
  key: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  table: string,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let delay = 25;
  for (;;) {
    const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [
      key,
    ]);
    if (rows[0]?.ok) return;
    throwIfAborted(signal, `waiting for the lock on ${table}`);
    const left = deadline - performance.now();
    if (left <= 0) {
      throw new WarehouseError(
        'LOCK_TIMEOUT',
        `another load of ${table} held the partition lock for ${timeoutMs} ms`,
        {
          table,
          retryable: true,
        },
      );
    }
    await sleep(Math.min(delay, left));
    delay = Math.min(delay * 2, 500);
  }
}

interface ColumnRow {
  name: string;
  type: string;
  hasDefault: boolean;
}

async function readColumns(client: pg.ClientBase, qualified: string): Promise<ColumnRow[] | undefined> {
  const { rows } = await client.query<ColumnRow & { exists: boolean }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.atthasdef AS "hasDefault"
       FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [qualified],
  );
  if (rows.length > 0) return rows;
  const exists = await client.query<{ oid: string | null }>('SELECT to_regclass($1)::oid AS oid', [
    qualified,
  ]);
  return exists.rows[0]?.oid ? [] : undefined;
}

/**
 * Creates the target (and schema) when missing and applies schema evolution, under a
 * transaction-level advisory lock on the table so concurrent loads of other partitions do not
 * race on DDL. Returns the target's types for the manifest columns.
 */
async function prepareTarget(
  client: pg.ClientBase,
  target: Omit<Target, 'columns'>,
  manifest: PartitionManifest,
  options: LoadPartitionOptions,
  log: Logger,
): Promise<Target> {
  const declared = options.columns ?? {};
  const typeOf = (name: string) => (declared[name] ? checkTypeName(declared[name], name) : 'text');
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [advisoryLockKey(target.qualified, '')]);
    if (options.schema !== undefined) {
      // Two loads of different tables into a new schema (Airflow's mapped tasks) would race on
      // CREATE SCHEMA IF NOT EXISTS (23505 inside this transaction); a schema-level lock orders them.
      await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [
        advisoryLockKey(`schema:${target.schema}`, ''),
      ]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(target.schema)}`);
    }
    let existing = await readColumns(client, target.qualified);
    if (existing === undefined) {
      const defs: ColumnDef[] = manifest.columns.map((name) => ({ name, type: typeOf(name) }));
      for (const name of Object.keys(declared)) {
        if (!manifest.columns.includes(name)) defs.push({ name, type: typeOf(name) });
      }
      await client.query(buildCreateTableSql(target.qualified, defs));
      await client.query(
        `CREATE INDEX IF NOT EXISTS ${quoteIdent(derivedName(target.table, '__partition_idx'))} ON ${target.qualified} USING brin ("_partition")`,
      );
      log.info({ table: target.qualified, columns: defs.length }, 'created target table');
      existing = (await readColumns(client, target.qualified)) ?? [];
    } else {
      const known = new Set(existing.map((c) => c.name));
      const missing = manifest.columns.filter((c) => !known.has(c));
      if (missing.length > 0) {
        if (options.schemaEvolution === 'freeze') {
          throw new WarehouseError(
            'SCHEMA_DRIFT',
            `partition has columns the frozen table ${target.qualified} lacks: ${missing.map(quoteIdent).join(', ')}`,
            { table: target.table, column: missing[0] as string },
          );
        }
        await client.query(
          buildAddColumnsSql(
            target.qualified,
            missing.map((name) => ({ name, type: typeOf(name) })),
          ),
        );
        log.info({ table: target.qualified, added: missing }, 'schema evolved: added columns');
        existing = (await readColumns(client, target.qualified)) ?? [];
      }
      const missingMeta = ['_run_id', '_partition', '_source_file', '_loaded_at'].filter(
        (c) => !existing?.some((e) => e.name === c),
      );
      if (missingMeta.length > 0) {
        throw new WarehouseError('SCHEMA_DRIFT', `table ${target.qualified} lacks the metadata columns`, {
          table: target.table,
          column: missingMeta[0] as string,
        });
      }
      if (existing.some((e) => isMetadataColumn(e.name) && !e.hasDefault)) {
        // Tables from before direct loads: direct COPY relies on the metadata defaults.
        await client.query(buildMetadataDefaultsSql(target.qualified));
      }
    }
    if ((options.disposition ?? 'replace_partition') === 'merge') {
      await client.query(
        buildUniqueIndexSql(derivedName(target.table, '__pk'), target.qualified, options.primaryKey ?? []),
      );
    }
    await client.query('COMMIT');
    const types = new Map((existing ?? []).map((c) => [c.name, c.type]));
    return {
      ...target,
      columns: manifest.columns.map((name) => ({ name, type: types.get(name) ?? 'text' })),
    };
  } catch (error) {
    // On a broken connection the rollback fails too; the original error is what matters.
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

interface StageContext {
  pool: pg.Pool;
  store: LakeStore;
  manifest: PartitionManifest;
  target: Target;
  rejectsStaging: string;
  signal: AbortSignal;
  log: Logger;
  maxRejects: number;
  rejectedSoFar: { count: number };
}

function decompress(manifest: PartitionManifest) {
  return manifest.compression === 'gzip' ? [createGunzip()] : [];
}

/**
 * Where and how one part file is COPYed. `staging`: into its own staging table on a pool
 * client of its own. `direct`: into the target on the publishing client, inside the publish
 * transaction, each COPY under a savepoint (the metadata columns fill from their defaults).
 */
interface FilePlan {
  /** COPY statement for the whole file. */
  wholeSql: string;
  /** Stages between the (decompressed) file bytes and COPY; built fresh per attempt. */
  transforms: () => Array<ByteTransform | NodeJS.ReadWriteStream>;
  /** COPY statement for bisection batches (no header). */
  batchSql: string;
  /** The client to use (direct mode); otherwise each pass takes its own pool client. */
  client?: pg.ClientBase;
  /** Staging mode: `batchSql` takes each row's record number as its first column. */
  recordColumn?: boolean;
}

/** Runs `fn` in a savepoint when on the shared transaction, undoing its effects on failure. */
async function inSavepoint<T>(
  client: pg.ClientBase,
  useSavepoint: boolean,
  fn: () => Promise<T>,
): Promise<T> {
  if (!useSavepoint) return fn();
  await client.query('SAVEPOINT wh_copy');
  try {
    const result = await fn();
    await client.query('RELEASE SAVEPOINT wh_copy');
    return result;
  } catch (error) {
    // On a broken connection the rollback fails too; the original error is what matters.
    await client.query('ROLLBACK TO SAVEPOINT wh_copy').catch(() => undefined);
    throw error;
  }
}

function onClient<T>(
  ctx: StageContext,
  plan: FilePlan,
  fn: (client: pg.ClientBase) => Promise<T>,
): Promise<T> {
  return plan.client ? fn(plan.client) : withClient(ctx.pool, fn);
}

/** Streams one part file into COPY in one statement: all of it or none of it. */
async function copyWholeFile(ctx: StageContext, key: string, plan: FilePlan): Promise<number> {
  const body = await ctx.store.get(key, { signal: ctx.signal });
  return onClient(ctx, plan, (client) =>
    inSavepoint(client, plan.client !== undefined, () =>
      copyStream(client, plan.wholeSql, body, {
        transforms: [...decompress(ctx.manifest), ...plan.transforms()],
        signal: ctx.signal,
      }),
    ),
  );
}

/**
 * pgloader's recovery: re-read the file, COPY it in bounded batches; a batch that fails with
 * a data error is split in halves recursively until the bad rows are single and recorded as
 * rejects. Memory holds at most one batch.
 */
async function copyWithBisect(ctx: StageContext, key: string, plan: FilePlan): Promise<FileOutcome> {
  const columns = ctx.target.columns.map((c) => c.name);
  const outcome: FileOutcome = { file: key, loaded: 0, rejected: 0 };
  const body = await ctx.store.get(key, { signal: ctx.signal });
  return onClient(ctx, plan, async (client) => {
    const reject = async (record: SourceRecord, error: string, sqlState: string | null) => {
      outcome.rejected += 1;
      outcome.firstRejectLine ??= record.line;
      ctx.rejectedSoFar.count += 1;
      await client.query(
        `INSERT INTO ${ctx.rejectsStaging} (source_file, line, raw_row, error, sqlstate) VALUES ($1, $2, $3, $4, $5)`,
        [key, record.line, record.raw, error, sqlState],
      );
      if (ctx.rejectedSoFar.count > ctx.maxRejects) {
        throw new WarehouseError(
          'TOO_MANY_REJECTS',
          `more than ${ctx.maxRejects} rejected rows (first in ${key} line ${outcome.firstRejectLine})`,
          { table: ctx.target.table, file: key, line: outcome.firstRejectLine as number },
        );
      }
    };
    const copyBatch = async (batch: SourceRecord[]): Promise<void> => {
      if (batch.length === 0) return;
      throwIfAborted(ctx.signal, `loading ${key}`);
      try {
        outcome.loaded += await inSavepoint(client, plan.client !== undefined, () =>
          copyStream(client, plan.batchSql, [batch.map((r) => copyText(r, plan)).join('')], {
            signal: ctx.signal,
          }),
        );
      } catch (error) {
        if (!isDataError(error)) throw error;
        if (batch.length === 1) {
          const e = error as { message?: string; code?: string };
          await reject(batch[0] as SourceRecord, e.message ?? 'rejected', e.code ?? null);
          return;
        }
        // The server names the failing record (`COPY t, line N`, counted in records for CSV):
        // split around it. Each part is still COPYed and checked, so a wrong hint only costs
        // time; without one, halve (pgloader's bisection).
        const hint = copyErrorLine(error);
        if (hint !== undefined && hint >= 1 && hint <= batch.length) {
          await copyBatch(batch.slice(0, hint - 1));
          await copyBatch(batch.slice(hint - 1, hint));
          await copyBatch(batch.slice(hint));
          return;
        }
        const half = Math.ceil(batch.length / 2);
        await copyBatch(batch.slice(0, half));
        await copyBatch(batch.slice(half));
      }
    };
    const consume = async (bytes: AsyncIterable<Buffer | string>): Promise<void> => {
      const records =
        ctx.manifest.format === 'csv'
          ? readCsvRecords(bytes, columns, key)
          : readNdjsonRecords(bytes, columns);
      let batch: SourceRecord[] = [];
      let batchBytes = 0;
      for await (const record of records) {
        if (record.copy === undefined) {
          await reject(record, record.error ?? 'unconvertible row', null);
          continue;
        }
        batch.push(record);
        batchBytes += record.copy.length;
        if (batch.length >= BISECT_BATCH_ROWS || batchBytes >= BISECT_BATCH_BYTES) {
          await copyBatch(batch);
          batch = [];
          batchBytes = 0;
        }
      }
      await copyBatch(batch);
    };
    await (pipeline as (...args: unknown[]) => Promise<void>)(body, ...decompress(ctx.manifest), consume, {
      signal: ctx.signal,
    });
    return outcome;
  });
}

/**
 * A record's COPY text for a bisection batch. The record number goes first, where it cannot
 * fill in for a missing trailing field of a short row (which must still fail).
 */
function copyText(record: SourceRecord, plan: FilePlan): string {
  return plan.recordColumn ? `${record.record},${record.copy}` : (record.copy as string);
}

/** Loads one file: the fast single COPY, falling back to bisection on a data error. */
async function loadFile(
  ctx: StageContext,
  key: string,
  expectedRows: number,
  plan: FilePlan,
): Promise<FileOutcome> {
  let outcome: FileOutcome;
  try {
    const loaded = await copyWholeFile(ctx, key, plan);
    outcome = { file: key, loaded, rejected: 0 };
  } catch (error) {
    if (!(isDataError(error) || error instanceof RowFormatError)) throw error;
    ctx.log.warn(
      { file: key, sqlState: (error as { code?: string }).code, line: copyErrorLine(error) },
      'COPY failed on a data error; isolating bad rows',
    );
    outcome = await copyWithBisect(ctx, key, plan);
  }
  if (outcome.loaded + outcome.rejected !== expectedRows) {
    throw new WarehouseError(
      'ROW_COUNT_MISMATCH',
      `${key}: manifest says ${expectedRows} rows, read ${outcome.loaded + outcome.rejected}`,
      { table: ctx.target.table, file: key },
    );
  }
  ctx.log.debug({ file: key, loaded: outcome.loaded, rejected: outcome.rejected }, 'file loaded');
  return outcome;
}

/** Plan for a file COPYed into its own staging table. */
function stagingPlan(ctx: StageContext, staging: string): FilePlan {
  const columns = ctx.target.columns.map((c) => c.name);
  const csv = ctx.manifest.format === 'csv';
  return {
    wholeSql: buildCopySql(staging, columns, { format: 'csv', header: csv ? 'match' : false }),
    transforms: () => (csv ? [] : [ndjsonToCsv(columns)]),
    batchSql: buildCopySql(staging, [STAGING_RECORD_COLUMN, ...columns], { format: 'csv' }),
    recordColumn: true,
  };
}

/**
 * Plan for a file COPYed straight into the target inside the publish transaction: only the
 * data columns are in the COPY; the metadata columns' defaults fill in the load's settings.
 */
function directPlan(ctx: StageContext, client: pg.ClientBase): FilePlan {
  const columns = ctx.target.columns.map((c) => c.name);
  const csv = ctx.manifest.format === 'csv';
  return {
    wholeSql: buildCopySql(ctx.target.qualified, columns, { format: 'csv', header: csv ? 'match' : false }),
    transforms: () => (csv ? [] : [ndjsonToCsv(columns)]),
    batchSql: buildCopySql(ctx.target.qualified, columns, { format: 'csv' }),
    client,
  };
}

/** Runs `tasks` with at most `parallel` in flight; the first failure aborts the rest and is rethrown after all settle. */
async function runBounded<T>(
  parallel: number,
  tasks: ReadonlyArray<() => Promise<T>>,
  abort: AbortController,
): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < tasks.length) {
      const index = next++;
      try {
        results[index] = await (tasks[index] as () => Promise<T>)();
      } catch (error) {
        if (failure === undefined) {
          failure = { error };
          abort.abort(error);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, tasks.length) }, worker));
  if (failure) throw failure.error;
  return results;
}

async function resolveSchema(
  client: pg.ClientBase,
  schema: string | undefined,
  table: string,
): Promise<string> {
  if (schema !== undefined) return schema;
  const { rows } = await client.query<{ schema: string | null }>(
    `SELECT coalesce((SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                       WHERE c.oid = to_regclass($1)), current_schema()) AS schema`,
    [quoteIdent(table)],
  );
  const resolved = rows[0]?.schema;
  if (!resolved)
    throw new WarehouseError('INVALID_OPTIONS', 'no schema given and search_path has no usable schema');
  return resolved;
}

interface RejectsTarget {
  table: string;
  qualified: string;
  staging: string;
  count: number;
}

/** Inside the publish transaction: creates `<table>__rejects` when needed and plans its statements. */
async function planRejects(
  client: pg.ClientBase,
  rejects: RejectsTarget | undefined,
  disposition: Disposition,
): Promise<PublishPlan['rejects']> {
  if (!rejects) return undefined;
  const exists = (
    await client.query<{ oid: string | null }>('SELECT to_regclass($1)::oid AS oid', [rejects.qualified])
  ).rows[0]?.oid;
  if (!exists && rejects.count > 0) {
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [advisoryLockKey(rejects.qualified, '')]);
    await client.query(buildCreateRejectsTableSql(rejects.qualified));
  }
  const clear = Boolean(exists) && (disposition === 'replace' || disposition === 'replace_partition');
  if (!clear && rejects.count === 0) return undefined;
  return { table: rejects.qualified, clear, ...(rejects.count > 0 ? { staging: rejects.staging } : {}) };
}

/** Rows named per file (NULL_KEY) and repeated key values named (DUPLICATE_KEY) in an error. */
const KEY_ERROR_ROWS = 5;

/**
 * Merge refuses NULL keys and keys repeated within the partition, before anything is written.
 * The counting checks run on every merge; only when they find something are the offending rows
 * looked up, by file and record number (and physical line when cheap), never by value.
 */
async function checkMergeKeys(
  client: pg.ClientBase,
  ctx: Pick<StageContext, 'store' | 'manifest' | 'target' | 'signal'>,
  files: StagedFile[],
  pk: string[],
): Promise<void> {
  const table = ctx.target.table;
  const keyList = pk.map(quoteIdent).join(', ');
  const nulls = buildNullKeyCheck(files, pk);
  const counts = (await client.query<{ rows: string }>(nulls.sql, nulls.parameters)).rows.map((r) =>
    Number(r.rows),
  );
  const nullFiles = files.filter((_, i) => (counts[i] ?? 0) > 0);
  if (nullFiles.length > 0) {
    const total = counts.reduce((n, c) => n + c, 0);
    const shown = nullFiles.slice(0, KEY_ERROR_ROWS);
    const query = buildNullKeyRowsQuery(shown, pk, KEY_ERROR_ROWS);
    const found = (await client.query<{ file: number; record: string }>(query.sql, query.parameters)).rows;
    const rows = await resolveLines(
      ctx.store,
      ctx.manifest,
      found.map((r) => ({ file: (shown[r.file] as StagedFile).sourceFile, record: Number(r.record) })),
      ctx.signal,
    );
    const perFile = shown.map((f) => {
      const listed = rows.filter((r) => r.file === f.sourceFile);
      const more = (counts[files.indexOf(f)] ?? 0) - listed.length;
      return `${formatRowRefs(listed)}${more > 0 ? ` and ${more} more` : ''}`;
    });
    const moreFiles = nullFiles.length - shown.length;
    throw new WarehouseError(
      'NULL_KEY',
      `${table}: ${total} row(s) have a NULL in primary key (${keyList}): ${perFile.join('; ')}` +
        (moreFiles > 0 ? `; and ${moreFiles} more file(s)` : ''),
      { table, file: rows[0]?.file as string, ...lineOf(rows[0]), rows },
    );
  }
  const dups = buildDuplicateKeyCheck(files, pk);
  const dup = (await client.query<{ keys: string; rows: string }>(dups.sql, dups.parameters)).rows[0];
  if (dup && Number(dup.keys) > 0) {
    const query = buildDuplicateKeyRowsQuery(files, pk, KEY_ERROR_ROWS, KEY_ERROR_ROWS);
    const found = (
      await client.query<{ key: string; file: number; record: string; rows: string }>(
        query.sql,
        query.parameters,
      )
    ).rows;
    const rows = await resolveLines(
      ctx.store,
      ctx.manifest,
      found.map((r) => ({
        file: (files[r.file] as StagedFile).sourceFile,
        record: Number(r.record),
        group: Number(r.key),
      })),
      ctx.signal,
    );
    const groups = [...new Set(rows.map((r) => r.group))].map((g) => {
      const listed = rows.filter((r) => r.group === g);
      const more = Number(found.find((r) => Number(r.key) === g)?.rows ?? 0) - listed.length;
      return `${formatRowRefs(listed, ' & ', ' & ')}${more > 0 ? ` and ${more} more` : ''}`;
    });
    const moreKeys = Number(dup.keys) - groups.length;
    throw new WarehouseError(
      'DUPLICATE_KEY',
      `${table}: ${dup.keys} value(s) of primary key (${keyList}) occur more than once in the partition (${dup.rows} rows): ` +
        `${groups.join('; ')}${moreKeys > 0 ? `; and ${moreKeys} more value(s)` : ''}`,
      { table, file: rows[0]?.file as string, ...lineOf(rows[0]), rows },
    );
  }
}

function lineOf(ref: RowRef | undefined): { line?: number } {
  return ref?.line === undefined ? {} : { line: ref.line };
}

/** Runs `fn` between BEGIN and COMMIT on `client`; ROLLBACK on any failure. */
async function inTransaction<T>(client: pg.ClientBase, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await fn();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    // On a broken connection the rollback fails too; the original error is what matters.
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

async function writeRejectsFile(
  client: pg.ClientBase,
  store: LakeStore,
  key: string,
  rejectsStaging: string,
): Promise<void> {
  const { rows } = await client.query<{ line: string }>(
    `SELECT json_build_object('source_file', source_file, 'line', line, 'raw_row', raw_row, 'error', error, 'sqlstate', sqlstate)::text AS line
       FROM ${rejectsStaging} ORDER BY source_file, line`,
  );
  await store.putBytes(key, rows.map((r) => `${r.line}\n`).join(''), { contentType: 'application/x-ndjson' });
}

/**
 * Loads one committed lake partition into `raw_<source>` by COPY, published atomically by
 * `disposition`. Every part file is streamed (gunzipped on the fly); in `direct` mode (default
 * except merge) each file is COPYed straight into the target inside the publish transaction,
 * in `staging` mode files go in parallel into UNLOGGED staging tables on separate connections
 * and are inserted in the publish transaction. Bad rows are isolated by bisection and recorded;
 * the load fails with TOO_MANY_REJECTS beyond `maxRejects` and then publishes nothing. Loads
 * of the same (table, partition) serialize on an advisory lock.
 *
 * The pool's owner must handle `pool.on('error', …)`: idle clients can lose their connection.
 * Staging mode (and merge) needs a pool of at least 2 connections; direct mode uses one.
 *
 * @example
 * const store = openLake('file:///data/lake');
 * const result = await loadPartition(pool, {
 *   store, source: 'orders', interval: { start: '2024-01-01', end: '2024-01-02' },
 *   runId: 'run-42', columns: { id: 'integer', amount: 'numeric(12,2)' },
 * });
 * // result.rowsIn === result.rowsLoaded + result.rowsRejected
 */
export async function loadPartition(pool: pg.Pool, options: LoadPartitionOptions): Promise<LoadResult> {
  const started = performance.now();
  const table = options.table ?? `raw_${options.source}`;
  validate(options, table);
  const partition = partitionOf(options.interval);
  const disposition = options.disposition ?? 'replace_partition';
  const mode = disposition === 'merge' ? 'staging' : (options.mode ?? 'direct');
  const rejectsName = derivedName(table, '__rejects');
  const log = options.logger ?? silentLogger;
  const signal = options.signal;
  throwIfAborted(signal, `loading ${table}`);

  const manifest = await readPartitionManifest(options.store, options.source, options.interval);
  if (!manifest) {
    throw new WarehouseError(
      'NOT_COMMITTED',
      `partition ${options.source}/${partition} has no committed manifest`,
      {
        table,
      },
    );
  }
  checkManifest(manifest, options, table, mode);

  const poolMax = pool.options?.max ?? 10;
  if (mode === 'staging' && poolMax < 2) {
    // One connection holds the lock while the files need others: it would wait forever.
    throw new WarehouseError(
      'INVALID_OPTIONS',
      'staging mode (and merge) needs a pool of at least 2 connections',
      {
        table,
      },
    );
  }
  const parallel = Math.max(1, Math.min(options.parallel ?? 3, poolMax - 1));
  const maxRejects = options.maxRejects ?? 0;

  try {
    return await withClient(pool, async (lockClient) => {
      const schema = await resolveSchema(lockClient, options.schema, table);
      const qualified = qualify(schema, table);
      const lockKey = advisoryLockKey(qualified, disposition === 'replace' ? '*' : partition);
      await acquireLock(lockClient, lockKey, options.lockTimeoutMs ?? 600_000, signal, `${schema}.${table}`);
      log.info(
        { table: `${schema}.${table}`, partition, runId: options.runId, mode },
        'partition lock acquired',
      );
      const unlock = () => lockClient.query('SELECT pg_advisory_unlock($1::bigint)', [lockKey]);
      let result: LoadResult;
      try {
        const target = await prepareTarget(lockClient, { schema, table, qualified }, manifest, options, log);
        const base = `_stg_${truncateBytes(table, 40)}_${randomBytes(4).toString('hex')}`;
        const stagedFiles: StagedFile[] = manifest.files.map((f, i) => ({
          staging: qualify(schema, `${base}_${i}`),
          sourceFile: f.key,
        }));
        // Direct mode works in one transaction, so its rejects live in a temp table that
        // disappears with it; staging mode shares them across connections.
        const rejectsStaging = qualify(mode === 'direct' ? 'pg_temp' : schema, `${base}_rej`);
        const rejectsTarget: RejectsTarget | undefined =
          options.rejects === 'file'
            ? undefined
            : {
                table: rejectsName,
                qualified: qualify(schema, rejectsName),
                staging: rejectsStaging,
                count: 0,
              };
        const rejectsFileKey = `${options.source}/${partition}/_rejects/warehouse-${options.runId.replace(/[^A-Za-z0-9._-]/g, '_')}.ndjson`;
        const created: string[] = [];
        const abort = new AbortController();
        const onAbort = () => abort.abort(signal?.reason);
        signal?.addEventListener('abort', onAbort, { once: true });
        try {
          const ctx: StageContext = {
            pool,
            store: options.store,
            manifest,
            target,
            rejectsStaging,
            signal: abort.signal,
            log,
            maxRejects,
            rejectedSoFar: { count: 0 },
          };
          /** After all files are loaded: rejects bookkeeping shared by both modes (inside the transaction). */
          const finishRejects = async (outcomes: FileOutcome[]) => {
            const rowsRejected = outcomes.reduce((n, o) => n + o.rejected, 0);
            if (rowsRejected > maxRejects) {
              throw new WarehouseError(
                'TOO_MANY_REJECTS',
                `${rowsRejected} rejected rows exceed maxRejects ${maxRejects}`,
                {
                  table,
                },
              );
            }
            if (options.rejects === 'file' && rowsRejected > 0) {
              await writeRejectsFile(lockClient, options.store, rejectsFileKey, rejectsStaging);
            }
            return planRejects(
              lockClient,
              rejectsTarget && { ...rejectsTarget, count: rowsRejected },
              disposition,
            );
          };
          let outcomes: FileOutcome[];
          if (mode === 'direct') {
            // One pass: every file COPYed into the target inside the publish transaction.
            outcomes = await inTransaction(lockClient, async () => {
              const setting = (name: string, value: string) =>
                lockClient.query('SELECT set_config($1, $2, true)', [name, value]);
              await setting(METADATA_SETTINGS._run_id, options.runId);
              await setting(METADATA_SETTINGS._partition, partition);
              await lockClient.query(buildCreateRejectsStagingSql(rejectsStaging, true));
              for (const statement of buildClearStatements({ target: qualified, disposition, partition })) {
                await lockClient.query(statement.sql, statement.parameters);
              }
              const done: FileOutcome[] = [];
              for (const f of manifest.files) {
                throwIfAborted(signal, `loading ${table}`);
                // Outside the file's savepoint: a rollback to it must not undo the setting.
                await setting(METADATA_SETTINGS._source_file, f.key);
                done.push(await loadFile(ctx, f.key, f.rows, directPlan(ctx, lockClient)));
              }
              const rejectsPlan = await finishRejects(done);
              for (const statement of buildRejectsStatements({
                disposition,
                partition,
                runId: options.runId,
                ...(rejectsPlan ? { rejects: rejectsPlan } : {}),
              })) {
                await lockClient.query(statement.sql, statement.parameters);
              }
              return done;
            });
          } else {
            await lockClient.query(buildCreateRejectsStagingSql(rejectsStaging));
            created.push(rejectsStaging);
            for (const f of stagedFiles) {
              await lockClient.query(buildCreateStagingSql(f.staging, target.columns));
              created.push(f.staging);
            }
            outcomes = await runBounded(
              parallel,
              manifest.files.map(
                (f, i) => () =>
                  loadFile(ctx, f.key, f.rows, stagingPlan(ctx, (stagedFiles[i] as StagedFile).staging)),
              ),
              abort,
            );
            throwIfAborted(signal, `loading ${table}`);
            // Staging tables are this load's own: the checks need no transaction.
            if (disposition === 'merge')
              await checkMergeKeys(lockClient, ctx, stagedFiles, options.primaryKey ?? []);
            await inTransaction(lockClient, async () => {
              const rejectsPlan = await finishRejects(outcomes);
              const statements = buildPublishStatements({
                target: qualified,
                columns: target.columns.map((c) => c.name),
                files: stagedFiles,
                disposition,
                partition,
                runId: options.runId,
                ...(options.primaryKey ? { primaryKey: options.primaryKey } : {}),
                ...(rejectsPlan ? { rejects: rejectsPlan } : {}),
              });
              for (const statement of statements) await lockClient.query(statement.sql, statement.parameters);
            });
          }
          const rowsLoaded = outcomes.reduce((n, o) => n + o.loaded, 0);
          const rowsRejected = outcomes.reduce((n, o) => n + o.rejected, 0);
          result = {
            table: `${schema}.${table}`,
            partition,
            disposition,
            files: manifest.files.length,
            rowsIn: rowsLoaded + rowsRejected,
            rowsLoaded,
            rowsRejected,
            ...(rowsRejected > 0 && options.rejects !== 'file'
              ? { rejectsTable: `${schema}.${rejectsName}` }
              : {}),
            ...(rowsRejected > 0 && options.rejects === 'file' ? { rejectsFile: rejectsFileKey } : {}),
            durationMs: Math.round(performance.now() - started),
          };
          log.info({ ...result }, 'partition published');
        } finally {
          signal?.removeEventListener('abort', onAbort);
          if (created.length > 0) {
            // Any healthy connection will do: the lock client may be the one that broke.
            await pool.query(`DROP TABLE IF EXISTS ${created.join(', ')}`).catch((error: unknown) => {
              log.warn({ table: `${schema}.${table}`, err: error }, 'could not drop staging tables');
            });
          }
        }
      } catch (error) {
        // A broken lock connection already released the lock with its session.
        await unlock().catch(() => undefined);
        throw error;
      }
      await unlock();
      return result;
    });
  } catch (error) {
    if (error instanceof RowFormatError) {
      throw new WarehouseError('BAD_FILE', error.message, { table, line: error.line, cause: error });
    }
    const line = copyErrorLine(error);
    throw toWarehouseError(error, 'COPY_FAILED', `loading ${options.source}/${partition} into ${table}`, {
      table,
      ...(line !== undefined ? { line } : {}),
    });
  }
}
