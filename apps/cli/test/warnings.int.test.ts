import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useTestBucket, useTestDatabase } from '@dataflow/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempProject } from './helpers.js';

const cliRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Runs the CLI as a real process (its own process warnings, its own stderr). */
function runProcess(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'src/bin.ts', ...args], {
    cwd: cliRoot,
    env: { ...process.env, DATAFLOW_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('dataflow as a real process: the JSON log stream', () => {
  const db = useTestDatabase();
  const s3 = useTestBucket();
  let dir: string;

  beforeAll(async () => {
    dir = await tempProject({
      'dataflow.yml': `name: warn
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
  orders:
    type: csv
    location: data/orders.csv
`,
      'data/orders.csv': 'order_id,amount\n1,2.50\n2,3.00\n',
    });
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("third-party process warnings (the AWS SDK's Node version notice) arrive as JSON log lines", async () => {
    const r = await runProcess(['ingest', '--date', '2026-05-01', '--project', dir]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => l.length > 0);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    expect(r.stderr).not.toContain('(node:');
    // The SDK warns on Node < 22 only, once per process, when the S3 client is created.
    const major = Number(process.versions.node.split('.')[0]);
    const warnings = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.warning);
    if (major < 22) {
      expect(warnings).toEqual([
        expect.objectContaining({ level: 'warn', warning: 'NodeVersionSupportWarning' }),
      ]);
    }
    const summary = JSON.parse(r.stdout.trimEnd().split('\n').at(-1) ?? '') as Record<string, unknown>;
    expect(summary).toMatchObject({ command: 'ingest', status: 'success', exit_code: 0, rows_in: 2 });
  });
});
