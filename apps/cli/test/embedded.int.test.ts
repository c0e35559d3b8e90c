import { chmod, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, tempProject } from './helpers.js';

describe('dataflow init + run on the embedded defaults (no services, no env)', () => {
  let parent: string | undefined;
  afterAll(async () => {
    if (parent) await rm(parent, { recursive: true, force: true });
  });

  it('init DIR, run --date 2026-05-01, then runs --json shows a success with row counts', async () => {
    parent = await tempProject({});
    // mkdtemp makes 0700 dirs; as root the postgres OS user must traverse the project path
    // (otherwise the CLI falls back to a temp state dir, covered by the unit tests).
    await chmod(parent, 0o755);
    const dir = join(parent, 'shop');
    const init = await cli(['init', dir]);
    expect(init.code).toBe(0);

    // Leftovers of a killed invocation (dead pid): a stale lock is broken, a stale lease pruned.
    await mkdir(join(dir, '.dataflow/postgres.leases'), { recursive: true });
    await writeFile(join(dir, '.dataflow/postgres.lock'), '999999999');
    await writeFile(join(dir, '.dataflow/postgres.leases/999999999-dead'), '');

    const run = await cli(['run', '--date', '2026-05-01'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.summary).toMatchObject({
      status: 'success',
      rows_in: 5,
      rows_loaded: 5,
      models: 2,
      tests: { pass: 6, fail: 0, error: 0 },
    });
    // State lives in the project: the cluster, the lake partition; the server is stopped again.
    const lake = await readdir(join(dir, '.dataflow/lake/raw/orders/dt=2026-05-01'));
    expect(lake).toEqual(expect.arrayContaining(['_manifest.json', '_SUCCESS']));
    expect(await readFile(join(dir, '.dataflow/postgres/PG_VERSION'), 'utf8')).toBe('17\n');
    await expect(readFile(join(dir, '.dataflow/postgres/postmaster.pid'))).rejects.toMatchObject({
      code: 'ENOENT',
    });

    // Two invocations at once (Airflow runs tasks in parallel): one server, started once, stopped
    // by the last one out.
    const [ingest, load] = await Promise.all([
      cli(['ingest', '--date', '2026-05-02'], { cwd: dir }),
      cli(['load', '--date', '2026-05-01'], { cwd: dir }),
    ]);
    expect([ingest.code, load.code], ingest.stderr + load.stderr).toEqual([0, 0]);
    expect(ingest.summary).toMatchObject({ rows_in: 3 });
    expect(load.summary).toMatchObject({ rows_loaded: 5 });
    await expect(readFile(join(dir, '.dataflow/postgres/postmaster.pid'))).rejects.toMatchObject({
      code: 'ENOENT',
    });
    expect(await readdir(join(dir, '.dataflow/postgres.leases'))).toEqual([]);

    // `runs` starts the (stopped) cluster again and reads the run log.
    const runs = await cli(['runs', '--json'], { cwd: dir });
    expect(runs.code, runs.stderr).toBe(0);
    const list = JSON.parse(runs.stdout) as Array<Record<string, unknown>>;
    expect(list.map((r) => r.command).sort()).toEqual(['ingest', 'load', 'run']);
    expect(list.find((r) => r.command === 'run')).toMatchObject({
      run_id: run.summary?.run_id,
      command: 'run',
      status: 'success',
      exit_code: 0,
      rows_in: 5,
      rows_loaded: 5,
      rows_rejected: 0,
      interval: { start: '2026-05-01', end: '2026-05-02' },
    });
  });
});
