import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { runRelationName } from '@dataflow/pg';
import { useTestDatabase } from '@dataflow/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, tempProject } from './helpers.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

const cliRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A real `dataflow` process (what Airflow runs), with its output collected. */
function spawnCli(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'src/bin.ts', ...args], {
    cwd: cliRoot,
    env: { ...process.env, DATAFLOW_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout?.on('data', (d: Buffer) => {
    out.stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out.stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, out, exited };
}

/** The run id from the process's JSON log lines. */
function runIdIn(stderr: string): string | undefined {
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    const id = (JSON.parse(line) as { run_id?: string }).run_id;
    if (id) return id;
  }
  return undefined;
}

describe('a hung or killed PostgreSQL session does not hang the CLI or leave runs running', () => {
  const db = useTestDatabase();
  // Each test's model sleeps under its own marker, so one test never sees another's backend.
  let marker = '';
  const markers: string[] = [];
  const newMarker = () => {
    marker = `slept_${randomBytes(4).toString('hex')}`;
    markers.push(marker);
  };
  const dirs: string[] = [];
  const proxies: TcpProxy[] = [];
  const children: ChildProcess[] = [];

  const project = async (url: string, extra = '') => {
    newMarker();
    const dir = await tempProject({
      'dataflow.yml': `name: hung
warehouse:
  url: ${url}
  schema: ${db.schema}
${extra}metadata:
  schema: ${db.schema}
`,
      'models/slow.sql': `{{ config(materialized='table') }}\nselect 1 as ${marker} from pg_sleep(600)\n`,
      'models/quick.sql': `{{ config(materialized='table') }}\nselect 1 as id\n`,
    });
    dirs.push(dir);
    return dir;
  };

  /** Waits until the model's pg_sleep runs on the server; returns its backend pids. */
  const sleepingBackends = async (): Promise<number[]> => {
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      const { rows } = await db.pool.query<{ pid: number }>(
        "select pid from pg_stat_activity where query like $1 and state = 'active' and pid <> pg_backend_pid()",
        [`%${marker} from pg_sleep(600)%`],
      );
      if (rows.length > 0) return rows.map((r) => r.pid);
      await sleep(100);
    }
    return [];
  };

  const runStatus = async (runId: string | undefined) =>
    (
      await db.pool.query<{ status: string; exit_code: number | null }>(
        `select status, exit_code from "${db.schema}".run_history where run_id = $1`,
        [runId],
      )
    ).rows[0];

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    for (const p of proxies) await p.close();
    for (const m of markers) {
      await db.pool.query(
        'select pg_terminate_backend(pid) from pg_stat_activity where query like $1 and pid <> pg_backend_pid()',
        [`%${m} from pg_sleep%`],
      );
    }
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('SIGTERM during a long statement cancels it on the server, records the run aborted and exits 143', async () => {
    const dir = await project(db.url);
    const run = spawnCli(['build', '--select', 'slow', '--project', dir]);
    children.push(run.child);
    expect(await sleepingBackends(), run.out.stderr).toHaveLength(1);
    run.child.kill('SIGTERM');
    const code = await run.exited;
    expect(code, run.out.stderr).toBe(143);
    const summary = JSON.parse(run.out.stdout.trimEnd().split('\n').at(-1) ?? '') as { run_id: string };
    expect(await runStatus(summary.run_id)).toEqual({ status: 'aborted', exit_code: 143 });
    // The statement is gone from the server, not left running for ten minutes.
    const { rows } = await db.pool.query(
      "select pid from pg_stat_activity where query like $1 and state = 'active' and pid <> pg_backend_pid()",
      [`%${marker} from pg_sleep(600)%`],
    );
    expect(rows).toEqual([]);
  });

  it('a frozen PostgreSQL: SIGTERM still exits within the grace period and says on stderr the database did not answer', async () => {
    const { hostname, port } = new URL(db.url);
    const proxy = await startTcpProxy({ host: hostname, port: Number(port) });
    proxies.push(proxy);
    const dir = await project(proxy.urlFor(db.url));
    const run = spawnCli(['build', '--select', 'slow', '--project', dir], { DATAFLOW_SHUTDOWN_GRACE: '3s' });
    children.push(run.child);
    expect(await sleepingBackends(), run.out.stderr).toHaveLength(1);
    proxy.freeze();
    run.child.kill('SIGTERM');
    const code = await run.exited;
    expect(code, run.out.stderr).toBe(143);
    expect(run.out.stderr).toContain('dataflow: SIGTERM: PostgreSQL did not answer within 3s; exiting 143');
    const runId = runIdIn(run.out.stderr);
    expect(runId).toBeDefined();
    expect(await runStatus(runId)).toMatchObject({ status: 'running' });

    // The network comes back without that process: its sessions end, and the run is seen dead.
    await proxy.close();
    const deadline = Date.now() + 60_000;
    let status = 'running';
    while (status === 'running' && Date.now() < deadline) {
      const runs = await cli(['runs', '--json', '--project', dir], {
        env: { DATAFLOW_DATABASE_URL: db.url },
      });
      expect(runs.code, runs.stderr).toBe(0);
      status =
        (JSON.parse(runs.stdout) as Array<{ run_id: string; status: string }>).find((r) => r.run_id === runId)
          ?.status ?? '';
      if (status === 'running') await sleep(200);
    }
    expect(status).toBe('abandoned');
  });

  it('a run killed with SIGKILL is marked abandoned by `dataflow runs`, and the next run sweeps what it left', async () => {
    const dir = await project(db.url);
    const run = spawnCli(['build', '--select', 'slow', '--project', dir]);
    children.push(run.child);
    expect(await sleepingBackends(), run.out.stderr).toHaveLength(1);
    const runId = runIdIn(run.out.stderr) ?? '';
    // What a killed load leaves behind, named by the convention of @dataflow/pg.
    const leftover = runRelationName('raw_orders', 'stg', runId, '0');
    await db.pool.query(`create unlogged table "${db.schema}"."${leftover}" (id int)`);
    run.child.kill('SIGKILL');
    await run.exited;

    const deadline = Date.now() + 60_000;
    let status = 'running';
    while (status === 'running' && Date.now() < deadline) {
      const runs = await cli(['runs', '--json', '--project', dir]);
      expect(runs.code, runs.stderr).toBe(0);
      status =
        (JSON.parse(runs.stdout) as Array<{ run_id: string; status: string }>).find((r) => r.run_id === runId)
          ?.status ?? '';
      if (status === 'running') await sleep(200);
    }
    expect(status).toBe('abandoned');

    const next = await cli(['build', '--select', 'quick', '--project', dir]);
    expect(next.code, next.stderr).toBe(0);
    const { rows } = await db.pool.query(
      'select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = $2',
      [db.schema, leftover],
    );
    expect(rows).toEqual([]);
  });

  it('a PostgreSQL that accepts connections but never answers fails after warehouse.connect_timeout instead of hanging', async () => {
    const { hostname, port } = new URL(db.url);
    const proxy = await startTcpProxy({ host: hostname, port: Number(port) });
    proxies.push(proxy);
    proxy.freeze();
    const dir = await project(proxy.urlFor(db.url), '  connect_timeout: 1s\n');
    const r = await cli(['build', '--select', 'quick', '--project', dir]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/timeout/i);
  });
});
