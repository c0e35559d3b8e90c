import { quoteIdent } from '@dataflow/pg';
import type pg from 'pg';
import { type RowRef, WarehouseError } from './errors.js';
import type { LakeStore, PartitionManifest } from './lake.js';
import { formatRowRefs, resolveLines } from './row-refs.js';
import {
  buildDuplicateKeyCheck,
  buildDuplicateKeyRowsQuery,
  buildNullKeyCheck,
  buildNullKeyRowsQuery,
  type StagedFile,
} from './sql.js';

/** What naming offending rows needs: the lake (to resolve lines) and the table (for errors). */
export interface MergeKeyContext {
  store: LakeStore;
  manifest: PartitionManifest;
  table: string;
  signal?: AbortSignal;
}

/** Rows named per file (NULL_KEY) and repeated key values named (DUPLICATE_KEY) in an error. */
const KEY_ERROR_ROWS = 5;

/**
 * Merge refuses NULL keys and keys repeated within the partition, before anything is written.
 * The counting checks run on every merge; only when they find something are the offending rows
 * looked up, by file and record number (and physical line when cheap), never by value.
 *
 * @example
 * await checkMergeKeys(client, { store, manifest, table: 'raw_orders' }, stagedFiles, ['id']);
 */
export async function checkMergeKeys(
  client: pg.ClientBase,
  ctx: MergeKeyContext,
  files: StagedFile[],
  pk: string[],
): Promise<void> {
  const table = ctx.table;
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
