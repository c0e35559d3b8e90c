/**
 * CLI start-up benchmark (not a test): whole processes, Node start-up included, built CLI.
 *
 *   npx tsc -b && node --import tsx bench/cli/startup-bench.ts [--rounds 15] [--project examples/shop]
 *
 * Runs, round after round in the same order (so a busy moment hits all three alike), `node -e 0`,
 * `dataflow --version` and `dataflow compile --project <shop example>` through the committed
 * launcher `apps/cli/bin/dataflow.js` (which imports dist/). Prints the median wall time of each
 * and the paired median ratio against `node -e 0` (the median of the per-round ratios). Also
 * lists which heavy libraries `--version` and `compile` load, from the process's loaded modules.
 */

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
  },
});
const rounds = Number(values.rounds);
const bin = join(root, 'apps/cli/bin/dataflow.js');
if (!existsSync(join(root, 'apps/cli/dist/bin.js'))) {
  console.error('apps/cli/dist is missing: run `npx tsc -b` first');
  process.exit(2);
}
// compile writes target/: keep it out of the example.
const target = mkdtempSync(join(tmpdir(), 'dataflow-startup-'));

const cases: Array<{ name: string; args: string[] }> = [
  { name: 'node -e 0', args: ['-e', '0'] },
  { name: 'dataflow --version', args: [bin, '--version'] },
  { name: 'dataflow compile (shop)', args: [bin, 'compile', '--project', values.project ?? ''] },
];

function timeOnce(args: string[]): number {
  const started = performance.now();
  const r = spawnSync(process.execPath, args, {
    encoding: 'utf8',
    env: { ...process.env, DATAFLOW_LOG_LEVEL: 'warn' },
    cwd: target,
  });
  const ms = performance.now() - started;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const LIBRARIES = [
  'zod',
  'yaml',
  'pg',
  'pino',
  '@aws-sdk/client-s3',
  '@aws-sdk/lib-storage',
  'undici',
  'nunjucks',
  'js-yaml',
  'csv-parse',
];

/**
 * Heavy libraries a command loads: a module resolve hook (`module.register`, Node >= 20.6)
 * appends every resolved URL to a file, read back after the process exits.
 */
function loadedLibraries(args: string[]): string[] {
  const log = join(target, 'resolved.txt');
  const hooks = join(target, 'hooks.mjs');
  const register = join(target, 'register.mjs');
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
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`,
  );
  spawnSync(process.execPath, ['--import', register, ...args], { cwd: target, env: process.env });
  const urls = readFileSync(log, 'utf8');
  return LIBRARIES.filter((l) => urls.includes(`/node_modules/${l}/`));
}

try {
  for (const c of cases) timeOnce(c.args); // warm the file cache
  const times = cases.map(() => [] as number[]);
  for (let round = 0; round < rounds; round++)
    cases.forEach((c, i) => {
      times[i]?.push(timeOnce(c.args));
    });
  const base = times[0] ?? [];
  console.log(`rounds: ${rounds}, node ${process.version}, ${new Date().toISOString()}`);
  console.log('case                        median ms   paired ratio vs node -e 0');
  cases.forEach((c, i) => {
    const t = times[i] ?? [];
    const ratio = median(t.map((ms, r) => ms / (base[r] ?? ms)));
    console.log(`${c.name.padEnd(28)}${median(t).toFixed(0).padStart(9)}   ${ratio.toFixed(2)}x`);
  });
  for (const c of cases.slice(1))
    console.log(`${c.name} loads: ${loadedLibraries(c.args).join(', ') || '(none of them)'}`);
} finally {
  rmSync(target, { recursive: true, force: true });
}
