/**
 * Benchmark of @dataflow/modeling.
 *   node [--conditions=source] --import tsx bench/modeling/compile-bench.ts [--models 1000] [--exec-models 200]
 *     [--runs 5] [--compile-only] [--with-packages] [--baseline /work/main --pairs 7] [--source]
 *
 * What it measures: the code `@dataflow/modeling` resolves to. With `--conditions=source` that is
 * `src/` through tsx (esbuild's output, not what a user runs); without it, the compiled `dist/` JS
 * that `dataflow compile` runs (build first: `npx tsc -b`). The first line printed says which.
 *
 * `--baseline <checkout>` measures cold compiles only: the project is generated once, then pairs of
 * fresh plain `node` processes (no tsx, nothing but `@dataflow/modeling`, as `dataflow compile`),
 * one running this checkout's code and one the baseline's (alternating which goes first), each
 * importing the package and compiling once; it prints the paired medians of CPU and wall time of
 * the compile (and of the import) and their ratio (before/after). The processes run the compiled
 * `dist/` JS of each checkout (both must be built: `npx tsc -b`), or `src/` through tsx with `--source`.
 *
 * 1. Generates a dbt-style project of N models (Jinja: config, ref, set/for/loop.last, a macro) and
 *    3 tests per model (3,000 for 1,000 models) in a temp dir and times compileProject().
 *    `--with-packages` links dbt_utils from the shared fixtures into `dbt_packages/`, configures
 *    `dispatch:` for its namespace, and adds `dbt_utils.generate_surrogate_key` (dispatched through
 *    dbt_utils and the `dbt` namespace's `hash` / `concat` / `type_string`) to every model.
 * 2. On an embedded PostgreSQL, builds M small table models with build() (threads 1, write-audit-publish
 *    without tests) and runs the same compiled SQL directly (`drop table if exists; create table as`)
 *    on one connection, and reports the per-model overhead.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build, compileProject, type ModelNode, planBuild } from '@dataflow/modeling';
import { dbtPackagesFixture, startPostgresServer } from '@dataflow/testkit';
import pg from 'pg';
import { median } from '../stats.js';

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: '1000' },
    'exec-models': { type: 'string', default: '200' },
    'compile-only': { type: 'boolean', default: false },
    runs: { type: 'string', default: '5' },
    'with-packages': { type: 'boolean', default: false },
    baseline: { type: 'string' },
    pairs: { type: 'string', default: '7' },
    source: { type: 'boolean', default: false },
  },
});
const MODELS = Number(values.models);
const EXEC_MODELS = Number(values['exec-models']);
const RUNS = Number(values.runs);
const WITH_PACKAGES = values['with-packages'];

/** Deterministic PRNG so every run generates the same project. */
function rng(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}

async function generateProject(dir: string, models: number, withTests: boolean): Promise<void> {
  const rand = rng(42);
  await mkdir(join(dir, 'macros'), { recursive: true });
  const dispatch = WITH_PACKAGES
    ? 'dispatch:\n  - macro_namespace: dbt_utils\n    search_order: [bench, dbt_utils]\n'
    : '';
  await writeFile(
    join(dir, 'dbt_project.yml'),
    `name: bench\n${dispatch}models:\n  bench:\n    +materialized: table\n`,
  );
  if (WITH_PACKAGES) {
    await mkdir(join(dir, 'dbt_packages'), { recursive: true });
    await symlink(join(dbtPackagesFixture(), 'dbt_utils'), join(dir, 'dbt_packages', 'dbt_utils'), 'dir');
  }
  const surrogateKey = WITH_PACKAGES
    ? `{{ dbt_utils.generate_surrogate_key(['a.id', 'a.kind']) }} as sk,`
    : '';
  await writeFile(
    join(dir, 'macros', 'bump.sql'),
    '{% macro bump(col, by=1) %}({{ col }} + {{ by }}){% endmacro %}\n',
  );
  const perFolder = 100;
  for (let folder = 0; folder * perFolder < models; folder++) {
    const folderDir = join(dir, 'models', `layer_${String(folder).padStart(2, '0')}`);
    await mkdir(folderDir, { recursive: true });
    const yml: string[] = ['version: 2', 'models:'];
    for (let i = folder * perFolder; i < Math.min(models, (folder + 1) * perFolder); i++) {
      const name = `m_${String(i).padStart(4, '0')}`;
      let body: string;
      if (i < 10) {
        body = `select g as id, g % 4 as kind, g * 10 as amount from generate_series(1, 20) as g`;
      } else {
        const parents = new Set<number>();
        const count = 1 + Math.floor(rand() * 2);
        while (parents.size < count) parents.add(Math.floor(rand() * i));
        const [first, ...others] = [...parents];
        const p = (n: number) => `m_${String(n).padStart(4, '0')}`;
        body = [
          `{% set kinds = [0, 1, 2, 3] %}`,
          `select a.id, a.kind, {{ bump('a.amount') }} as amount, ${surrogateKey}`,
          `  {% for k in kinds %}case when a.kind = {{ k }} then 1 else 0 end as is_{{ k }}{% if not loop.last %},{% endif %}{% endfor %}`,
          `from {{ ref('${p(first as number)}') }} as a`,
          ...others.map((o, j) => `join {{ ref('${p(o)}') }} as b${j} on b${j}.id = a.id`),
        ].join('\n');
      }
      await writeFile(join(folderDir, `${name}.sql`), `${body}\n`);
      yml.push(
        `  - name: ${name}`,
        '    columns:',
        '      - name: id',
        '        data_tests: [unique, not_null]',
        '      - name: kind',
        '        data_tests:',
        '          - accepted_values:',
        '              values: [0, 1, 2, 3]',
        '              quote: false',
      );
    }
    if (withTests) await writeFile(join(folderDir, 'schema.yml'), `${yml.join('\n')}\n`);
  }
}

const ms = (n: number) => `${n.toFixed(1)} ms`;
const loadAverage = () =>
  `${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} on ${availableParallelism()} cores`;

/** Which code the bench runs: `src/` (tsx, `--conditions=source`) or the compiled `dist/`. */
function measuredCode(): string {
  const entry = import.meta.resolve('@dataflow/modeling');
  return entry.includes('/dist/') ? 'compiled dist/ JS' : `sources through tsx (${entry})`;
}

async function benchCompile(): Promise<void> {
  console.log(`measuring: ${measuredCode()}`);
  const dir = await mkdtemp(join(tmpdir(), 'modeling-bench-'));
  try {
    await generateProject(dir, MODELS, true);
    const times: number[] = [];
    const cpu: number[] = [];
    let nodes = 0;
    let tests = 0;
    for (let run = 0; run < RUNS; run++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics' });
      times.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
      if (diagnostics.length > 0) throw new Error(`unexpected diagnostics: ${diagnostics[0]?.message}`);
      nodes = Object.keys(graph.nodes).length;
      tests = Object.values(graph.nodes).filter((n) => n.resourceType === 'test').length;
    }
    console.log(
      `compile: ${MODELS} models + ${tests} tests (${nodes} nodes)${WITH_PACKAGES ? ' with dbt_utils + dispatch' : ''}, ${RUNS} runs in one process`,
    );
    console.log(
      `  wall: ${times.map(ms).join(', ')}  (run 1 = first compile in a fresh process, cold JIT: goal < 1000 ms)`,
    );
    console.log(`  cpu (user+sys, all threads incl. GC): ${cpu.map(ms).join(', ')}`);
    console.log(`  host load average: ${loadAverage()}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function benchExecution(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'modeling-bench-exec-'));
  const server = await startPostgresServer();
  const pool = new pg.Pool({ connectionString: server.url, max: 8 });
  pool.on('error', () => undefined);
  try {
    await generateProject(dir, EXEC_MODELS, false);
    const { graph } = await compileProject({ dir, schema: 'bench' });
    const order = planBuild(graph).order.map((id) => graph.nodes[id] as ModelNode);
    await pool.query('create schema if not exists bench');

    // Direct: the same compiled SQL, one connection, drop + CTAS per model.
    const direct = async () => {
      const client = await pool.connect();
      try {
        const t0 = performance.now();
        for (const node of order) {
          await client.query(`drop table if exists ${node.relation.sql}`);
          await client.query(`create table ${node.relation.sql} as (\n${node.compiledSql}\n)`);
        }
        return performance.now() - t0;
      } finally {
        client.release();
      }
    };
    const viaBuild = async (threads: number) => {
      const t0 = performance.now();
      const r = await build(pool, graph, { runId: `bench-${threads}`, threads });
      if (!r.success)
        throw new Error(`build failed: ${r.results.find((x) => x.status !== 'success')?.message}`);
      return performance.now() - t0;
    };
    await direct(); // warm-up; also creates every table so later runs replace existing ones
    await viaBuild(1);
    const d = Math.min(await direct(), await direct());
    const b1 = Math.min(await viaBuild(1), await viaBuild(1));
    const b4 = Math.min(await viaBuild(4), await viaBuild(4));
    console.log(`execution: ${order.length} table models on embedded PostgreSQL 17 (best of 2)`);
    console.log(
      `  direct SQL (drop + create table as, 1 connection): ${ms(d)}  = ${ms(d / order.length)}/model`,
    );
    console.log(
      `  build(), threads 1 (temp CTAS + publish transaction with lock, dependents check, swap): ${ms(b1)}  = ${ms(b1 / order.length)}/model`,
    );
    console.log(`  per-model overhead of build() vs direct: ${ms((b1 - d) / order.length)}`);
    console.log(`  build(), threads 4: ${ms(b4)}  = ${ms(b4 / order.length)}/model`);
  } finally {
    await pool.end();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * What a fresh process of `dataflow compile` does, and nothing else (no tsx, no test kit): import
 * `@dataflow/modeling` as the checkout resolves it, compile the project once, print CPU and wall
 * ms of the import and of the compile.
 */
const COLD_COMPILE_SCRIPT = `
const cpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };
const c0 = cpu(), t0 = performance.now();
const { compileProject } = await import('@dataflow/modeling');
const c1 = cpu(), t1 = performance.now();
const { diagnostics } = await compileProject({ dir: process.argv[1], schema: 'analytics' });
const c2 = cpu(), t2 = performance.now();
if (diagnostics.some((d) => d.severity === 'error')) throw new Error(diagnostics[0].message);
console.log(JSON.stringify({ importCpu: c1 - c0, importWall: t1 - t0, cpu: c2 - c1, wall: t2 - t1 }));
`;

interface ColdRun {
  cpu: number;
  wall: number;
  importCpu: number;
  importWall: number;
}

/** One cold compile of `dir` in a fresh process running `checkout`'s code. */
function coldCompile(checkout: string, dir: string): ColdRun {
  const args = values.source ? ['--conditions=source', '--import', 'tsx'] : [];
  if (!values.source && !existsSync(join(checkout, 'packages/modeling/dist/index.js')))
    throw new Error(`${checkout} is not built (run npx tsc -b there, or pass --source)`);
  args.push('--input-type=module', '-e', COLD_COMPILE_SCRIPT, dir);
  const out = execFileSync(process.execPath, args, { cwd: checkout, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop() as string) as ColdRun;
}

async function benchAgainstBaseline(baseline: string): Promise<void> {
  const here = process.cwd();
  const dir = await mkdtemp(join(tmpdir(), 'modeling-bench-cold-'));
  const before: ColdRun[] = [];
  const after: ColdRun[] = [];
  try {
    await generateProject(dir, MODELS, true);
    for (let pair = 0; pair < Number(values.pairs); pair++) {
      if (pair % 2 === 0) {
        before.push(coldCompile(baseline, dir));
        after.push(coldCompile(here, dir));
      } else {
        after.push(coldCompile(here, dir));
        before.push(coldCompile(baseline, dir));
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const med = (runs: ColdRun[], key: keyof ColdRun) => median(runs.map((r) => r[key]));
  console.log(
    `cold compile, ${MODELS} models${WITH_PACKAGES ? ' with dbt_utils + dispatch' : ''}, ${values.pairs} paired fresh processes running ${values.source ? 'src/ through tsx' : 'the compiled dist/ JS'} (node -e: import, then compileProject once)`,
  );
  for (const [label, runs] of [
    [`baseline ${baseline}`, before],
    ['this checkout', after],
  ] as const) {
    console.log(
      `  ${label}: compile cpu median ${ms(med(runs, 'cpu'))}, wall median ${ms(med(runs, 'wall'))}; import cpu ${ms(med(runs, 'importCpu'))}, wall ${ms(med(runs, 'importWall'))}`,
    );
  }
  console.log(
    `  compile ratio before/after: cpu ${(med(before, 'cpu') / med(after, 'cpu')).toFixed(2)}x, wall ${(med(before, 'wall') / med(after, 'wall')).toFixed(2)}x`,
  );
  console.log(`  host load average: ${loadAverage()}`);
}

if (values.baseline) await benchAgainstBaseline(values.baseline);
else {
  await benchCompile();
  if (!values['compile-only']) await benchExecution();
}
