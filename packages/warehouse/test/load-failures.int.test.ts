import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { createFsStore, type ObjectStore } from '@dataflow/ingest';
import { useTestDatabase } from '@dataflow/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advisoryLockKey, type LoadPartitionOptions, loadPartition, WarehouseError } from '../src/index.js';
import { csv, day, writePartition } from './lake-fixture.js';
import { withLoads } from './load-queries.js';

const db = useTestDatabase();
let dir: string;
let store: ObjectStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'warehouse-fail-'));
  store = createFsStore({ root: join(dir, 'lake') });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cols = ['id', 'name'];

/** Rows `i,name-i` for i in [from, to]; `bad` maps a row index to replacement text for that row. */
function bigCsv(from: number, to: number, bad: Record<number, string> = {}): string {
  const out = ['id,name'];
  for (let i = from; i <= to; i++) out.push(bad[i] ?? `${i},name-${i}`);
  return `${out.join('\n')}\n`;
}

async function stagingTables(): Promise<string[]> {
  const { rows } = await db.pool.query<{ relname: string }>(
    `SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND relname LIKE '%\\_\\_df\\_%'`,
    [db.schema],
  );
  return rows.map((r) => r.relname);
}

async function tableState(table: string): Promise<{ n: number; sum: string | null; runs: string | null }> {
  // Tables seeded in dataflow 0.1's layout keep _run_id on every row.
  const legacy = await db.pool.query(
    "SELECT 1 FROM pg_attribute WHERE attrelid = $1::regclass AND attname = '_run_id'",
    [table],
  );
  const source = legacy.rows.length > 0 ? table : withLoads(table);
  const { rows } = await db.pool.query(
    `SELECT count(*)::int AS n, sum(id::bigint)::text AS sum, string_agg(DISTINCT _run_id, ',') AS runs FROM ${source}`,
  );
  return rows[0];
}

/** A store whose data files trickle out (1000 rows every 20 ms) until the reader gives up. */
function tricklingStore(inner: ObjectStore, onFirstChunk?: () => void): ObjectStore {
  return {
    ...inner,
    get: async (key, options) => {
      if (key.endsWith('_manifest.json')) return inner.get(key, options);
      let i = 0;
      let timer: NodeJS.Timeout | undefined;
      return new Readable({
        read() {
          timer = setTimeout(() => {
            if (i >= 300_000) {
              // Finite, so a test that fails to kill the COPY cannot hang.
              this.push(null);
              return;
            }
            let chunk = i === 0 ? 'id,name\n' : '';
            for (let k = 0; k < 1000; k++) chunk += `${++i},slow\n`;
            this.push(chunk);
            if (i === 1000) onFirstChunk?.();
          }, 20);
        },
        destroy(error, callback) {
          clearTimeout(timer);
          callback(error);
        },
      });
    },
  };
}

describe('bad rows', () => {
  beforeAll(async () => {
    // Row 50,000 (physical line 50,001 of the first file) is bad.
    await writePartition(store, {
      source: 'people',
      ds: '2024-01-01',
      columns: cols,
      files: [bigCsv(1, 60_000, { 50000: 'not-a-number,broken row' }), bigCsv(60_001, 100_000)],
    });
    await writePartition(store, {
      source: 'people',
      ds: '2024-01-02',
      columns: cols,
      gzip: true,
      rows: [4, 3],
      files: [
        csv(cols, [
          [1, 'ok'],
          [2, '"two\nlines"'],
          ['x', 'bad one'],
          [4, 'ok'],
        ]),
        csv(cols, [
          [5, 'ok'],
          [6, 'ok'],
          [99999999999, 'out of range'],
        ]),
      ],
    });
  });

  // replace_partition swaps a fresh partition in: `freeze` COPYs on one connection (FREEZE, then
  // savepoints on bad rows), `parallel` COPYs both files at once into a committed fresh table
  // (bisecting on each file's connection); merge stages files on connections of their own.
  const variants: Record<string, Partial<LoadPartitionOptions>> = {
    freeze: { disposition: 'replace_partition', parallel: 1 },
    parallel: { disposition: 'replace_partition', parallel: 2 },
    merge: { disposition: 'merge', primaryKey: ['id'] },
  };
  describe.each(['freeze', 'parallel', 'merge'] as const)('%s', (mode) => {
    const disposition = variants[mode];
    it('rejects a bad row in the middle of 100k rows with its line, raw row and server error; the rest loads', async () => {
      const result = await loadPartition(db.pool, {
        store,
        source: 'people',
        table: `people_${mode}`,
        ...disposition,
        interval: day('2024-01-01'),
        runId: 'r1',
        columns: { id: 'integer' },
        maxRejects: 1,
      });
      expect(result).toMatchObject({
        table: `${db.schema}.people_${mode}`,
        rowsIn: 100_000,
        rowsLoaded: 99_999,
        rowsRejected: 1,
        rejectsTable: `${db.schema}.people_${mode}__rejects`,
      });
      expect(result.rowsIn).toBe(result.rowsLoaded + result.rowsRejected);
      expect(await tableState(`people_${mode}`)).toEqual({
        n: 99_999,
        sum: String(5_000_050_000 - 50_000),
        runs: 'r1',
      });
      const rejects = await db.pool.query(
        `SELECT run_id, partition, source_file, line, raw_row, error, sqlstate, rejected_at IS NOT NULL AS stamped FROM people_${mode}__rejects`,
      );
      expect(rejects.rows).toEqual([
        {
          run_id: 'r1',
          partition: 'dt=2024-01-01',
          source_file: 'people/dt=2024-01-01/part-00000-a1.csv',
          line: '50001',
          raw_row: 'not-a-number,broken row',
          error: 'invalid input syntax for type integer: "not-a-number"',
          sqlstate: '22P02',
          stamped: true,
        },
      ]);
      // Re-running the partition replaces its rejects instead of piling them up.
      await loadPartition(db.pool, {
        store,
        source: 'people',
        table: `people_${mode}`,
        ...disposition,
        interval: day('2024-01-01'),
        runId: 'r2',
        maxRejects: 1,
      });
      // (merge keeps every load's rejects: it replaces nothing.)
      expect(
        (await db.pool.query(`SELECT run_id FROM people_${mode}__rejects ORDER BY run_id`)).rows,
      ).toEqual(mode === 'merge' ? [{ run_id: 'r1' }, { run_id: 'r2' }] : [{ run_id: 'r2' }]);
      expect(await stagingTables()).toEqual([]);
    });

    it('exceeding maxRejects fails with TOO_MANY_REJECTS and publishes nothing', async () => {
      const before = await tableState(`people_${mode}`);
      const error = (await loadPartition(db.pool, {
        store,
        source: 'people',
        table: `people_${mode}`,
        ...disposition,
        interval: day('2024-01-02'),
        runId: 'r3',
        maxRejects: 1,
        parallel: 1,
        ...disposition,
      }).catch((e) => e)) as WarehouseError;
      expect(error).toBeInstanceOf(WarehouseError);
      expect(error).toMatchObject({ code: 'TOO_MANY_REJECTS', retryable: false });
      expect(await tableState(`people_${mode}`)).toEqual(before);
      expect(
        (await db.pool.query(`SELECT count(*)::int AS n FROM people_${mode}__rejects WHERE run_id = 'r3'`))
          .rows,
      ).toEqual([{ n: 0 }]);
      expect(await stagingTables()).toEqual([]);
    });

    it('gzip files: physical line numbers survive multi-line fields; rejects can go to a file beside the partition', async () => {
      const result = await loadPartition(db.pool, {
        store,
        source: 'people',
        table: `people_file_rejects_${mode}`,
        ...disposition,
        interval: day('2024-01-02'),
        runId: `run/4/${mode}`,
        columns: { id: 'integer' },
        maxRejects: 5,
        rejects: 'file',
      });
      expect(result).toMatchObject({
        rowsIn: 7,
        rowsLoaded: 5,
        rowsRejected: 2,
        rejectsFile: `people/dt=2024-01-02/_rejects/warehouse-run_4_${mode}.ndjson`,
      });
      expect(result.rejectsTable).toBeUndefined();
      let text = '';
      for await (const chunk of await store.get(result.rejectsFile as string)) text += chunk;
      const lines = text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines.map((l) => [l.source_file, l.line, l.raw_row, l.sqlstate])).toEqual([
        ['people/dt=2024-01-02/part-00000-a1.csv.gz', 5, 'x,bad one', '22P02'],
        ['people/dt=2024-01-02/part-00001-a1.csv.gz', 4, '99999999999,out of range', '22003'],
      ]);
      expect(
        (await db.pool.query(`SELECT id, name FROM people_file_rejects_${mode} ORDER BY id`)).rows.map(
          (r) => r.name,
        ),
      ).toEqual(['ok', 'two\nlines', 'ok', 'ok', 'ok']);
    });
  });
});

describe('connection loss, aborts and locks', () => {
  beforeAll(async () => {
    await writePartition(store, {
      source: 'slow',
      ds: '2024-02-01',
      columns: cols,
      files: [csv(cols, [[1, 'a']])],
    });
    await writePartition(store, {
      source: 'pair',
      ds: '2024-02-01',
      columns: cols,
      files: [
        csv(cols, [
          [1, 'a'],
          [2, 'b'],
        ]),
        csv(cols, [[3, 'c']]),
      ],
    });
  });

  // `parallel`: replace_partition of the 2-file `pair` partition, both files COPYed at once into
  // a committed fresh table, which every failure must drop again.
  const variants = {
    replace_partition: { source: 'slow', disposition: 'replace_partition', rows: 1 },
    parallel: { source: 'pair', disposition: 'replace_partition', parallel: 2, rows: 3 },
    append: { source: 'slow', disposition: 'append', rows: 1 },
  } as const;
  describe.each(['replace_partition', 'parallel', 'append'] as const)('%s', (mode) => {
    const { rows, ...variant } = variants[mode];
    it('a backend terminated mid-COPY fails retryably, leaves the table unchanged and the pool healthy', async () => {
      const base: LoadPartitionOptions = {
        store,
        ...variant,
        table: `slow_${mode}`,
        interval: day('2024-02-01'),
        runId: 'good',
      };
      await loadPartition(db.pool, base);
      const before = await tableState(`slow_${mode}`);
      let streaming!: () => void;
      const started = new Promise<void>((resolve) => {
        streaming = resolve;
      });
      const pending = loadPartition(db.pool, {
        ...base,
        runId: 'doomed',
        store: tricklingStore(store, streaming),
      }).catch((e: unknown) => e);
      await started;
      await sleep(100);
      const killed = await db.pool.query(
        `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
          WHERE pid <> pg_backend_pid() AND query LIKE 'COPY %slow_${mode}%'`,
      );
      // One COPY per file at once in the parallel variant: every one of them is killed.
      expect(killed.rows.length).toBeGreaterThanOrEqual(1);
      expect(killed.rows.every((r) => r.ok === true)).toBe(true);
      const error = (await pending) as WarehouseError;
      expect(error).toBeInstanceOf(WarehouseError);
      expect(error).toMatchObject({ code: 'CONNECTION_LOST', retryable: true });
      expect(await tableState(`slow_${mode}`)).toEqual(before);
      expect((await db.pool.query('SELECT 42 AS ok')).rows).toEqual([{ ok: 42 }]);
      expect(await stagingTables()).toEqual([]);
      // And the next load works on the same pool.
      expect((await loadPartition(db.pool, { ...base, runId: 'after' })).rowsLoaded).toBe(rows);
    });

    it('an aborted load fails ABORTED and publishes nothing', async () => {
      const controller = new AbortController();
      const pending = loadPartition(db.pool, {
        ...variant,
        store: tricklingStore(store, () => setTimeout(() => controller.abort(), 50)),
        table: `slow_${mode}`,
        interval: day('2024-02-01'),
        runId: 'aborted',
        signal: controller.signal,
      }).catch((e: unknown) => e);
      expect(await pending).toMatchObject({ code: 'ABORTED' });
      expect((await tableState(`slow_${mode}`)).runs).toBe(mode === 'append' ? 'after,good' : 'after');
      expect(await stagingTables()).toEqual([]);
    });
  });

  it('two concurrent loads of one partition serialize on the advisory lock', async () => {
    const events: string[] = [];
    const logger = (name: string) => ({
      debug: () => undefined,
      warn: () => undefined,
      error: () => undefined,
      info: (_obj: object, msg?: string) => {
        if (msg === 'partition lock acquired' || msg === 'partition published') events.push(`${name}:${msg}`);
      },
    });
    // Slow reads keep the first load inside its critical section for a while.
    const slowReads: ObjectStore = {
      ...store,
      get: async (key, options) => {
        if (!key.endsWith('_manifest.json')) await sleep(300);
        return store.get(key, options);
      },
    };
    const options = { store: slowReads, source: 'pair', interval: day('2024-02-01') };
    const first = loadPartition(db.pool, { ...options, runId: 'A', logger: logger('A') });
    await sleep(50);
    const second = loadPartition(db.pool, { ...options, runId: 'B', logger: logger('B') });
    const [a, b] = await Promise.all([first, second]);
    expect(events).toEqual([
      'A:partition lock acquired',
      'A:partition published',
      'B:partition lock acquired',
      'B:partition published',
    ]);
    expect(a.rowsLoaded).toBe(3);
    expect(b.rowsLoaded).toBe(3);
    expect(await tableState('raw_pair')).toEqual({ n: 3, sum: '6', runs: 'B' });
  });

  it('parallel loads of different sources into a new schema do not race on CREATE SCHEMA', async () => {
    const sources = ['race_a', 'race_b', 'race_c', 'race_d'];
    for (const source of sources) {
      await writePartition(store, {
        source,
        ds: '2024-03-01',
        columns: cols,
        files: [csv(cols, [['1', 'x']])],
      });
    }
    for (let round = 0; round < 3; round++) {
      const schema = `${db.schema}_fresh${round}`;
      try {
        const results = await Promise.all(
          sources.map((source) =>
            loadPartition(db.pool, {
              store,
              source,
              schema,
              interval: day('2024-03-01'),
              runId: `R${round}`,
            }),
          ),
        );
        expect(results.map((r) => r.rowsLoaded)).toEqual([1, 1, 1, 1]);
      } finally {
        await db.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      }
    }
  });

  it('waits at most lockTimeoutMs for a held partition lock, then fails LOCK_TIMEOUT', async () => {
    const holder = await db.pool.connect();
    try {
      const key = advisoryLockKey(`"${db.schema}"."raw_pair"`, 'dt=2024-02-01');
      await holder.query('SELECT pg_advisory_lock($1::bigint)', [key]);
      const t0 = performance.now();
      const error = await loadPartition(db.pool, {
        store,
        source: 'pair',
        interval: day('2024-02-01'),
        runId: 'C',
        lockTimeoutMs: 300,
      }).catch((e: unknown) => e);
      const waited = performance.now() - t0;
      expect(error).toMatchObject({ code: 'LOCK_TIMEOUT', retryable: true });
      expect(waited).toBeGreaterThanOrEqual(300);
      expect(waited).toBeLessThan(3000);
      await holder.query('SELECT pg_advisory_unlock($1::bigint)', [key]);
    } finally {
      holder.release();
    }
    expect((await tableState('raw_pair')).runs).toBe('B');
  });
});

describe('merge key errors name rows by file and record, never by value', () => {
  const kcols = ['id', 'name'];
  const merge = (table: string, ds: string, extra: Partial<LoadPartitionOptions> = {}) =>
    loadPartition(db.pool, {
      store,
      source: 'keys',
      table,
      interval: day(ds),
      runId: 'keys',
      disposition: 'merge',
      primaryKey: ['id'],
      columns: { id: 'integer' },
      ...extra,
    }).then(
      (): WarehouseError => {
        throw new Error('expected the merge to fail');
      },
      (e: unknown) => e as WarehouseError,
    );
  const seed = async (table: string) => {
    await db.pool.query(`CREATE TABLE ${table} (id integer, name text, _run_id text, _partition text,
      _source_file text, _loaded_at timestamptz)`);
    await db.pool.query(`INSERT INTO ${table} (id, name, _run_id) VALUES (1, 'old', 'before')`);
  };

  it('NULL keys in two files: names each file with record numbers and physical lines, publishes nothing', async () => {
    await writePartition(store, {
      source: 'keys',
      ds: '2024-04-01',
      columns: kcols,
      files: [
        // Record 1 spans lines 2-3, so record 2 starts on line 4, not 3.
        'id,name\n1,"multi\nline"\n,SECRET-VALUE-X\n3,ok\n,SECRET-VALUE-Y\n',
        // Record 2 is a bad row (isolated by bisection, which numbers records itself).
        csv(kcols, [
          [10, 'a'],
          ['oops', 'bad'],
          ['', 'SECRET-VALUE-Z'],
        ]),
      ],
      rows: [4, 3],
    });
    await seed('nk');
    const error = await merge('nk', '2024-04-01', { maxRejects: 1 });
    expect(error).toBeInstanceOf(WarehouseError);
    const p0 = 'keys/dt=2024-04-01/part-00000-a1.csv';
    const p1 = 'keys/dt=2024-04-01/part-00001-a1.csv';
    expect(error).toMatchObject({ code: 'NULL_KEY', table: 'nk', file: p0, line: 4 });
    expect(error.rows).toEqual([
      { file: p0, record: 2, line: 4 },
      { file: p0, record: 4, line: 6 },
      { file: p1, record: 3, line: 4 },
    ]);
    expect(error.message).toBe(
      `nk: 3 row(s) have a NULL in primary key ("id"): ${p0} records 2 (line 4), 4 (line 6); ${p1} record 3 (line 4)`,
    );
    expect(error.message).not.toMatch(/SECRET|oops|multi/);
    expect(await tableState('nk')).toEqual({ n: 1, sum: '1', runs: 'before' });
    const rejects = await db.pool.query(`SELECT to_regclass('nk__rejects') AS t`);
    expect(rejects.rows[0].t).toBeNull();
    expect(await stagingTables()).toEqual([]);
  });

  it('more NULL-key rows than named (gzip part): counts the rest', async () => {
    await writePartition(store, {
      source: 'keys',
      ds: '2024-04-02',
      columns: kcols,
      files: [
        csv(
          kcols,
          Array.from({ length: 8 }, (_, i) => ['', `v${i}`]),
        ),
      ],
      // Lines are looked up in the gunzipped file, which is read only up to record 5.
      gzip: true,
    });
    const error = await merge('nk2', '2024-04-02');
    expect(error).toMatchObject({ code: 'NULL_KEY' });
    expect(error.rows?.map((r) => r.record)).toEqual([1, 2, 3, 4, 5]);
    expect(error.message).toBe(
      'nk2: 8 row(s) have a NULL in primary key ("id"): keys/dt=2024-04-02/part-00000-a1.csv.gz ' +
        'records 1 (line 2), 2 (line 3), 3 (line 4), 4 (line 5), 5 (line 6) and 3 more',
    );
  });

  it('duplicate keys across files: names every record sharing a value, grouped by value, publishes nothing', async () => {
    await writePartition(store, {
      source: 'keys',
      ds: '2024-04-03',
      columns: kcols,
      files: [
        csv(kcols, [
          [1, 'a'],
          [2, 'DUP-SECRET'],
          [3, 'c'],
        ]),
        csv(kcols, [
          [5, 'x'],
          [2, 'y'],
          [1, 'z'],
          [1, 'w'],
        ]),
      ],
    });
    await seed('dk');
    const error = await merge('dk', '2024-04-03');
    const p0 = 'keys/dt=2024-04-03/part-00000-a1.csv';
    const p1 = 'keys/dt=2024-04-03/part-00001-a1.csv';
    expect(error).toMatchObject({ code: 'DUPLICATE_KEY', table: 'dk', file: p0, line: 2 });
    expect(error.rows).toEqual([
      { file: p0, record: 1, line: 2, group: 1 },
      { file: p1, record: 3, line: 4, group: 1 },
      { file: p1, record: 4, line: 5, group: 1 },
      { file: p0, record: 2, line: 3, group: 2 },
      { file: p1, record: 2, line: 3, group: 2 },
    ]);
    expect(error.message).toBe(
      `dk: 2 value(s) of primary key ("id") occur more than once in the partition (5 rows): ` +
        `${p0} record 1 (line 2) & ${p1} records 3 (line 4) & 4 (line 5); ${p0} record 2 (line 3) & ${p1} record 2 (line 3)`,
    );
    expect(error.message).not.toContain('DUP-SECRET');
    expect(await tableState('dk')).toEqual({ n: 1, sum: '1', runs: 'before' });
    expect(await stagingTables()).toEqual([]);
  });

  it('staging refuses manifest columns in the prefix its own columns use', async () => {
    await writePartition(store, {
      source: 'keys',
      ds: '2024-04-04',
      columns: ['id', '_dataflow_record'],
      files: [csv(['id', '_dataflow_record'], [[1, 2]])],
    });
    const error = await merge('rk', '2024-04-04');
    expect(error).toMatchObject({ code: 'BAD_MANIFEST', column: '_dataflow_record' });
    const created = await db.pool.query(`SELECT to_regclass('rk') AS t`);
    expect(created.rows[0].t).toBeNull();
  });
});
