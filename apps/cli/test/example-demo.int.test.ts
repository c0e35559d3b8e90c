import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// The quick start (`npm run example`) on a temp copy of the project: embedded PostgreSQL, local
// lake, loopback rates API, no services and no DATAFLOW_* env. Needs the built CLI.
const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = join(root, 'apps/cli/dist/bin.js');

function demo(project: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(root, 'examples/shop/scripts/demo.ts'), '--project', project],
      { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('the quick-start demo', () => {
  let project: string | undefined;
  afterAll(async () => {
    if (project) await rm(project, { recursive: true, force: true });
  });

  it('runs the example end to end on the embedded defaults and says what it did', async () => {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`npm run build\` first`);
    project = await mkdtemp(join(tmpdir(), 'shop-demo-'));
    await cp(join(root, 'examples/shop'), project, {
      recursive: true,
      filter: (src) => !/[/\\](\.dataflow|target)$/.test(src),
    });
    const { code, stdout, stderr } = await demo(project);
    expect(code, stderr.slice(-3000)).toBe(0);
    const lines = stdout.split('\n');
    // demo.ts prints the lake relative to its cwd (the repo root).
    const lake = relative(root, join(project, '.dataflow/lake/raw'));
    expect(lines).toContain(`  files landed   4 data files in 4 partitions under ${lake}`);
    expect(lines).toContain('  rows loaded    257 of 257 into raw_* (0 rejected)');
    expect(lines).toContain('  models built   8'); // 7 models and the customers snapshot
    expect(lines).toContain('  tests passed   36 passed, 0 warned, 0 failed, 0 errored, 0 skipped');
    expect(stdout).toMatch(/^What it did \(run \S+, success, \d+\.\ds\):$/m);
    expect(stderr).toContain('  load orders 2026-05-01 done (100 rows)');
    expect(stderr).toMatch(/^ {2}\S+ +run +success +0 +2026-05-01 /m); // the `dataflow runs` table
    // Embedded state stays inside the project copy.
    expect((await readdir(join(project, '.dataflow'))).sort()).toEqual(expect.arrayContaining(['lake']));
  });
});
