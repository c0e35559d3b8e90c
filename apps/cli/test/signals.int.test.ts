import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { listOpenUploads, useTestBucket, useTestDatabase } from '@dataflow/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, tempProject } from './helpers.js';
import { startHttpServer, type TestHttpServer } from './servers.js';

const cliRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const D = '2026-05-01';

describe('dataflow as a real process: SIGTERM mid-ingest', () => {
  const db = useTestDatabase();
  const s3 = useTestBucket();
  let slow: TestHttpServer;
  let dir: string;
  let served = 0;

  beforeAll(async () => {
    // Serves ~12 MB of CSV quickly (more than one 8 MiB multipart part), then stalls forever:
    // the ingest is mid-upload with a multipart upload open when the signal arrives.
    const row = `${'x'.repeat(90)},1\n`;
    slow = await startHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/csv' });
      res.write('payload,n\n');
      const chunk = row.repeat(1000);
      for (let i = 0; i < 130; i++) {
        res.write(chunk);
        served += chunk.length;
      }
    });
    dir = await tempProject({
      'dataflow.yml': `name: sig
warehouse:
  url: ${db.url}
  schema: ${db.schema}
metadata:
  schema: ${db.schema}
lake:
  url: s3://${s3.bucket}/${s3.prefix}lake
  endpoint: ${s3.s3.endpoint}
  access_key_id: ${s3.s3.accessKeyId}
  secret_access_key: ${s3.s3.secretAccessKey}
sources:
  slow:
    type: csv
    location: ${slow.url}/slow.csv
    gzip: false
`,
    });
  });

  afterAll(async () => {
    await slow?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('exits 143, marks the run aborted, aborts the multipart upload and prints the summary last', async () => {
    const child = spawn(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', 'src/bin.ts', 'run', '--date', D, '--project', dir],
      {
        cwd: cliRoot,
        env: { ...process.env, DATAFLOW_LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));

    const deadline = Date.now() + 90_000; // generous: the machine may be loaded
    let open: string[] = [];
    while (Date.now() < deadline) {
      open = await listOpenUploads(s3.client, s3.bucket, s3.prefix);
      if (open.length > 0) break;
      await sleep(100);
    }
    expect(open, `no multipart upload opened; stderr:\n${stderr}`).toHaveLength(1);
    expect(served).toBeGreaterThan(8 * 1024 * 1024);
    child.kill('SIGTERM');
    const code = await exited;

    expect(code, stderr).toBe(143);
    const lines = stdout.trimEnd().split('\n');
    const summary = JSON.parse(lines.at(-1) ?? '') as Record<string, unknown>;
    expect(summary).toMatchObject({ command: 'run', status: 'aborted', exit_code: 143, rows_in: 0 });
    expect(await listOpenUploads(s3.client, s3.bucket, s3.prefix)).toEqual([]);

    const run = await db.pool.query(
      `select status, exit_code, ended_at from "${db.schema}".run_history where run_id = $1`,
      [summary.run_id],
    );
    expect(run.rows[0]).toMatchObject({ status: 'aborted', exit_code: 143 });
    expect(run.rows[0]?.ended_at).not.toBeNull();
    const jobs = await db.pool.query(
      `select step, target, status from "${db.schema}".job_status where run_id = $1`,
      [summary.run_id],
    );
    expect(jobs.rows).toEqual([{ step: 'ingest', target: 'slow', status: 'aborted' }]);
    // Logs are JSON lines on stderr, each with the run id; nothing else on stdout. Process
    // warnings (the AWS SDK's Node version notice) are routed through the logger too.
    const logLines = stderr.split('\n').filter((l) => l.length > 0);
    expect(
      logLines.every((l) => l.startsWith('{')),
      stderr,
    ).toBe(true);
    expect(logLines.length).toBeGreaterThanOrEqual(3);
    expect(logLines.every((l) => (JSON.parse(l) as { run_id: string }).run_id === summary.run_id)).toBe(true);
    expect(lines).toHaveLength(1);
  });

  it('in-process: an abort with reason SIGINT exits 130 and leaves no open upload', async () => {
    const controller = new AbortController();
    const running = cli(['ingest', '--date', '2026-05-02', '--project', dir], { signal: controller.signal });
    const deadline = Date.now() + 90_000; // generous: the machine may be loaded
    while (Date.now() < deadline && (await listOpenUploads(s3.client, s3.bucket, s3.prefix)).length === 0) {
      await sleep(100);
    }
    controller.abort('SIGINT');
    const r = await running;
    expect(r.code, r.stderr).toBe(130);
    expect(r.summary).toMatchObject({ command: 'ingest', status: 'aborted', exit_code: 130 });
    expect(await listOpenUploads(s3.client, s3.bucket, s3.prefix)).toEqual([]);
    const run = await db.pool.query(`select status from "${db.schema}".run_history where run_id = $1`, [
      r.summary?.run_id,
    ]);
    expect(run.rows).toEqual([{ status: 'aborted' }]);
  });
});
