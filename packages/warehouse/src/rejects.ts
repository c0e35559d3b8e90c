import type pg from 'pg';
import type { FileLoadContext, FileOutcome } from './copy-plan.js';
import { WarehouseError } from './errors.js';
import type { LakeStore } from './lake.js';
import type { SourceRecord } from './records.js';
import { advisoryLockKey, buildCreateRejectsTableSql, type Disposition, type PublishPlan } from './sql.js';

/** Where a load's rejected rows are published (`<table>__rejects`). */
export interface RejectsTarget {
  table: string;
  qualified: string;
  staging: string;
  count: number;
}

/**
 * Text PostgreSQL can store: a NUL byte (which no text value may hold, SQLSTATE 22021) becomes
 * the visible escape `\x00`, so the row that carried it can still be rejected with its line.
 *
 * @example
 * storableText('a\u0000b'); // 'a\\x00b'
 */
export function storableText(value: string): string {
  return value.includes('\u0000') ? value.replaceAll('\u0000', '\\x00') : value;
}

/**
 * Records one rejected row in the load's rejects staging table and fails TOO_MANY_REJECTS as
 * soon as the load's count exceeds `maxRejects`.
 *
 * @example
 * await recordReject(client, ctx, outcome, record, 'invalid input syntax for type integer', '22P02');
 */
export async function recordReject(
  client: pg.ClientBase,
  ctx: Pick<FileLoadContext, 'rejectsStaging' | 'rejectedSoFar' | 'maxRejects' | 'table'>,
  outcome: FileOutcome,
  record: SourceRecord,
  error: string,
  sqlState: string | null,
): Promise<void> {
  outcome.rejected += 1;
  outcome.firstRejectLine ??= record.line;
  ctx.rejectedSoFar.count += 1;
  await client.query(
    `INSERT INTO ${ctx.rejectsStaging} (source_file, line, raw_row, error, sqlstate) VALUES ($1, $2, $3, $4, $5)`,
    [outcome.file, record.line, storableText(record.raw), storableText(error), sqlState],
  );
  if (ctx.rejectedSoFar.count > ctx.maxRejects) {
    throw new WarehouseError(
      'TOO_MANY_REJECTS',
      `more than ${ctx.maxRejects} rejected rows (first in ${outcome.file} line ${outcome.firstRejectLine})`,
      { table: ctx.table, file: outcome.file, line: outcome.firstRejectLine as number },
    );
  }
}

/** Fails TOO_MANY_REJECTS when the finished files rejected more rows than allowed. */
export function checkRejectCount(
  outcomes: readonly FileOutcome[],
  maxRejects: number,
  table: string,
): number {
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
  return rowsRejected;
}

/**
 * Inside the publish transaction: creates `<table>__rejects` when needed and plans its
 * statements (clearing the rejects a replacing load supersedes).
 *
 * @example
 * const plan = await planRejects(client, { ...target, count: 3 }, 'replace_partition');
 */
export async function planRejects(
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

/**
 * Writes the load's rejected rows as NDJSON to `key` in the lake (`rejects: 'file'`).
 *
 * @example
 * await writeRejectsFile(client, store, 'orders/dt=2024-01-01/_rejects/warehouse-r1.ndjson', staging);
 */
export async function writeRejectsFile(
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

/** The lake key of a load's rejects file. */
export function rejectsFileKey(source: string, partition: string, runId: string): string {
  return `${source}/${partition}/_rejects/warehouse-${runId.replace(/[^A-Za-z0-9._-]/g, '_')}.ndjson`;
}
