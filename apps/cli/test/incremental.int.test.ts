import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { testServices, useTestDatabase } from '@dataflow/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, cli, tempProject } from './helpers.js';
import { startHttpServer, type TestHttpServer } from './servers.js';

// Issue 16's acceptance, through the CLI, against a loopback API that changes between runs.

const cliRoot = fileURLToPath(new URL('..', import.meta.url));
const INITIAL = '2026-01-01T00:00:00Z';
const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);

interface Item {
  id: number;
  amount: number;
  updated_at: string;
  meta: { tier: string };
}

/** The API: `GET /items?updated_since=X[&updated_before=Y]`, records with X <= updated_at < Y, oldest first. */
function itemsApi(items: () => Item[]) {
  return startHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const since = url.searchParams.get('updated_since');
    const before = url.searchParams.get('updated_before');
    if (url.pathname !== '/items' || since === null) {
      res.writeHead(400).end('{"error":"updated_since required"}');
      return;
    }
    const data = items()
      .filter((r) => Date.parse(r.updated_at) >= Date.parse(since))
      .filter((r) => before === null || Date.parse(r.updated_at) < Date.parse(before))
      .sort((a, b) => Date.parse(a.updated_at) - Date.parse(b.updated_at));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data }));
  });
}

const sinceOf = (requestUrl: string) => new URL(requestUrl, 'http://x').searchParams.get('updated_since');

describe('incremental API sources through the CLI', () => {
  const db = useTestDatabase();
  let api: TestHttpServer;
  let dir: string;
  let env: Record<string, string>;
  let items: Item[];
  const meta = () => `${db.schema}_meta`;

  beforeAll(async () => {
    items = [
      { id: 1, amount: 10.5, updated_at: '2026-01-01T01:00:00Z', meta: { tier: 'a' } },
      { id: 2, amount: 20.5, updated_at: '2026-01-02T01:00:00Z', meta: { tier: 'b' } },
      { id: 3, amount: 30.5, updated_at: '2026-01-03T01:00:00Z', meta: { tier: 'c' } },
    ];
    api = await itemsApi(() => items);
    env = { DATABASE_URL: testServices().databaseUrl, API: api.url };
    dir = await tempProject({
      'dataflow.yml': `name: incr
warehouse:
  url: \${DATABASE_URL}
  schema: ${db.schema}
  lock_timeout: 2s
metadata:
  schema: ${meta()}
sources:
  items:
    type: api
    url: \${API}/items
    records: data
    incremental:
      cursor_path: updated_at
      param: updated_since
      end_param: updated_before
      initial_value: "${INITIAL}"
    primary_key: [id]
    disposition: merge
`,
    });
  });

  afterAll(async () => {
    await api?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const run = (argv: string[]) => cli([...argv, '--project', dir], { env });
  const ok = (r: CliResult) => expect(r.code, r.stderr).toBe(0);
  const rows = async () =>
    (
      await db.pool.query<{ id: number; amount: string; tier: string }>(
        `SELECT id, amount::text, meta->>'tier' AS tier FROM "${db.schema}".raw_items ORDER BY id`,
      )
    ).rows;
  const state = async () => JSON.parse((await run(['state', 'show', '--source', 'items'])).stdout);

  it('state set / show / reset are explicit operator moves', async () => {
    const set = await run(['state', 'set', '--source', 'items', '--value', '2026-01-01T00:30:00Z']);
    ok(set);
    expect(JSON.parse(set.stdout)).toMatchObject({
      source: 'items',
      cursor_path: 'updated_at',
      last_value: '2026-01-01T00:30:00Z',
      run_id: 'operator',
    });
    expect(await state()).toMatchObject({ last_value: '2026-01-01T00:30:00Z' });
    const reset = await run(['state', 'reset', '--source', 'items']);
    ok(reset);
    expect(JSON.parse(reset.stdout)).toEqual({ source: 'items', reset: true });
    expect(await state()).toEqual({ source: 'items', state: null });
    const usage = await run(['state', 'set', '--source', 'items']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--value');
    const unknown = await run(['state', 'show', '--source', 'nope']);
    expect(unknown.code).toBe(2);
  });

  describe('cursor runs', () => {
    it('run 1 reads everything from initial_value, typed, and remembers the last value', async () => {
      ok(await run(['ingest', '--date', yesterday]));
      const load = await run(['load', '--date', yesterday]);
      ok(load);
      expect(api.requests.map((r) => sinceOf(r.url))).toEqual([INITIAL]);
      expect(await rows()).toEqual([
        { id: 1, amount: '10.5', tier: 'a' },
        { id: 2, amount: '20.5', tier: 'b' },
        { id: 3, amount: '30.5', tier: 'c' },
      ]);
      expect(load.summary?.cursors).toEqual([
        expect.objectContaining({
          source: 'items',
          from: INITIAL,
          to: '2026-01-03T01:00:00Z',
          state: 'advanced',
        }),
      ]);
      expect(await state()).toMatchObject({ last_value: '2026-01-03T01:00:00Z', boundary_keys: 1 });
      // Run history records the range the load read.
      const jobs = await db.pool.query<{ partition: string }>(
        `SELECT partition FROM "${meta()}".job_status WHERE run_id = $1 AND step = 'load'`,
        [load.summary?.run_id],
      );
      expect(jobs.rows[0]?.partition).toMatch(
        /^w=\S+ updated_at 2026-01-01T00:00:00Z\.\.2026-01-03T01:00:00Z$/,
      );
    });

    it('run 2 (load in a fresh process) reads only what changed, including a late update, dropping the boundary duplicate', async () => {
      items = [
        ...items.filter((i) => i.id !== 2),
        { id: 2, amount: 21.5, updated_at: '2026-01-05T01:00:00Z', meta: { tier: 'b2' } },
        { id: 4, amount: 40.5, updated_at: '2026-01-04T01:00:00Z', meta: { tier: 'd' } },
      ];
      api.requests.length = 0;
      ok(await run(['ingest', '--date', yesterday]));
      expect(api.requests.map((r) => sinceOf(r.url))).toEqual(['2026-01-03T01:00:00Z']);
      const child = spawn(
        process.execPath,
        [
          '--conditions=source',
          '--import',
          'tsx',
          'src/bin.ts',
          'load',
          '--date',
          yesterday,
          '--project',
          dir,
        ],
        { cwd: cliRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(code, stderr).toBe(0);
      const summary = JSON.parse(stdout.trimEnd().split('\n').at(-1) ?? '{}');
      expect(summary).toMatchObject({ rows_loaded: 2 });
      expect(summary.cursors).toEqual([
        expect.objectContaining({
          from: '2026-01-03T01:00:00Z',
          to: '2026-01-05T01:00:00Z',
          duplicates_dropped: 1,
        }),
      ]);
      expect(await rows()).toEqual([
        { id: 1, amount: '10.5', tier: 'a' },
        { id: 2, amount: '21.5', tier: 'b2' },
        { id: 3, amount: '30.5', tier: 'c' },
        { id: 4, amount: '40.5', tier: 'd' },
      ]);
      expect(await state()).toMatchObject({ last_value: '2026-01-05T01:00:00Z' });
    });

    it('a failed load leaves the state where it was; the retry reads and loads the same records', async () => {
      items = [
        ...items.filter((i) => i.id !== 4),
        { id: 4, amount: 41.5, updated_at: '2026-01-06T01:00:00Z', meta: { tier: 'd2' } },
      ];
      api.requests.length = 0;
      ok(await run(['ingest', '--date', yesterday]));
      const blocker = await db.pool.connect();
      try {
        await blocker.query('BEGIN');
        await blocker.query(`LOCK TABLE "${db.schema}".raw_items IN ACCESS EXCLUSIVE MODE`);
        const failed = await run(['load', '--date', yesterday]);
        expect(failed.code).not.toBe(0);
        expect(failed.summary).toMatchObject({ status: 'failed' });
      } finally {
        await blocker.query('ROLLBACK');
        blocker.release();
      }
      expect(await state()).toMatchObject({ last_value: '2026-01-05T01:00:00Z' });
      expect((await rows()).find((r) => r.id === 4)).toEqual({ id: 4, amount: '40.5', tier: 'd' });
      // Airflow retries the whole run: the ingest reads from the same state again.
      ok(await run(['ingest', '--date', yesterday]));
      expect(api.requests.map((r) => sinceOf(r.url))).toEqual([
        '2026-01-05T01:00:00Z',
        '2026-01-05T01:00:00Z',
      ]);
      const retry = await run(['load', '--date', yesterday]);
      ok(retry);
      // Only the newer of the two windows read from that state is published.
      expect(retry.summary).toMatchObject({ rows_loaded: 1 });
      expect((await rows()).find((r) => r.id === 4)).toEqual({ id: 4, amount: '41.5', tier: 'd2' });
      expect(await state()).toMatchObject({ last_value: '2026-01-06T01:00:00Z' });
      // Nothing pending: the load is a skip (Airflow's 99).
      expect((await run(['load', '--date', yesterday])).code).toBe(99);
    });

    it('a backfill of an old day reads its interval and never moves the cursor', async () => {
      api.requests.length = 0;
      const result = await run(['run', '--date', '2026-01-02', '--source', 'items']);
      ok(result);
      const query = new URL(api.requests[0]?.url ?? '/', 'http://x').searchParams;
      expect(query.get('updated_since')).toBe('2026-01-02T00:00:00Z');
      expect(query.get('updated_before')).toBe('2026-01-03T00:00:00Z');
      expect(result.summary?.cursors).toEqual([expect.objectContaining({ state: 'backfill' })]);
      expect(await state()).toMatchObject({ last_value: '2026-01-06T01:00:00Z' });
    });

    it('run --full-refresh never resets the state', async () => {
      api.requests.length = 0;
      ok(await run(['run', '--date', yesterday, '--full-refresh']));
      expect(api.requests.map((r) => sinceOf(r.url))).toEqual(['2026-01-06T01:00:00Z']);
      expect(await state()).toMatchObject({ last_value: '2026-01-06T01:00:00Z' });
    });
  });
});
