import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { createFsStore, type ObjectStore } from '@dataflow/ingest';
import { parseRunRelationName, runToken, sweepDeadRunRelations } from '@dataflow/pg';
import { useTestDatabase } from '@dataflow/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPartition, type WarehouseError } from '../src/index.js';
import { csv, day, writePartition } from './lake-fixture.js';
import { withLoads } from './load-queries.js';

const run = promisify(execFile);
const db = useTestDatabase();
let dir: string;
let root: string;
let store: ObjectStore;
const cols = ['id', 'name'];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'warehouse-swap-'));
  root = join(dir, 'lake');
  store = createFsStore({ root });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function rows(from: number, n: number): Array<[number, string]> {
  return Array.from({ length: n }, (_, i) => [from + i, `n${from + i}`]);
}

/** Loads one day in a child process (one Airflow task), resolving with its JSON result. */
async function loadInChild(
  source: string,
  table: string,
  ds: string,
  runId: string,
  parallel: number,
): Promise<Record<string, unknown>> {
  const script = join(import.meta.dirname, 'fixtures', 'load-day.ts');
  const { stdout } = await run(
    process.execPath,
    [
      '--conditions=source',
      '--import',
      'tsx',
      script,
      db.connectionString(),
      root,
      source,
      table,
      ds,
      runId,
      String(parallel),
    ],
    { timeout: 120_000 },
  ).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '{}' }));
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
}

describe('partition swaps', () => {
  it('concurrent processes loading different days of one table all publish (5 rounds, FREEZE and parallel COPY)', async () => {
    const days = ['2024-05-01', '2024-05-02', '2024-05-03', '2024-05-04'];
    for (const [i, ds] of days.entries()) {
      await writePartition(store, {
        source: 'multi',
        ds,
        columns: cols,
        files: [csv(cols, rows(i * 100, 60)), csv(cols, rows(i * 100 + 60, 40))],
      });
    }
    for (let round = 1; round <= 5; round++) {
      // Odd rounds COPY each day's two files with FREEZE on one connection, even rounds at once.
      const results = await Promise.all(
        days.map((ds) => loadInChild('multi', 'multi_days', ds, `r${round}`, round % 2 === 1 ? 1 : 2)),
      );
      expect(results.map((r) => r.rowsLoaded ?? r.error)).toEqual([100, 100, 100, 100]);
      const { rows: state } = await db.pool.query(
        `SELECT _day, count(*)::int AS n, min(_run_id) AS run FROM ${withLoads('multi_days')} GROUP BY _day ORDER BY _day`,
      );
      expect(state).toEqual(days.map((d) => ({ _day: d, n: 100, run: `r${round}` })));
    }
    const { rows: parts } = await db.pool.query(
      'SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = $1::regclass',
      ['multi_days'],
    );
    expect(parts).toEqual([{ n: 4 }]);
  }, 600_000);

  it('readers never see a re-loaded day missing, and a reader holding the table only delays the swap', async () => {
    await writePartition(store, {
      source: 'seen',
      ds: '2024-06-01',
      columns: cols,
      files: [csv(cols, rows(1, 500))],
    });
    const options = { store, source: 'seen', table: 'seen', interval: day('2024-06-01'), runId: 'r0' };
    await loadPartition(db.pool, options);
    let stop = false;
    const counts: number[] = [];
    const reader = (async () => {
      while (!stop) {
        const { rows: r } = await db.pool.query(
          `SELECT count(*)::int AS n FROM seen WHERE _partition = '2024-06-01'`,
        );
        counts.push(r[0].n);
      }
    })();
    for (let i = 1; i <= 5; i++) await loadPartition(db.pool, { ...options, runId: `r${i}` });
    // A long reader holds ACCESS SHARE: the swap retries under its short lock_timeout, then wins.
    const holder = await db.pool.connect();
    const retries: string[] = [];
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT count(*) FROM seen');
      const pending = loadPartition(db.pool, {
        ...options,
        runId: 'after-reader',
        swapLockTimeoutMs: 50,
        logger: {
          debug: () => undefined,
          warn: () => undefined,
          error: () => undefined,
          info: (_o: object, msg?: string) => {
            if (msg?.startsWith('table busy')) retries.push(msg);
          },
        },
      });
      while (retries.length < 2) await new Promise((resolve) => setTimeout(resolve, 20));
      await holder.query('COMMIT');
      expect((await pending).rowsLoaded).toBe(500);
    } finally {
      holder.release();
    }
    stop = true;
    await reader;
    expect(counts.length).toBeGreaterThan(0);
    expect(counts.every((n) => n === 500)).toBe(true);
    expect((await db.pool.query(`SELECT DISTINCT _run_id FROM ${withLoads('seen')}`)).rows).toEqual([
      { _run_id: 'after-reader' },
    ]);
  }, 120_000);

  it('a swap that cannot get its lock within lockTimeoutMs fails LOCK_TIMEOUT and keeps the old day', async () => {
    await writePartition(store, {
      source: 'busy',
      ds: '2024-06-02',
      columns: cols,
      files: [csv(cols, rows(1, 3))],
    });
    const options = { store, source: 'busy', table: 'busy', interval: day('2024-06-02'), runId: 'old' };
    await loadPartition(db.pool, options);
    const holder = await db.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT count(*) FROM busy');
      const error = (await loadPartition(db.pool, {
        ...options,
        runId: 'new',
        swapLockTimeoutMs: 50,
        lockTimeoutMs: 400,
      }).catch((e) => e)) as WarehouseError;
      expect(error).toMatchObject({ code: 'LOCK_TIMEOUT', retryable: true });
      await holder.query('COMMIT');
    } finally {
      holder.release();
    }
    expect((await db.pool.query(`SELECT DISTINCT _run_id FROM ${withLoads('busy')}`)).rows).toEqual([
      { _run_id: 'old' },
    ]);
    // The fresh table of the failed attempt was rolled back with it.
    const { rows: tables } = await db.pool.query(
      `SELECT count(*)::int AS n FROM pg_class WHERE relname LIKE 'busy\\_p%' AND relnamespace = $1::regnamespace`,
      [db.schema],
    );
    expect(tables).toEqual([{ n: 1 }]);
  });
});

describe('parallel COPY swaps', () => {
  /** This schema's relations named like a run's helpers (`<table>__df_<kind>_<token>…`). */
  async function helperTables(): Promise<string[]> {
    const { rows } = await db.pool.query<{ relname: string }>(
      `SELECT relname FROM pg_class WHERE relnamespace = $1::regnamespace AND relname LIKE '%\\_\\_df\\_%' ORDER BY 1`,
      [db.schema],
    );
    return rows.map((r) => r.relname);
  }

  it('a parallel swap that cannot get its lock fails LOCK_TIMEOUT, keeps the old day and drops its committed fresh table', async () => {
    await writePartition(store, {
      source: 'busy2',
      ds: '2024-06-03',
      columns: cols,
      files: [csv(cols, rows(1, 3)), csv(cols, rows(4, 2))],
    });
    const options = { store, source: 'busy2', table: 'busy2', interval: day('2024-06-03'), parallel: 2 };
    expect((await loadPartition(db.pool, { ...options, runId: 'old' })).rowsLoaded).toBe(5);
    const holder = await db.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT count(*) FROM busy2');
      const error = (await loadPartition(db.pool, {
        ...options,
        runId: 'new',
        swapLockTimeoutMs: 50,
        lockTimeoutMs: 400,
      }).catch((e) => e)) as WarehouseError;
      expect(error).toMatchObject({ code: 'LOCK_TIMEOUT', retryable: true });
      await holder.query('COMMIT');
    } finally {
      holder.release();
    }
    expect(
      (await db.pool.query(`SELECT _run_id, count(*)::int AS n FROM ${withLoads('busy2')} GROUP BY 1`)).rows,
    ).toEqual([{ _run_id: 'old', n: 5 }]);
    expect(await helperTables()).toEqual([]);
  });

  it('a load killed mid-COPY leaves only run-named tables, which the sweep of dead runs drops', async () => {
    await writePartition(store, {
      source: 'killed',
      ds: '2024-06-04',
      columns: cols,
      files: [csv(cols, rows(1, 3)), csv(cols, rows(4, 2))],
    });
    const options = { store, source: 'killed', table: 'killed', interval: day('2024-06-04'), parallel: 2 };
    await loadPartition(db.pool, { ...options, runId: 'before' });
    const script = join(import.meta.dirname, 'fixtures', 'load-killed.ts');
    const child = spawn(
      process.execPath,
      [
        '--conditions=source',
        '--import',
        'tsx',
        script,
        db.connectionString(),
        root,
        'killed',
        'killed',
        '2024-06-04',
        'doomed',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      let out = '';
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('copying')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`child exited (${code}) before copying: ${out}`)));
      });
      // Both files are streaming into the committed fresh table when the process dies.
      for (let i = 0; i < 600; i++) {
        const { rows: copies } = await db.pool.query(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'COPY %killed\\_\\_df\\_%'",
        );
        if (copies[0].n === 2) break;
        await sleep(100);
      }
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    const left = await helperTables();
    const token = runToken('doomed');
    expect(left).toEqual([
      expect.stringMatching(new RegExp(`^killed__df_stg_${token}_[0-9a-f]{6}_new$`)),
      expect.stringMatching(new RegExp(`^killed__df_stg_${token}_[0-9a-f]{6}_rej$`)),
    ]);
    expect(left.map((name) => parseRunRelationName(name)?.token)).toEqual([token, token]);
    // Readers never saw the killed load: the table holds the earlier load.
    expect(
      (await db.pool.query(`SELECT _run_id, count(*)::int AS n FROM ${withLoads('killed')} GROUP BY 1`)).rows,
    ).toEqual([{ _run_id: 'before', n: 5 }]);
    // The next run's sweep drops them once the run log says the run is dead.
    const swept = await sweepDeadRunRelations(db.pool, { isDead: (t) => t === token, schemas: [db.schema] });
    expect(swept.failed).toEqual([]);
    expect(await helperTables()).toEqual([]);
    expect((await loadPartition(db.pool, { ...options, runId: 'after' })).rowsLoaded).toBe(5);
  }, 120_000);
});

describe('replaced partitions are dropped after the commit', () => {
  async function retiredTables(): Promise<Array<{ relname: string; relispartition: boolean }>> {
    const { rows } = await db.pool.query(
      `SELECT relname, relispartition FROM pg_class WHERE relnamespace = $1::regnamespace AND relname LIKE '%\\_\\_df\\_old\\_%' ORDER BY 1`,
      [db.schema],
    );
    return rows;
  }

  it('a re-load detaches the old day and drops it after COMMIT: one partition, no retired table, the SQL log in that order', async () => {
    await writePartition(store, {
      source: 'order',
      ds: '2024-06-07',
      columns: cols,
      files: [csv(cols, rows(1, 4))],
    });
    const options = { store, source: 'order', table: 'order_days', interval: day('2024-06-07'), parallel: 1 };
    const first = await loadPartition(db.pool, { ...options, runId: 'one' });
    // A pool whose clients record every statement they send, in order.
    const statements: string[] = [];
    class RecordingClient extends pg.Client {
      override query(...args: unknown[]): never {
        if (typeof args[0] === 'string') statements.push(args[0]);
        return (super.query as (...a: unknown[]) => never)(...args);
      }
    }
    const recording = new pg.Pool({
      connectionString: db.connectionString(),
      Client: RecordingClient,
      max: 3,
    });
    try {
      await loadPartition(recording, { ...options, runId: 'two' });
    } finally {
      await recording.end();
    }
    const oldName = `order_days_p20240607_${first.loadId}`;
    const kinds = statements
      .map((s) => s.replaceAll('"', '').replaceAll(`${db.schema}.`, ''))
      .map(
        (s) =>
          /^(ALTER TABLE \S+ (DETACH|ATTACH|RENAME)|DROP TABLE IF EXISTS \S+__df_old|commit)/.exec(s)?.[0],
      )
      .filter((s): s is string => s !== undefined)
      .map((s) => s.replace(/ \S+__df_old$/, ' retired'));
    expect(kinds.slice(-6)).toEqual([
      `ALTER TABLE order_days DETACH`,
      `ALTER TABLE ${oldName} RENAME`,
      `ALTER TABLE order_days ATTACH`,
      'commit',
      'DROP TABLE IF EXISTS retired',
      'commit',
    ]);
    expect(await retiredTables()).toEqual([]);
    const { rows: parts } = await db.pool.query(
      'SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = $1::regclass',
      ['order_days'],
    );
    expect(parts).toEqual([{ n: 1 }]);
  });

  it.each([1, 2])(
    'a load killed right after its swap committed (parallel %i) leaves the old day as a retired table, which the next load drops',
    async (parallel) => {
      const source = `retire${parallel}`;
      const table = `retire${parallel}_days`;
      await writePartition(store, {
        source,
        ds: '2024-06-05',
        columns: cols,
        files: [csv(cols, rows(1, 3)), csv(cols, rows(4, 2))],
      });
      await writePartition(store, {
        source,
        ds: '2024-06-06',
        columns: cols,
        files: [csv(cols, rows(10, 2))],
      });
      const options = { store, source, table, interval: day('2024-06-05'), parallel };
      const before = await loadPartition(db.pool, { ...options, runId: 'before' });
      const script = join(import.meta.dirname, 'fixtures', 'load-killed-after-commit.ts');
      const child = spawn(
        process.execPath,
        [
          '--conditions=source',
          '--import',
          'tsx',
          script,
          db.connectionString(),
          root,
          source,
          table,
          '2024-06-05',
          'killed-after-commit',
          String(parallel),
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
      });
      const signal = await new Promise<NodeJS.Signals | null>((resolve) =>
        child.once('exit', (_code, sig) => resolve(sig)),
      );
      expect({ signal, out }).toEqual({ signal: 'SIGKILL', out: '' });
      // The swap committed: readers see the killed load's day, and the old day is a plain table.
      expect(
        (await db.pool.query(`SELECT _run_id, count(*)::int AS n FROM ${withLoads(table)} GROUP BY 1`)).rows,
      ).toEqual([{ _run_id: 'killed-after-commit', n: 5 }]);
      const token = runToken('killed-after-commit');
      expect(await retiredTables()).toEqual([
        {
          relname: expect.stringMatching(new RegExp(`^${table}__df_old_${token}_\\d+_0$`)),
          relispartition: false,
        },
      ]);
      const [{ n: leftRows }] = (
        await db.pool.query(`SELECT count(*)::int AS n FROM ${(await retiredTables())[0]?.relname}`)
      ).rows;
      expect(leftRows).toBe(5);
      expect(before.loadId).toBeDefined();
      // The next load into the schema (another day of the table) drops it; nothing else changes.
      const next = await loadPartition(db.pool, { ...options, interval: day('2024-06-06'), runId: 'next' });
      expect(next.rowsLoaded).toBe(2);
      expect(await retiredTables()).toEqual([]);
      expect(
        (
          await db.pool.query(
            `SELECT _day, _run_id, count(*)::int AS n FROM ${withLoads(table)} GROUP BY 1, 2 ORDER BY 1`,
          )
        ).rows,
      ).toEqual([
        { _day: '2024-06-05', _run_id: 'killed-after-commit', n: 5 },
        { _day: '2024-06-06', _run_id: 'next', n: 2 },
      ]);
    },
    120_000,
  );
});

describe('hardening (issue 14)', () => {
  it('two sources mapped to one table: the second replacing source is refused, naming both', async () => {
    await writePartition(store, {
      source: 'src_a',
      ds: '2024-07-01',
      columns: cols,
      files: [csv(cols, rows(1, 2))],
    });
    await writePartition(store, {
      source: 'src_b',
      ds: '2024-07-01',
      columns: cols,
      files: [csv(cols, rows(10, 1))],
    });
    await loadPartition(db.pool, {
      store,
      source: 'src_a',
      table: 'shared',
      interval: day('2024-07-01'),
      runId: 'a',
    });
    const error = (await loadPartition(db.pool, {
      store,
      source: 'src_b',
      table: 'shared',
      interval: day('2024-07-01'),
      runId: 'b',
    }).catch((e) => e)) as WarehouseError;
    expect(error).toMatchObject({ code: 'INVALID_OPTIONS', table: 'shared' });
    expect(error.message).toContain('already loaded by source "src_a"');
    expect(error.message).toContain('source "src_b"');
    expect((await db.pool.query('SELECT id FROM shared ORDER BY id')).rows).toEqual([
      { id: '1' },
      { id: '2' },
    ]);
  });

  it('a NUL byte in a field is rejected with its line and reason; the rest loads', async () => {
    await writePartition(store, {
      source: 'nul',
      ds: '2024-07-02',
      columns: cols,
      files: [`id,name\n1,ok\n2,bad\u0000byte\n3,ok\n`],
    });
    const result = await loadPartition(db.pool, {
      store,
      source: 'nul',
      interval: day('2024-07-02'),
      runId: 'r',
      maxRejects: 1,
      columns: { id: 'integer', name: 'text' },
    });
    expect(result).toMatchObject({ rowsIn: 3, rowsLoaded: 2, rowsRejected: 1 });
    const { rows: rejects } = await db.pool.query(
      'SELECT line, raw_row, sqlstate, error FROM raw_nul__rejects',
    );
    expect(rejects).toEqual([
      { line: '3', raw_row: '2,bad\\x00byte', sqlstate: '22021', error: expect.stringContaining('0x00') },
    ]);
  });

  it('maps the documented column type double to double precision', async () => {
    await writePartition(store, {
      source: 'dbl',
      ds: '2024-07-03',
      columns: ['x'],
      files: [csv(['x'], [[1.5]])],
    });
    await loadPartition(db.pool, {
      store,
      source: 'dbl',
      interval: day('2024-07-03'),
      runId: 'r',
      columns: { x: 'double' },
    });
    const { rows: types } = await db.pool.query(
      `SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = 'raw_dbl'::regclass AND attname = 'x'`,
    );
    expect(types).toEqual([{ t: 'double precision' }]);
  });

  it('a manifest file missing from the lake fails BAD_MANIFEST before anything is created', async () => {
    const manifest = await writePartition(store, {
      source: 'gone',
      ds: '2024-07-04',
      columns: cols,
      files: [csv(cols, rows(1, 1)), csv(cols, rows(2, 1))],
    });
    await store.delete([manifest.files[1]?.key as string]);
    const error = (await loadPartition(db.pool, {
      store,
      source: 'gone',
      interval: day('2024-07-04'),
      runId: 'r',
    }).catch((e) => e)) as WarehouseError;
    expect(error).toMatchObject({ code: 'BAD_MANIFEST', file: manifest.files[1]?.key });
    expect((await db.pool.query("SELECT to_regclass('raw_gone') AS t")).rows).toEqual([{ t: null }]);
  });

  it('a part file changed after commit fails BAD_FILE on its checksum while streaming; nothing is published', async () => {
    const manifest = await writePartition(store, {
      source: 'changed',
      ds: '2024-07-05',
      columns: cols,
      files: [csv(cols, rows(1, 3))],
    });
    await loadPartition(db.pool, { store, source: 'changed', interval: day('2024-07-05'), runId: 'good' });
    // Same size and rows, other bytes: only the sha256 can tell.
    const key = manifest.files[0]?.key as string;
    await writeFile(
      join(root, key),
      csv(cols, [
        [1, 'n9'],
        [2, 'n2'],
        [3, 'n3'],
      ]),
    );
    const error = (await loadPartition(db.pool, {
      store,
      source: 'changed',
      interval: day('2024-07-05'),
      runId: 'bad',
    }).catch((e) => e)) as WarehouseError;
    expect(error).toMatchObject({ code: 'BAD_FILE', file: key });
    expect(error.message).toContain('sha256');
    expect((await db.pool.query(`SELECT DISTINCT _run_id FROM ${withLoads('raw_changed')}`)).rows).toEqual([
      { _run_id: 'good' },
    ]);
  });
});
