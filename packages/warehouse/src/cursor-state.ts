import { type CursorState, compareCursor } from '@dataflow/ingest/lake';
import { qualify, quoteIdent } from '@dataflow/pg';
import type pg from 'pg';
import { toWarehouseError, WarehouseError } from './errors.js';
import { advisoryLockKey, type SqlStatement } from './sql.js';

/** Name of the state table in the warehouse schema. */
export const STATE_TABLE = '_dataflow_state';

/** Anything that runs a query: a pool, or a client inside the caller's transaction. */
export type Queryable = Pick<pg.Pool, 'query'> | pg.ClientBase;

/** An incremental source's remembered cursor, as the state table keeps it. */
export interface StoredCursorState extends CursorState {
  source: string;
  /** The record field the cursor reads (`cursor_path`). */
  cursorPath: string;
  /** The run that wrote it (a load's run, or `operator:<who>` for `dataflow state set`). */
  runId: string;
  /** The lake partition (window) whose publish advanced it; absent when set by an operator. */
  partition?: string;
  updatedAt: string;
}

/** Where the state of one source lives. */
export interface CursorStateKey {
  /** The warehouse schema holding `_dataflow_state`. */
  schema: string;
  source: string;
}

/** A new state to store for a source. */
export interface CursorStateWrite extends CursorStateKey {
  cursorPath: string;
  state: CursorState;
  runId: string;
  partition?: string;
}

/**
 * `create table if not exists <schema>._dataflow_state`: one row per source. The last value is
 * stored as text with its JSON type, so a numeric cursor comes back a number.
 *
 * @example
 * buildCreateStateTableSql('raw'); // CREATE TABLE IF NOT EXISTS "raw"."_dataflow_state" (…)
 */
export function buildCreateStateTableSql(schema: string): string {
  return (
    `CREATE TABLE IF NOT EXISTS ${qualify(schema, STATE_TABLE)} (` +
    'source text PRIMARY KEY, cursor_path text NOT NULL, last_value text NOT NULL, ' +
    "last_value_type text NOT NULL CHECK (last_value_type IN ('number', 'string')), " +
    "boundary_keys jsonb NOT NULL DEFAULT '[]'::jsonb, run_id text NOT NULL, partition text, " +
    'updated_at timestamptz NOT NULL DEFAULT now())'
  );
}

/** The upsert of a source's state (values bound). */
export function buildUpsertStateSql(write: CursorStateWrite): SqlStatement {
  const { lastValue, boundaryKeys } = write.state;
  return {
    sql:
      `INSERT INTO ${qualify(write.schema, STATE_TABLE)} ` +
      '(source, cursor_path, last_value, last_value_type, boundary_keys, run_id, partition, updated_at) ' +
      'VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, now()) ON CONFLICT (source) DO UPDATE SET ' +
      'cursor_path = excluded.cursor_path, last_value = excluded.last_value, ' +
      'last_value_type = excluded.last_value_type, boundary_keys = excluded.boundary_keys, ' +
      'run_id = excluded.run_id, partition = excluded.partition, updated_at = excluded.updated_at',
    parameters: [
      write.source,
      write.cursorPath,
      String(lastValue),
      typeof lastValue === 'number' ? 'number' : 'string',
      JSON.stringify(boundaryKeys),
      write.runId,
      write.partition ?? null,
    ],
  };
}

interface StateRow {
  source: string;
  cursor_path: string;
  last_value: string;
  last_value_type: 'number' | 'string';
  boundary_keys: string[];
  run_id: string;
  partition: string | null;
  updated_at: string;
}

function stateOf(row: StateRow): StoredCursorState {
  return {
    source: row.source,
    cursorPath: row.cursor_path,
    lastValue: row.last_value_type === 'number' ? Number(row.last_value) : row.last_value,
    boundaryKeys: row.boundary_keys,
    runId: row.run_id,
    ...(row.partition !== null ? { partition: row.partition } : {}),
    updatedAt: row.updated_at,
  };
}

async function selectState(
  db: Queryable,
  key: CursorStateKey,
  forUpdate: boolean,
): Promise<StoredCursorState | undefined> {
  const table = qualify(key.schema, STATE_TABLE);
  const { rows } = await db.query<StateRow>(
    'SELECT source, cursor_path, last_value, last_value_type, boundary_keys, run_id, partition, ' +
      `updated_at::text AS updated_at FROM ${table} WHERE source = $1${forUpdate ? ' FOR UPDATE' : ''}`,
    [key.source],
  );
  return rows[0] ? stateOf(rows[0]) : undefined;
}

async function stateTableExists(db: Queryable, schema: string): Promise<boolean> {
  const { rows } = await db.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [
    qualify(schema, STATE_TABLE),
  ]);
  return Boolean(rows[0]?.t);
}

/**
 * Creates the state table when missing. Concurrent CREATE … IF NOT EXISTS can still collide
 * (23505 on the type name), so the creation takes the schema's DDL lock, the one target creation takes (only the first
 * write of a schema ever gets here).
 *
 * @example
 * await ensureStateTable(pool, 'raw');
 */
export async function ensureStateTable(db: Queryable, schema: string): Promise<void> {
  if (await stateTableExists(db, schema)) return;
  // A DO block is one statement: its own transaction, or part of the caller's (then the
  // transaction-level lock is held until that one ends).
  const lockKey = advisoryLockKey(`schema:${schema}`, '');
  await db.query(
    `DO $$ BEGIN PERFORM pg_advisory_xact_lock(${lockKey}::bigint); ${buildCreateStateTableSql(schema)}; END $$`,
  );
}

function checkKey(key: CursorStateKey): void {
  quoteIdent(key.schema);
  if (typeof key.source !== 'string' || key.source.length === 0) {
    throw new WarehouseError('INVALID_OPTIONS', 'a cursor state needs a source name');
  }
}

async function guarded<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toWarehouseError(error, 'QUERY_FAILED', what);
  }
}

/**
 * The source's remembered cursor, or undefined when it has none (the next run starts at its
 * `initial_value`). A missing state table is no state.
 *
 * @example
 * const state = await readCursorState(pool, { schema: 'raw', source: 'rates' });
 * await ingestApi({ ...options, cursorState: state });
 */
export function readCursorState(db: Queryable, key: CursorStateKey): Promise<StoredCursorState | undefined> {
  checkKey(key);
  return guarded(`reading the cursor state of ${key.source}`, async () => {
    if (!(await stateTableExists(db, key.schema))) return undefined;
    return selectState(db, key, false);
  });
}

/** What {@link writeCursorState} did. */
export type CursorWriteOutcome = 'advanced' | 'kept';

/**
 * Advances a source's cursor, meant for the load's `onPublish` hook so the state moves in the
 * same transaction as the data. Never moves it backwards: a value before the stored one (a
 * window read with `lag`) keeps the stored value and keys (only `run_id` / `partition`, the last
 * published window, move on); an equal value merges the boundary keys. Locks the
 * source's row until the caller's transaction ends.
 *
 * @example
 * await loadPartition(pool, { ...options, onPublish: (client) =>
 *   writeCursorState(client, { schema: 'raw', source: 'rates', cursorPath: 'updated_at',
 *     state: { lastValue: cursor.to, boundaryKeys: cursor.boundaryKeys }, runId, partition }) });
 */
export function writeCursorState(
  client: pg.ClientBase,
  write: CursorStateWrite,
): Promise<CursorWriteOutcome> {
  checkKey(write);
  return guarded(`advancing the cursor state of ${write.source}`, async () => {
    await ensureStateTable(client, write.schema);
    const stored = await selectState(client, write, true);
    let state = write.state;
    if (stored) {
      const order = compareCursor(write.state.lastValue, stored.lastValue);
      if (order < 0) {
        // The value stays; the marker of the last published window moves on (it was loaded).
        await client.query(
          `UPDATE ${qualify(write.schema, STATE_TABLE)} SET run_id = $2, partition = $3, updated_at = now() WHERE source = $1`,
          [write.source, write.runId, write.partition ?? null],
        );
        return 'kept';
      }
      if (order === 0) {
        state = {
          lastValue: write.state.lastValue,
          boundaryKeys: [...new Set([...stored.boundaryKeys, ...write.state.boundaryKeys])],
        };
      }
    }
    const upsert = buildUpsertStateSql({ ...write, state });
    await client.query(upsert.sql, upsert.parameters);
    return 'advanced';
  });
}

/**
 * An operator's explicit `dataflow state set`: stores the value as given, backwards or not, with
 * no boundary keys unless given.
 *
 * @example
 * await setCursorState(pool, { schema: 'raw', source: 'rates', cursorPath: 'updated_at',
 *   state: { lastValue: '2024-01-01T00:00:00Z', boundaryKeys: [] }, runId: 'operator' });
 */
export function setCursorState(db: Queryable, write: CursorStateWrite): Promise<StoredCursorState> {
  checkKey(write);
  return guarded(`setting the cursor state of ${write.source}`, async () => {
    await ensureStateTable(db, write.schema);
    const upsert = buildUpsertStateSql(write);
    await db.query(upsert.sql, upsert.parameters);
    return (await selectState(db, write, false)) as StoredCursorState;
  });
}

/**
 * Forgets a source's cursor (the next run starts at `initial_value`); resolves whether there was
 * one. Only ever called on an operator's explicit request, never by a full refresh.
 *
 * @example
 * await resetCursorState(pool, { schema: 'raw', source: 'rates' }); // true
 */
export function resetCursorState(db: Queryable, key: CursorStateKey): Promise<boolean> {
  checkKey(key);
  return guarded(`resetting the cursor state of ${key.source}`, async () => {
    if (!(await stateTableExists(db, key.schema))) return false;
    const result = await db.query(`DELETE FROM ${qualify(key.schema, STATE_TABLE)} WHERE source = $1`, [
      key.source,
    ]);
    return (result.rowCount ?? 0) > 0;
  });
}
