import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFsStore, type ObjectStore, type PartitionManifest } from '@dataflow/ingest';
import { useTestDatabase } from '@dataflow/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  acquireCursorLease,
  loadPartition,
  readCursorState,
  resetCursorState,
  setCursorState,
  WarehouseError,
  writeCursorState,
} from '../src/index.js';
import { csv, day, ndjson, writePartition } from './lake-fixture.js';

const db = useTestDatabase();
let dir: string;
let store: ObjectStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'warehouse-incr-'));
  store = createFsStore({ root: join(dir, 'lake') });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const key = (source: string) => ({ schema: db.schema, source });
const write = (source: string, lastValue: string | number, boundaryKeys: string[], runId = 'r') => ({
  ...key(source),
  cursorPath: 'updated_at',
  state: { lastValue, boundaryKeys },
  runId,
  partition: 'w=x1',
});

async function inTx<T>(fn: (client: import('pg').PoolClient) => Promise<T>): Promise<T> {
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } finally {
    client.release();
  }
}

/**
 * The table's row count as another session sees it, or `locked` when the publish's partition
 * swap keeps other sessions out until it commits (either way: not visible yet).
 */
async function outsideCount(table: string): Promise<number | 'locked'> {
  const client = await db.pool.connect();
  try {
    await client.query(`SET lock_timeout = '1s'`);
    return (await client.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n;
  } catch (error) {
    if ((error as { code?: string }).code === '55P03') return 'locked';
    throw error;
  } finally {
    await client.query('RESET lock_timeout').catch(() => undefined);
    client.release();
  }
}

describe('cursor state', () => {
  it('is absent before the first write, advances, never moves backwards, and merges boundary keys on an equal value', async () => {
    expect(await readCursorState(db.pool, key('s1'))).toBeUndefined();
    expect(await inTx((c) => writeCursorState(c, write('s1', '2024-01-02T00:00:00Z', ['[1]'], 'r1')))).toBe(
      'advanced',
    );
    expect(await readCursorState(db.pool, key('s1'))).toMatchObject({
      source: 's1',
      cursorPath: 'updated_at',
      lastValue: '2024-01-02T00:00:00Z',
      boundaryKeys: ['[1]'],
      runId: 'r1',
      partition: 'w=x1',
    });
    // A window that ends before the state (read with lag, nothing new): value and keys kept.
    expect(
      await inTx((c) =>
        writeCursorState(c, { ...write('s1', '2024-01-01T12:00:00Z', ['[9]'], 'r2'), partition: 'w=x2' }),
      ),
    ).toBe('kept');
    expect(await readCursorState(db.pool, key('s1'))).toMatchObject({
      lastValue: '2024-01-02T00:00:00Z',
      boundaryKeys: ['[1]'],
      runId: 'r2',
      partition: 'w=x2',
    });
    // Same instant in another zone: equal, the boundary keys are merged.
    expect(
      await inTx((c) => writeCursorState(c, write('s1', '2024-01-02T01:00:00+01:00', ['[2]', '[1]'], 'r3'))),
    ).toBe('advanced');
    const state = await readCursorState(db.pool, key('s1'));
    expect(state?.boundaryKeys.sort()).toEqual(['[1]', '[2]']);
    expect(state?.runId).toBe('r3');
  });

  it('keeps numbers numbers, and set / reset are the operator’s explicit moves (backwards allowed)', async () => {
    await inTx((c) => writeCursorState(c, write('s2', 120, ['[7]'])));
    expect((await readCursorState(db.pool, key('s2')))?.lastValue).toBe(120);
    await inTx((c) => writeCursorState(c, write('s2', 99, [])));
    expect((await readCursorState(db.pool, key('s2')))?.lastValue).toBe(120);
    const set = await setCursorState(db.pool, {
      ...key('s2'),
      cursorPath: 'id',
      state: { lastValue: 5, boundaryKeys: [] },
      runId: 'operator',
    });
    expect(set).toMatchObject({ lastValue: 5, boundaryKeys: [], runId: 'operator', cursorPath: 'id' });
    expect(set.partition).toBeUndefined();
    expect(await resetCursorState(db.pool, key('s2'))).toBe(true);
    expect(await resetCursorState(db.pool, key('s2'))).toBe(false);
    expect(await readCursorState(db.pool, key('s2'))).toBeUndefined();
  });

  it('a write in a transaction that rolls back leaves the state where it was', async () => {
    await inTx((c) => writeCursorState(c, write('s3', 10, [])));
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await writeCursorState(client, write('s3', 20, []));
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    expect((await readCursorState(db.pool, key('s3')))?.lastValue).toBe(10);
  });
});

describe('cursor lease', () => {
  it('excludes a second cursor run of the source until released, bounded by its timeout', async () => {
    const first = await acquireCursorLease(db.pool, { schema: db.schema, source: 'leased' });
    const error = await acquireCursorLease(db.pool, {
      schema: db.schema,
      source: 'leased',
      timeoutMs: 200,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WarehouseError);
    expect(error).toMatchObject({ code: 'LOCK_TIMEOUT', retryable: true });
    expect((error as Error).message).toContain('source leased');
    // Another source is not excluded.
    const other = await acquireCursorLease(db.pool, { schema: db.schema, source: 'other', timeoutMs: 5_000 });
    await other.release();
    await first.release();
    await first.release();
    const second = await acquireCursorLease(db.pool, {
      schema: db.schema,
      source: 'leased',
      timeoutMs: 5_000,
    });
    await second.release();
  });

  it('ends its wait on abort', async () => {
    const first = await acquireCursorLease(db.pool, { schema: db.schema, source: 'aborted' });
    const controller = new AbortController();
    const waiting = acquireCursorLease(db.pool, {
      schema: db.schema,
      source: 'aborted',
      signal: controller.signal,
    }).catch((e: unknown) => e);
    controller.abort();
    expect(await waiting).toMatchObject({ code: 'ABORTED' });
    await first.release();
  });
});

const cols = ['id', 'amount', 'updated_at'];
const cursorOf = (from: string, to: string, keys: string[]): PartitionManifest['cursor'] => ({
  path: 'updated_at',
  from,
  to,
  boundaryKeys: keys,
  duplicatesDropped: 0,
});

describe('loadPartition: window partitions and the publish hook', () => {
  it('loads two windows of one day side by side (append) and advances the state with each publish', async () => {
    for (const [i, window] of ['w=20240101T100000Z-aaaaaa', 'w=20240101T110000Z-bbbbbb'].entries()) {
      const manifest = await writePartition(store, {
        source: 'win',
        ds: '2024-01-01',
        partition: window,
        columns: cols,
        files: [csv(cols, [[i + 1, 10 * (i + 1), `2024-01-01T0${i}:00:00Z`]])],
        cursor: cursorOf('2024-01-01T00:00:00Z', `2024-01-01T0${i}:00:00Z`, [`[${i + 1}]`]),
      });
      const result = await loadPartition(db.pool, {
        store,
        source: 'win',
        interval: day('2024-01-01'),
        partition: window,
        disposition: 'append',
        runId: `run-${i}`,
        onPublish: async (client) => {
          const cursor = manifest.cursor as NonNullable<PartitionManifest['cursor']>;
          await writeCursorState(client, {
            ...key('win'),
            cursorPath: cursor.path,
            state: { lastValue: cursor.to, boundaryKeys: cursor.boundaryKeys },
            runId: `run-${i}`,
            partition: window,
          });
        },
      });
      expect(result).toMatchObject({ partition: window, rowsLoaded: 1, layout: 'partitioned' });
    }
    const { rows } = await db.pool.query(
      'SELECT id, amount, _partition::text AS day FROM raw_win ORDER BY id',
    );
    expect(rows).toEqual([
      { id: '1', amount: '10', day: '2024-01-01' },
      { id: '2', amount: '20', day: '2024-01-01' },
    ]);
    expect(await readCursorState(db.pool, key('win'))).toMatchObject({
      lastValue: '2024-01-01T01:00:00Z',
      boundaryKeys: ['[2]'],
      partition: 'w=20240101T110000Z-bbbbbb',
    });
  });

  it('refuses a window with a replacing disposition', async () => {
    await expect(
      loadPartition(db.pool, {
        store,
        source: 'win',
        interval: day('2024-01-01'),
        partition: 'w=20240101T100000Z-aaaaaa',
        runId: 'r',
      }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTIONS', message: expect.stringContaining('append or merge') });
  });

  const strategies = [
    { name: 'swap-partition', disposition: 'replace_partition', legacy: false },
    { name: 'stage-and-publish (merge)', disposition: 'merge', legacy: false },
    { name: 'stage-and-publish (append)', disposition: 'append', legacy: false },
    { name: 'legacy-direct', disposition: 'replace_partition', legacy: true },
  ] as const;

  describe.each(strategies)('$name', ({ name, disposition, legacy }) => {
    const source = `hook_${name.replace(/[^a-z]/g, '_')}`.slice(0, 40);
    const table = `raw_${source}`;

    beforeAll(async () => {
      await writePartition(store, {
        source,
        ds: '2024-02-01',
        columns: cols,
        files: [
          csv(cols, [
            [1, 5, '2024-02-01T01:00:00Z'],
            [2, 6, '2024-02-01T02:00:00Z'],
          ]),
        ],
      });
      if (legacy) {
        await db.pool.query(
          `CREATE TABLE ${table} (id text, amount text, updated_at text, _run_id text, _partition text, _source_file text, _loaded_at timestamptz)`,
        );
      }
    });

    const load = (onPublish: (client: import('pg').ClientBase) => Promise<void>, runId: string) =>
      loadPartition(db.pool, {
        store,
        source,
        interval: day('2024-02-01'),
        disposition,
        ...(disposition === 'merge' ? { primaryKey: ['id'] } : {}),
        runId,
        onPublish,
      });

    it('a failing hook rolls the publish back: no rows, no state', async () => {
      const error = await load(async (client) => {
        await writeCursorState(client, write(source, 2, []));
        throw new Error('hook failed');
      }, 'fail').catch((e: unknown) => e);
      expect((error as Error).message).toContain('hook failed');
      const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM ${table}`);
      expect(rows[0].n).toBe(0);
      expect(await readCursorState(db.pool, key(source))).toBeUndefined();
    });

    it('the hook runs inside the publish transaction and commits with the rows', async () => {
      let sawRows = -1;
      const result = await load(async (client) => {
        // The rows are visible to the publishing transaction only.
        sawRows = (await client.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n;
        expect([0, 'locked']).toContain(await outsideCount(table));
        await writeCursorState(client, write(source, 2, ['[2]']));
      }, 'ok');
      expect(result.rowsLoaded).toBe(2);
      expect(sawRows).toBe(2);
      expect((await readCursorState(db.pool, key(source)))?.lastValue).toBe(2);
    });
  });
});

describe('loadPartition: column types from the manifest schema', () => {
  const schema: PartitionManifest['schema'] = [
    { name: 'id', type: 'integer', nullable: false },
    { name: 'big', type: 'bigint', nullable: false },
    { name: 'rate', type: 'numeric', nullable: false },
    { name: 'active', type: 'boolean', nullable: false },
    { name: 'seen_at', type: 'timestamptz', nullable: false },
    { name: 'on_day', type: 'date', nullable: true },
    { name: 'payload', type: 'jsonb', nullable: false },
    { name: 'tags', type: 'jsonb', nullable: false },
    { name: 'note', type: 'text', nullable: true },
    { name: 'code', type: 'integer', nullable: false, declared: true },
  ];
  const columns = schema.map((c) => c.name);

  it('creates integer, bigint, numeric, boolean, timestamptz, date, jsonb columns; declared columns win; jsonb is queryable', async () => {
    await writePartition(store, {
      source: 'typed',
      ds: '2024-03-01',
      format: 'ndjson',
      columns,
      schema,
      files: [
        ndjson([
          {
            id: 1,
            big: 9007199254740991,
            rate: 1.25,
            active: true,
            seen_at: '2024-03-01T10:00:00+02:00',
            on_day: '2024-03-01',
            payload: { a: 'x', n: { b: 2 } },
            tags: ['p', 'q'],
            note: null,
            code: 7,
          },
        ]),
      ],
    });
    await loadPartition(db.pool, {
      store,
      source: 'typed',
      interval: day('2024-03-01'),
      runId: 'typed-1',
      columns: { code: 'text' },
    });
    const { rows: types } = await db.pool.query(
      `SELECT column_name AS name, data_type AS type FROM information_schema.columns
        WHERE table_schema = $1 AND table_name = 'raw_typed' AND column_name NOT LIKE '\\_%' ORDER BY ordinal_position`,
      [db.schema],
    );
    expect(types).toEqual([
      { name: 'id', type: 'integer' },
      { name: 'big', type: 'bigint' },
      { name: 'rate', type: 'numeric' },
      { name: 'active', type: 'boolean' },
      { name: 'seen_at', type: 'timestamp with time zone' },
      { name: 'on_day', type: 'date' },
      { name: 'payload', type: 'jsonb' },
      { name: 'tags', type: 'jsonb' },
      { name: 'note', type: 'text' },
      { name: 'code', type: 'text' },
    ]);
    const { rows } = await db.pool.query(
      `SELECT id, big::text, rate::text, active, seen_at = '2024-03-01T08:00:00Z'::timestamptz AS same_instant,
              payload->>'a' AS a, (payload->'n'->>'b')::int AS b, jsonb_array_length(tags) AS tags, note
         FROM raw_typed`,
    );
    expect(rows).toEqual([
      {
        id: 1,
        big: '9007199254740991',
        rate: '1.25',
        active: true,
        same_instant: true,
        a: 'x',
        b: 2,
        tags: 2,
        note: null,
      },
    ]);
  });

  async function typesOf(table: string): Promise<Record<string, string>> {
    const { rows } = await db.pool.query<{ name: string; type: string }>(
      `SELECT column_name AS name, data_type AS type FROM information_schema.columns
        WHERE table_schema = $1 AND table_name = $2`,
      [db.schema, table],
    );
    return Object.fromEntries(rows.map((r) => [r.name, r.type]));
  }

  const widenCols = ['id', 'amount', 'day', 'flag'];
  const day1Schema: PartitionManifest['schema'] = [
    { name: 'id', type: 'integer', nullable: false },
    { name: 'amount', type: 'integer', nullable: false },
    { name: 'day', type: 'date', nullable: false },
    { name: 'flag', type: 'boolean', nullable: false },
  ];
  const day2Schema: PartitionManifest['schema'] = [
    { name: 'id', type: 'integer', nullable: false },
    { name: 'amount', type: 'numeric', nullable: false },
    { name: 'day', type: 'timestamptz', nullable: false },
    { name: 'flag', type: 'integer', nullable: false },
  ];

  async function twoDays(source: string) {
    await writePartition(store, {
      source,
      ds: '2024-04-01',
      format: 'ndjson',
      columns: widenCols,
      schema: day1Schema,
      files: [ndjson([{ id: 1, amount: 5, day: '2024-04-01', flag: true }])],
    });
    await writePartition(store, {
      source,
      ds: '2024-04-02',
      format: 'ndjson',
      columns: widenCols,
      schema: day2Schema,
      files: [ndjson([{ id: 2, amount: 5.5, day: '2024-04-02T10:00:00Z', flag: 3 }])],
    });
  }

  it('evolve widens columns whose type changed between runs, recreating the dependent views with their grants', async () => {
    await twoDays('widen');
    await loadPartition(db.pool, { store, source: 'widen', interval: day('2024-04-01'), runId: 'w1' });
    await db.pool.query(
      'CREATE VIEW stg_widen AS SELECT id, amount * 2 AS doubled, day, flag FROM raw_widen',
    );
    await db.pool.query('CREATE VIEW stg_widen_top AS SELECT max(doubled) AS top FROM stg_widen');
    await db.pool.query('GRANT SELECT ON stg_widen TO PUBLIC');
    await db.pool.query(`COMMENT ON VIEW stg_widen IS 'staging'`);
    await loadPartition(db.pool, { store, source: 'widen', interval: day('2024-04-02'), runId: 'w2' });
    expect(await typesOf('raw_widen')).toMatchObject({
      id: 'integer',
      amount: 'numeric',
      day: 'timestamp with time zone',
      flag: 'text',
    });
    const { rows } = await db.pool.query('SELECT id, doubled::text, flag FROM stg_widen ORDER BY id');
    expect(rows).toEqual([
      { id: 1, doubled: '10', flag: 'true' },
      { id: 2, doubled: '11.0', flag: '3' },
    ]);
    expect((await db.pool.query('SELECT top::text FROM stg_widen_top')).rows).toEqual([{ top: '11.0' }]);
    const { rows: meta } = await db.pool.query(
      `SELECT obj_description('stg_widen'::regclass) AS comment,
              has_table_privilege('public', 'stg_widen'::regclass, 'SELECT') AS granted`,
    );
    expect(meta[0]).toEqual({ comment: 'staging', granted: true });
  });

  it('freeze fails SCHEMA_DRIFT naming the column, and publishes nothing', async () => {
    await twoDays('frozen');
    await loadPartition(db.pool, {
      store,
      source: 'frozen',
      interval: day('2024-04-01'),
      runId: 'f1',
      schemaEvolution: 'freeze',
    });
    const error = await loadPartition(db.pool, {
      store,
      source: 'frozen',
      interval: day('2024-04-02'),
      runId: 'f2',
      schemaEvolution: 'freeze',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WarehouseError);
    expect(error).toMatchObject({ code: 'SCHEMA_DRIFT', column: 'amount' });
    expect((error as Error).message).toMatch(
      /column "amount" .* is integer but the partition's records need numeric/,
    );
    expect(await typesOf('raw_frozen')).toMatchObject({ amount: 'integer', day: 'date' });
    expect((await db.pool.query('SELECT count(*)::int AS n FROM raw_frozen')).rows[0].n).toBe(1);
  });
});
