import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFsStore, createS3Store, ingestCsv, type ObjectStore } from '@dataflow/ingest';
import { useTestBucket, useTestDatabase } from '@dataflow/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPartition, type WarehouseError } from '../src/index.js';
import { csv, day, writePartition } from './lake-fixture.js';
import { withLoads } from './load-queries.js';

const db = useTestDatabase();
const s3 = useTestBucket();
let dir: string;
let store: ObjectStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'warehouse-lake-'));
  store = createFsStore({ root: join(dir, 'lake') });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cols = ['id', 'amount', 'status'];

async function rowsOf(table: string, columns = 'id, amount, status, _day AS _partition, _run_id') {
  const { rows } = await db.pool.query(`SELECT ${columns} FROM ${withLoads(table)} ORDER BY id, _partition`);
  return rows;
}

async function partitionsOf(table: string): Promise<string[]> {
  const { rows } = await db.pool.query<{ bound: string }>(
    `SELECT pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = $1::regclass ORDER BY 1`,
    [table],
  );
  return rows.map((r) => r.bound);
}

describe('loadPartition: dispositions', () => {
  beforeAll(async () => {
    await writePartition(store, {
      source: 'orders',
      ds: '2024-01-01',
      columns: cols,
      files: [
        csv(cols, [
          [1, 10, 'new'],
          [2, 20, 'shipped'],
        ]),
        csv(cols, [[3, 30, 'new']]),
      ],
    });
    await writePartition(store, {
      source: 'orders',
      ds: '2024-01-02',
      columns: cols,
      files: [
        csv(cols, [
          [2, 25, 'returned'],
          [4, 40, 'new'],
        ]),
      ],
    });
  });

  // A 2-file partition: `parallel: 1` COPYs both with FREEZE on one connection, `parallel: 2`
  // COPYs them at once into a committed fresh table (whatever the cores of the machine).
  describe.each([
    ['freeze', 1],
    ['parallel', 2],
  ] as const)('%s', (mode, parallel) => {
    it('replace_partition (default) creates a day-partitioned table with declared types and metadata, and re-runs are idempotent', async () => {
      const options = {
        store,
        source: 'orders',
        table: `orders_rp_${mode}`,
        interval: day('2024-01-01'),
        runId: 'run-1',
        columns: { id: 'integer', amount: 'numeric(12,2)' },
        parallel,
      };
      const snapshots: unknown[] = [];
      const partitionTables: string[] = [];
      for (let i = 0; i < 3; i++) {
        const result = await loadPartition(db.pool, options);
        expect(result).toMatchObject({
          table: `${db.schema}.orders_rp_${mode}`,
          partition: 'dt=2024-01-01',
          disposition: 'replace_partition',
          files: 2,
          rowsIn: 3,
          rowsLoaded: 3,
          rowsRejected: 0,
          layout: 'partitioned',
        });
        snapshots.push(
          await rowsOf(
            `orders_rp_${mode}`,
            'id, amount, status, _day AS _partition, _run_id, _source_files, _loaded_at IS NOT NULL AS stamped',
          ),
        );
        const { rows } = await db.pool.query(
          `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass`,
          [`orders_rp_${mode}`],
        );
        expect(rows).toHaveLength(1);
        partitionTables.push(rows[0].relname);
      }
      // Every re-run swapped in a fresh partition table (no DELETE, no dead rows).
      expect(new Set(partitionTables).size).toBe(3);
      const files = ['orders/dt=2024-01-01/part-00000-a1.csv', 'orders/dt=2024-01-01/part-00001-a1.csv'];
      // One load, one transaction time for every row, from the server's clock.
      const stamps = await db.pool.query(
        `SELECT count(DISTINCT _loaded_at)::int AS n, bool_and(_loaded_at BETWEEN now() - interval '1 minute' AND now()) AS recent FROM orders_rp_${mode}`,
      );
      expect(stamps.rows).toEqual([{ n: 1, recent: true }]);
      expect(snapshots[1]).toEqual(snapshots[0]);
      expect(snapshots[2]).toEqual(snapshots[0]);
      expect(snapshots[0]).toEqual([
        {
          id: 1,
          amount: '10.00',
          status: 'new',
          _partition: '2024-01-01',
          _run_id: 'run-1',
          _source_files: files,
          stamped: true,
        },
        {
          id: 2,
          amount: '20.00',
          status: 'shipped',
          _partition: '2024-01-01',
          _run_id: 'run-1',
          _source_files: files,
          stamped: true,
        },
        {
          id: 3,
          amount: '30.00',
          status: 'new',
          _partition: '2024-01-01',
          _run_id: 'run-1',
          _source_files: files,
          stamped: true,
        },
      ]);
      const types = await db.pool.query(
        `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
        [db.schema, `orders_rp_${mode}`],
      );
      expect(types.rows.map((r) => `${r.column_name}:${r.data_type}`)).toEqual([
        'id:integer',
        'amount:numeric',
        'status:text',
        '_load_id:integer',
        '_partition:date',
        '_loaded_at:timestamp with time zone',
      ]);
      // Another partition leaves the first one alone; re-running it replaces only its rows.
      await loadPartition(db.pool, { ...options, interval: day('2024-01-02'), runId: 'run-2' });
      await loadPartition(db.pool, { ...options, interval: day('2024-01-02'), runId: 'run-3' });
      expect((await rowsOf(`orders_rp_${mode}`)).map((r) => `${r.id}/${r._partition}/${r._run_id}`)).toEqual([
        '1/2024-01-01/run-1',
        '2/2024-01-01/run-1',
        '2/2024-01-02/run-3',
        '3/2024-01-01/run-1',
        '4/2024-01-02/run-3',
      ]);
      expect(await partitionsOf(`orders_rp_${mode}`)).toEqual([
        "FOR VALUES IN ('2024-01-01')",
        "FOR VALUES IN ('2024-01-02')",
      ]);
      // The load table holds one row per load, superseded ones included.
      const loads = await db.pool.query(
        `SELECT run_id, source, disposition, partition::text, rows_loaded::int FROM _dataflow_loads
          WHERE table_name = $1 ORDER BY load_id`,
        [`orders_rp_${mode}`],
      );
      expect(
        loads.rows.map((r) => `${r.run_id}:${r.source}:${r.disposition}:${r.partition}:${r.rows_loaded}`),
      ).toEqual([
        'run-1:orders:replace_partition:2024-01-01:3',
        'run-1:orders:replace_partition:2024-01-01:3',
        'run-1:orders:replace_partition:2024-01-01:3',
        'run-2:orders:replace_partition:2024-01-02:2',
        'run-3:orders:replace_partition:2024-01-02:2',
      ]);
      // No helper table (staging, fresh partition, rejects) survives.
      const staging = await db.pool.query(
        `SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND relname LIKE '%\\_\\_df\\_%'`,
        [db.schema],
      );
      expect(staging.rows).toEqual([]);
    });

    it('append adds the rows on every run', async () => {
      const options = {
        store,
        source: 'orders',
        table: `orders_ap_${mode}`,
        interval: day('2024-01-01'),
        runId: 'r',
        disposition: 'append' as const,
        parallel,
      };
      await loadPartition(db.pool, options);
      const second = await loadPartition(db.pool, options);
      expect(second.rowsLoaded).toBe(3);
      expect((await rowsOf(`orders_ap_${mode}`)).map((r) => r.id)).toEqual(['1', '1', '2', '2', '3', '3']);
      expect(await partitionsOf(`orders_ap_${mode}`)).toEqual(["FOR VALUES IN ('2024-01-01')"]);
    });

    it('replace swaps the whole table in one transaction', async () => {
      const options = {
        store,
        source: 'orders',
        table: `orders_rep_${mode}`,
        runId: 'r',
        disposition: 'replace' as const,
        parallel,
      };
      await loadPartition(db.pool, { ...options, interval: day('2024-01-01') });
      const result = await loadPartition(db.pool, { ...options, interval: day('2024-01-02') });
      expect(result.rowsLoaded).toBe(2);
      expect((await rowsOf(`orders_rep_${mode}`)).map((r) => `${r.id}/${r._partition}`)).toEqual([
        '2/2024-01-02',
        '4/2024-01-02',
      ]);
      expect(await partitionsOf(`orders_rep_${mode}`)).toEqual(["FOR VALUES IN ('2024-01-02')"]);
    });
  });

  it('merge upserts on the primary key (creating the unique index it needs)', async () => {
    const options = {
      store,
      source: 'orders',
      table: 'orders_mg',
      runId: 'r1',
      disposition: 'merge' as const,
      primaryKey: ['id'],
      columns: { id: 'integer' },
    };
    await loadPartition(db.pool, { ...options, interval: day('2024-01-01') });
    const result = await loadPartition(db.pool, { ...options, interval: day('2024-01-02'), runId: 'r2' });
    expect(result).toMatchObject({ disposition: 'merge', rowsLoaded: 2 });
    expect((await rowsOf('orders_mg')).map((r) => `${r.id}:${r.amount}:${r.status}:${r._run_id}`)).toEqual([
      '1:10:new:r1',
      '2:25:returned:r2',
      '3:30:new:r1',
      '4:40:new:r2',
    ]);
    const idx = await db.pool.query(
      `SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'orders_mg' AND indexdef LIKE 'CREATE UNIQUE%'`,
      [db.schema],
    );
    expect(idx.rows).toEqual([{ indexname: 'orders_mg__pk' }]);
  });

  it('merge refuses NULL keys and duplicate keys, naming files and records, publishing nothing', async () => {
    await writePartition(store, {
      source: 'orders',
      ds: '2024-02-01',
      columns: cols,
      files: [
        csv(cols, [
          [9, 90, 'ok'],
          ['', 1, 'no key'],
          ['', 2, 'no key'],
        ]),
      ],
    });
    await writePartition(store, {
      source: 'orders',
      ds: '2024-02-02',
      columns: cols,
      files: [
        csv(cols, [[7, 1, 'a']]),
        csv(cols, [
          [7, 2, 'b'],
          [8, 3, 'c'],
        ]),
      ],
    });
    const options = {
      store,
      source: 'orders',
      table: 'orders_mg',
      runId: 'bad',
      disposition: 'merge' as const,
      primaryKey: ['id'],
    };
    const before = await rowsOf('orders_mg');
    const nullKey = (await loadPartition(db.pool, { ...options, interval: day('2024-02-01') }).catch(
      (e) => e,
    )) as WarehouseError;
    expect(nullKey).toMatchObject({ code: 'NULL_KEY', file: 'orders/dt=2024-02-01/part-00000-a1.csv' });
    expect(nullKey.message).toBe(
      'orders_mg: 2 row(s) have a NULL in primary key ("id"): orders/dt=2024-02-01/part-00000-a1.csv records 2 (line 3), 3 (line 4)',
    );
    const dup = (await loadPartition(db.pool, { ...options, interval: day('2024-02-02') }).catch(
      (e) => e,
    )) as WarehouseError;
    expect(dup).toMatchObject({ code: 'DUPLICATE_KEY' });
    expect(dup.message).toBe(
      'orders_mg: 1 value(s) of primary key ("id") occur more than once in the partition (2 rows): ' +
        'orders/dt=2024-02-02/part-00000-a1.csv record 1 (line 2) & orders/dt=2024-02-02/part-00001-a1.csv record 1 (line 2)',
    );
    expect(await rowsOf('orders_mg')).toEqual(before);
  });
});

describe('loadPartition: formats and schema', () => {
  it('loads a gzip partition written by ingestCsv, several part files in parallel', async () => {
    const source = join(dir, 'events.csv');
    const lines = ['id,kind,at'];
    for (let i = 1; i <= 5000; i++)
      lines.push(`${i},${i % 3 === 0 ? '"a, b"' : 'plain'},2024-03-01 10:00:00`);
    await writeFile(source, `${lines.join('\n')}\n`);
    const manifest = await ingestCsv({
      source: 'events',
      location: source,
      interval: day('2024-03-01'),
      store,
      runId: 'ingest-1',
      options: { gzip: true, partBytes: 40_000 },
    });
    expect(manifest.compression).toBe('gzip');
    expect(manifest.files.length).toBeGreaterThan(2);
    const result = await loadPartition(db.pool, {
      store,
      source: 'events',
      interval: day('2024-03-01'),
      runId: 'load-1',
      columns: { id: 'integer', at: 'timestamp' },
      parallel: 3,
    });
    expect(result).toMatchObject({
      table: `${db.schema}.raw_events`,
      files: manifest.files.length,
      rowsIn: 5000,
      rowsLoaded: 5000,
    });
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n, sum(id)::bigint AS s, count(*) FILTER (WHERE kind = 'a, b')::int AS commas,
              max(cardinality(_source_files))::int AS files, min(at)::text AS at FROM ${withLoads('raw_events')}`,
    );
    expect(rows[0]).toEqual({
      n: 5000,
      s: '12502500',
      commas: 1666,
      files: manifest.files.length,
      at: '2024-03-01 10:00:00',
    });
  });

  it('loads an NDJSON partition: keys into columns, objects as JSON text, null as NULL', async () => {
    const columns = ['id', 'name', 'tags', 'meta'];
    await writePartition(store, {
      source: 'users',
      ds: '2024-04-01',
      format: 'ndjson',
      gzip: true,
      columns,
      files: [
        '{"id":1,"name":"Ann","tags":["a","b"],"meta":{"k":1}}\n{"id":2,"name":"","tags":[],"meta":null}\n',
        '{"id":3,"name":"Bo \\"B\\"","meta":{"nested":{"x":true}}}\n',
      ],
    });
    const result = await loadPartition(db.pool, {
      store,
      source: 'users',
      interval: day('2024-04-01'),
      runId: 'r',
      columns: { id: 'bigint', meta: 'jsonb' },
    });
    expect(result).toMatchObject({ rowsIn: 3, rowsLoaded: 3, files: 2 });
    const { rows } = await db.pool.query('SELECT id, name, tags, meta FROM raw_users ORDER BY id');
    expect(rows).toEqual([
      { id: '1', name: 'Ann', tags: '["a","b"]', meta: { k: 1 } },
      { id: '2', name: '', tags: '[]', meta: null },
      { id: '3', name: 'Bo "B"', tags: null, meta: { nested: { x: true } } },
    ]);
  });

  it('schema evolution: evolve adds new columns, freeze fails with SCHEMA_DRIFT naming them', async () => {
    await writePartition(store, {
      source: 'evo',
      ds: '2024-05-01',
      columns: ['id'],
      files: [csv(['id'], [[1]])],
    });
    await writePartition(store, {
      source: 'evo',
      ds: '2024-05-02',
      columns: ['id', 'colour', 'size'],
      files: [csv(['id', 'colour', 'size'], [[2, 'red', 3]])],
    });
    await loadPartition(db.pool, { store, source: 'evo', interval: day('2024-05-01'), runId: 'r' });
    const frozen = (await loadPartition(db.pool, {
      store,
      source: 'evo',
      table: 'raw_evo',
      interval: day('2024-05-02'),
      runId: 'r',
      schemaEvolution: 'freeze',
    }).catch((e) => e)) as WarehouseError;
    expect(frozen).toMatchObject({ code: 'SCHEMA_DRIFT', column: 'colour' });
    expect(frozen.message).toContain('"colour", "size"');
    expect((await db.pool.query('SELECT count(*)::int AS n FROM raw_evo')).rows).toEqual([{ n: 1 }]);
    await loadPartition(db.pool, {
      store,
      source: 'evo',
      interval: day('2024-05-02'),
      runId: 'r',
      columns: { size: 'integer' },
    });
    const { rows } = await db.pool.query('SELECT id, colour, size FROM raw_evo ORDER BY id');
    expect(rows).toEqual([
      { id: '1', colour: null, size: null },
      { id: '2', colour: 'red', size: 3 },
    ]);
  });

  it('loads from an S3 lake the same way', async () => {
    const s3store = createS3Store({ bucket: s3.bucket, prefix: `${s3.prefix}lake`, client: s3.client });
    await writePartition(s3store, {
      source: 'orders',
      ds: '2024-06-01',
      columns: cols,
      gzip: true,
      files: [
        csv(cols, [[1, 1, 'x']]),
        csv(cols, [
          [2, 2, 'y'],
          [3, 3, 'z'],
        ]),
      ],
    });
    const result = await loadPartition(db.pool, {
      store: s3store,
      source: 'orders',
      table: 'orders_s3',
      interval: day('2024-06-01'),
      runId: 's3',
    });
    expect(result).toMatchObject({ files: 2, rowsLoaded: 3 });
    expect((await rowsOf('orders_s3')).map((r) => r.status)).toEqual(['x', 'y', 'z']);
  });

  it('a table created by dataflow 0.1 (per-row _run_id, no defaults) is loaded as before, with a log line', async () => {
    await db.pool.query(
      'CREATE TABLE legacy_orders (id integer, amount text, status text, _run_id text, _partition text, _source_file text, _loaded_at timestamptz)',
    );
    await db.pool.query(
      "INSERT INTO legacy_orders VALUES (99, '1', 'old', 'r0', 'dt=2023-12-31', 'x', now())",
    );
    const warnings: string[] = [];
    const logger = {
      debug: () => undefined,
      info: () => undefined,
      error: () => undefined,
      warn: (_obj: object, msg?: string) => {
        warnings.push(msg ?? '');
      },
    };
    const result = await loadPartition(db.pool, {
      store,
      source: 'orders',
      table: 'legacy_orders',
      interval: day('2024-01-01'),
      runId: 'legacy',
      logger,
    });
    expect(result).toMatchObject({ rowsLoaded: 3, layout: 'legacy' });
    expect(result.loadId).toBeUndefined();
    expect(warnings).toEqual([expect.stringContaining('per-row metadata columns of dataflow 0.1')]);
    const { rows } = await db.pool.query(
      'SELECT id, _run_id, _partition, _source_file IS NOT NULL AS has_file, _loaded_at IS NOT NULL AS stamped FROM legacy_orders ORDER BY id',
    );
    expect(rows).toEqual([
      { id: 1, _run_id: 'legacy', _partition: 'dt=2024-01-01', has_file: true, stamped: true },
      { id: 2, _run_id: 'legacy', _partition: 'dt=2024-01-01', has_file: true, stamped: true },
      { id: 3, _run_id: 'legacy', _partition: 'dt=2024-01-01', has_file: true, stamped: true },
      { id: 99, _run_id: 'r0', _partition: 'dt=2023-12-31', has_file: true, stamped: true },
    ]);
    // Outside a load the defaults give NULL metadata, never a stale run id.
    await db.pool.query("INSERT INTO legacy_orders (id, status) VALUES (100, 'manual')");
    expect(
      (await db.pool.query('SELECT _run_id, _partition FROM legacy_orders WHERE id = 100')).rows,
    ).toEqual([{ _run_id: null, _partition: null }]);
  });

  it.each(['replace_partition', 'append'] as const)(
    '%s: a part whose header differs from the manifest fails HEADER_MISMATCH',
    async (mode) => {
      await writePartition(store, {
        source: 'hdr',
        ds: '2024-07-01',
        columns: ['id', 'name'],
        files: [csv(['id', 'name'], [[1, 'a']]), csv(['id', 'nom'], [[2, 'b']])],
      });
      const error = await loadPartition(db.pool, {
        store,
        source: 'hdr',
        table: `hdr_${mode}`,
        disposition: mode,
        interval: day('2024-07-01'),
        runId: 'r',
        maxRejects: 10,
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'HEADER_MISMATCH',
        file: 'hdr/dt=2024-07-01/part-00001-a1.csv',
        line: 1,
      });
      expect((await db.pool.query(`SELECT count(*)::int AS n FROM hdr_${mode}`)).rows).toEqual([{ n: 0 }]);
      expect(
        (
          await db.pool.query('SELECT count(*)::int AS n FROM _dataflow_loads WHERE table_name = $1', [
            `hdr_${mode}`,
          ])
        ).rows,
      ).toEqual([{ n: 0 }]);
    },
  );

  it('direct mode needs a single connection (bad rows included); staging mode refuses a 1-connection pool', async () => {
    await writePartition(store, {
      source: 'tiny',
      ds: '2024-08-01',
      columns: ['id'],
      files: [csv(['id'], [[1], ['bad'], [3]])],
    });
    const single = new pg.Pool({ connectionString: db.connectionString(), max: 1 });
    single.on('error', () => undefined);
    try {
      const options = {
        store,
        source: 'tiny',
        interval: day('2024-08-01'),
        runId: 'r',
        columns: { id: 'integer' },
      };
      const result = await loadPartition(single, { ...options, maxRejects: 1 });
      expect(result).toMatchObject({
        rowsLoaded: 2,
        rowsRejected: 1,
        rejectsTable: `${db.schema}.raw_tiny__rejects`,
      });
      expect((await single.query('SELECT line, raw_row FROM raw_tiny__rejects')).rows).toEqual([
        { line: '3', raw_row: 'bad' },
      ]);
      // The rejects staging was a temp table dropped with the transaction.
      expect(
        (await single.query("SELECT count(*)::int AS n FROM pg_class WHERE relname LIKE '\\_stg\\_%'")).rows,
      ).toEqual([{ n: 0 }]);
      await expect(loadPartition(single, { ...options, mode: 'staging' })).rejects.toMatchObject({
        code: 'INVALID_OPTIONS',
      });
    } finally {
      await single.end();
    }
  });

  it('fails NOT_COMMITTED for a partition without a manifest, before creating anything', async () => {
    await expect(
      loadPartition(db.pool, {
        store,
        source: 'orders',
        table: 'never',
        interval: day('2030-01-01'),
        runId: 'r',
      }),
    ).rejects.toMatchObject({ code: 'NOT_COMMITTED' });
    expect((await db.pool.query("SELECT to_regclass('never') AS t")).rows).toEqual([{ t: null }]);
  });

  it('rejects identifiers over 63 bytes before any SQL', async () => {
    const unreachable = new pg.Pool({ host: '127.0.0.1', port: 1, connectionTimeoutMillis: 500 });
    unreachable.on('error', () => undefined);
    try {
      await expect(
        loadPartition(unreachable, {
          store,
          source: 'orders',
          table: 'x'.repeat(64),
          interval: day('2024-01-01'),
          runId: 'r',
        }),
      ).rejects.toMatchObject({ code: 'IDENTIFIER_TOO_LONG' });
      await expect(
        loadPartition(unreachable, {
          store,
          source: 'orders',
          interval: day('2024-01-01'),
          runId: 'r',
          columns: { ['c'.repeat(64)]: 'text' },
        }),
      ).rejects.toMatchObject({ code: 'IDENTIFIER_TOO_LONG' });
      expect(unreachable.totalCount).toBe(0);
    } finally {
      await unreachable.end();
    }
  });
});
