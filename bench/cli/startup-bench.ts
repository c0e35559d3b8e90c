/**
 * CLI start-up benchmark (not a test): whole processes, Node start-up included, built CLI.
 *
 *   npx tsc -b && node --conditions=source --import tsx bench/cli/startup-bench.ts \
 *     [--rounds 15] [--project examples/shop] [--compare /other/checkout/apps/cli/dist/bin.js]
 *
 * Runs, round after round in the same order (so a busy moment hits all of them alike),
 * `node -e 0`, `dataflow --version`, `dataflow compile --project <shop example>` and
 * `dataflow load` of a 1-row partition (the load path: config, logger, run log, warehouse,
 * lake) through the committed launcher `apps/cli/bin/dataflow.js` (which imports dist/). With
 * `--compare`, `--version` and the load also run through another build's `dist/bin.js` (e.g. the
 * main branch's), paired in the same rounds. Prints per case the median wall time, the paired
 * median ratio against `node -e 0` (the median of the per-round ratios) and the median CPU time;
 * for the load also the time and CPU from process start to its first connection to PostgreSQL
 * (a preloaded probe wraps `net.Socket#connect`): that is the start-up the load pays before any
 * work. Then lists which heavy libraries each command loads. Prints the load average at the
 * start and the end: the machine may be shared.
 *
 * The load needs PostgreSQL: DATAFLOW_TEST_DATABASE_URL when set, else embedded PostgreSQL
 * (`@dataflow/testkit`, hence `--conditions=source`).
 */

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from '../stats.js';

const root = resolve(new URL('../..', import.meta.url).pathname);
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '15' },
    project: { type: 'string', default: join(root, 'examples/shop') },
    compare: { type: 'string' },
  },
});
const rounds = Number(values.rounds);
const bin = join(root, 'apps/cli/bin/dataflow.js');
if (!existsSync(join(root, 'apps/cli/dist/bin.js'))) {
  console.error('apps/cli/dist is missing: run `npx tsc -b` first');
  process.exit(2);
}
if (values.compare !== undefined && !existsSync(values.compare)) {
  console.error(`--compare ${values.compare}: no such file`);
  process.exit(2);
}
// compile writes target/, load a lake: keep them out of the example.
const work = mkdtempSync(join(tmpdir(), 'dataflow-startup-'));
const probe = join(work, 'probe.cjs');
const report = join(work, 'probe.txt');
writeFileSync(
  probe,
  `// Preloaded with -r: at exit, "<cpu ms> <first connect ms> <cpu ms at first connect>" to PROBE_REPORT.
const { appendFileSync } = require('node:fs');
const net = require('node:net');
let first = 'NaN NaN';
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  if (first === 'NaN NaN') {
    const u = process.cpuUsage();
    first = performance.now() + ' ' + (u.user + u.system) / 1000;
  }
  return connect.apply(this, args);
};
process.on('exit', () => {
  const u = process.cpuUsage();
  appendFileSync(process.env.PROBE_REPORT, (u.user + u.system) / 1000 + ' ' + first + '\\n');
});
`,
);

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

interface Sample {
  wall: number;
  cpu: number;
  connectAt: number;
  connectCpu: number;
}

function timeOnce(args: string[], env: NodeJS.ProcessEnv, cwd: string): Sample {
  writeFileSync(report, '');
  const started = performance.now();
  const r = spawnSync(process.execPath, ['-r', probe, ...args], {
    encoding: 'utf8',
    env: { ...env, PROBE_REPORT: report },
    cwd,
  });
  const wall = performance.now() - started;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const [cpu, connectAt, connectCpu] = readFileSync(report, 'utf8').trim().split(' ').map(Number);
  return {
    wall,
    cpu: cpu ?? Number.NaN,
    connectAt: connectAt ?? Number.NaN,
    connectCpu: connectCpu ?? Number.NaN,
  };
}

const LIBRARIES = [
  'zod',
  'yaml',
  'pg',
  'pino',
  'pino-pretty',
  '@aws-sdk/client-s3',
  '@aws-sdk/lib-storage',
  'undici',
  'nunjucks',
  'js-yaml',
  'csv-parse',
];

/**
 * Heavy libraries a command loads: a module resolve hook (`module.register`, Node >= 20.6)
 * appends every resolved URL to a file, and at exit every CommonJS module in require's cache
 * (pg, pino, pino-pretty are CommonJS, which the hook does not see).
 */
function loadedLibraries(args: string[], env: NodeJS.ProcessEnv, cwd: string): string[] {
  const log = join(work, 'resolved.txt');
  const hooks = join(work, 'hooks.mjs');
  const register = join(work, 'register.mjs');
  writeFileSync(log, '');
  writeFileSync(
    hooks,
    `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, resolved.url + '\\n');
  return resolved;
}
`,
  );
  writeFileSync(
    register,
    `import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
register(${JSON.stringify(pathToFileURL(hooks).href)});
const cache = createRequire(import.meta.url).cache;
process.on('exit', () => appendFileSync(${JSON.stringify(log)}, Object.keys(cache).join('\\n') + '\\n'));
`,
  );
  spawnSync(process.execPath, ['--import', register, ...args], { cwd, env });
  const urls = readFileSync(log, 'utf8');
  return LIBRARIES.filter((l) => urls.includes(`/node_modules/${l}/`));
}

/** A project with one CSV source and its 1-row partition committed in a local lake. */
function tinyProject(databaseUrl: string): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = join(work, 'tiny');
  mkdirSync(join(dir, 'data'), { recursive: true });
  writeFileSync(join(dir, 'data', '2024-01-01.csv'), 'id,name\n1,a\n');
  writeFileSync(
    join(dir, 'dataflow.yml'),
    [
      'name: startup',
      'warehouse:\n  schema: startup_bench',
      'metadata:\n  schema: startup_bench_meta',
      `lake:\n  url: file://${join(dir, 'lake')}`,
      'sources:\n  tiny:\n    type: csv\n    location: data/{{ ds }}.csv',
      '',
    ].join('\n'),
  );
  const env = {
    ...process.env,
    DATAFLOW_DATABASE_URL: databaseUrl,
    DATAFLOW_LOG_LEVEL: 'warn',
    NO_COLOR: '1',
  };
  const ingest = spawnSync(process.execPath, [bin, 'ingest', '--date', '2024-01-01'], { cwd: dir, env });
  if (ingest.status !== 0) throw new Error(`dataflow ingest exited ${ingest.status}: ${ingest.stderr}`);
  return { dir, env };
}

interface Case {
  name: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  firstConnect?: boolean;
}

async function main(): Promise<void> {
  const ownPg = process.env.DATAFLOW_TEST_DATABASE_URL
    ? undefined
    : await (await import('@dataflow/testkit')).startPostgresServer();
  try {
    const databaseUrl = process.env.DATAFLOW_TEST_DATABASE_URL ?? (ownPg?.url as string);
    const quiet = { ...process.env, DATAFLOW_LOG_LEVEL: 'warn' };
    const tiny = tinyProject(databaseUrl);
    const loadArgs = ['load', '--date', '2024-01-01'];
    const cases: Case[] = [
      { name: 'node -e 0', args: ['-e', '0'], env: quiet, cwd: work },
      { name: 'dataflow --version', args: [bin, '--version'], env: quiet, cwd: work },
      {
        name: 'dataflow compile (shop)',
        args: [bin, 'compile', '--project', values.project ?? ''],
        env: quiet,
        cwd: work,
      },
      { name: 'dataflow load (1 row)', args: [bin, ...loadArgs], ...tiny, cwd: tiny.dir, firstConnect: true },
    ];
    if (values.compare !== undefined) {
      cases.push(
        { name: 'compared --version', args: [values.compare, '--version'], env: quiet, cwd: work },
        {
          name: 'compared load (1 row)',
          args: [values.compare, ...loadArgs],
          ...tiny,
          cwd: tiny.dir,
          firstConnect: true,
        },
      );
    }
    console.log(
      `rounds: ${rounds}, node ${process.version}, ${new Date().toISOString()}, load avg ${load()}`,
    );
    for (const c of cases) timeOnce(c.args, c.env, c.cwd); // warm the file cache
    const samples = cases.map(() => [] as Sample[]);
    for (let round = 0; round < rounds; round++)
      cases.forEach((c, i) => {
        samples[i]?.push(timeOnce(c.args, c.env, c.cwd));
      });
    const base = samples[0] ?? [];
    console.log(
      'case                        median ms   paired ratio vs node -e 0   cpu ms   first connect (cpu)',
    );
    cases.forEach((c, i) => {
      const s = samples[i] ?? [];
      const ratio = median(s.map((x, r) => x.wall / (base[r]?.wall ?? x.wall)));
      const connect = c.firstConnect
        ? `${median(s.map((x) => x.connectAt)).toFixed(0)} ms (${median(s.map((x) => x.connectCpu)).toFixed(0)} ms)`
        : '';
      console.log(
        `${c.name.padEnd(28)}${median(s.map((x) => x.wall))
          .toFixed(0)
          .padStart(9)}   ${ratio.toFixed(2).padStart(5)}x${''.padStart(20)}${median(s.map((x) => x.cpu))
          .toFixed(0)
          .padStart(6)}   ${connect}`,
      );
    });
    if (values.compare !== undefined) {
      const mine = samples[3] ?? [];
      const other = samples[5] ?? [];
      const paired = median(mine.map((x, r) => x.wall / (other[r]?.wall ?? x.wall)));
      const cpu = median(mine.map((x, r) => x.connectCpu - (other[r]?.connectCpu ?? x.connectCpu)));
      console.log(
        `load, this build / compared: ${paired.toFixed(2)}x wall (paired median), ` +
          `${cpu.toFixed(0)} ms CPU to the first connection (paired median difference)`,
      );
    }
    for (const c of cases.slice(1))
      console.log(`${c.name} loads: ${loadedLibraries(c.args, c.env, c.cwd).join(', ') || '(none of them)'}`);
    console.log(`load avg at the end ${load()}`);
  } finally {
    await ownPg?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
