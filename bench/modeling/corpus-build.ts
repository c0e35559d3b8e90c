/**
 * Build rate of dbt projects on PostgreSQL (issue 11's second measure): for each project directory
 * given, compiles it offline, then seeds and runs it (seeds and models, as `dbt seed && dbt run`)
 * against an embedded PostgreSQL, each project in its own schema, and counts the compiled models
 * that built.
 *   node --conditions=source --import tsx bench/modeling/corpus-build.ts [--verbose] [--vars '<yaml>'] [--url postgres://…] <dir>...
 *
 * A compiled model (in the graph, no error diagnostic, enabled, not ephemeral) counts as
 * - `built`: its build result is `success`;
 * - `failed`: its own build failed (`--verbose` prints the first line of the error);
 * - `skipped`: a parent failed (or failed to compile), so it did not run.
 * The rate is built / compiled. Ephemeral models are not counted (they are inlined into their
 * children). Without `--url` an embedded PostgreSQL is started and stopped.
 */
import { loadavg } from 'node:os';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { build, compileProject, type ModelNode, type NodeResult } from '@dataflow/modeling';
import { startPostgresServer } from '@dataflow/testkit';
import pg from 'pg';
import { parse as parseYaml } from 'yaml';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    verbose: { type: 'boolean', default: false },
    vars: { type: 'string' },
    url: { type: 'string' },
    threads: { type: 'string', default: '4' },
  },
});
const cliVars = values.vars ? (parseYaml(values.vars) as Record<string, unknown>) : undefined;

interface BuildReport {
  project: string;
  compiled: number;
  built: number;
  failed: Array<{ name: string; message: string }>;
  skipped: Array<{ name: string; message: string }>;
  seeds: { ok: number; error: number; errors: string[] };
}

const firstLine = (s: string | undefined) => (s ?? '').split('\n')[0] ?? '';

async function measure(pool: pg.Pool, dir: string): Promise<BuildReport> {
  const project = basename(dir);
  const schema = `corpus_${project.replace(/[^a-z0-9]+/gi, '_').toLowerCase()}`;
  await pool.query(`drop schema if exists "${schema}" cascade`);
  const { graph, diagnostics, renderer } = await compileProject({
    dir,
    schema,
    target: { database: 'postgres' },
    ...(cliVars ? { vars: cliVars } : {}),
  });
  const withError = new Set(diagnostics.filter((d) => d.severity === 'error').map((d) => d.node));
  const compiled = Object.values(graph.nodes).filter(
    (n): n is ModelNode =>
      n.resourceType === 'model' &&
      n.packageName === graph.projectName &&
      n.config.materialized !== 'ephemeral' &&
      !withError.has(n.name),
  );
  const { results } = await build(pool, graph, {
    runId: `corpus-${project}`,
    threads: Number(values.threads),
    resourceTypes: ['seed', 'model'],
    audit: false,
    renderer,
  });
  const byId = new Map<string, NodeResult>(results.map((r) => [r.uniqueId, r]));
  const report: BuildReport = {
    project,
    compiled: compiled.length,
    built: 0,
    failed: [],
    skipped: [],
    seeds: { ok: 0, error: 0, errors: [] },
  };
  for (const m of compiled) {
    const r = byId.get(m.uniqueId);
    if (r?.status === 'success') report.built++;
    else if (r?.status === 'skipped') report.skipped.push({ name: m.name, message: firstLine(r.message) });
    else report.failed.push({ name: m.name, message: firstLine(r?.message ?? 'not run') });
  }
  for (const r of results) {
    if (r.resourceType !== 'seed') continue;
    if (r.status === 'success') report.seeds.ok++;
    else {
      report.seeds.error++;
      report.seeds.errors.push(`${r.name}: ${firstLine(r.message)}`);
    }
  }
  return report;
}

const server = values.url ? undefined : await startPostgresServer();
const pool = new pg.Pool({ connectionString: values.url ?? server?.url, max: 12 });
pool.on('error', () => undefined);
const reports: BuildReport[] = [];
try {
  for (const dir of positionals) reports.push(await measure(pool, dir));
} finally {
  await pool.end();
  await server?.stop();
}
for (const r of reports) {
  const rate = r.compiled === 0 ? 1 : r.built / r.compiled;
  console.log(
    `${r.project.padEnd(40)} built ${String(r.built).padStart(5)} / ${String(r.compiled).padStart(5)} compiled  failed ${String(r.failed.length).padStart(4)}  skipped ${String(r.skipped.length).padStart(4)}  ${(rate * 100).toFixed(1)} %  (seeds ${r.seeds.ok} ok, ${r.seeds.error} error)`,
  );
  for (const e of r.seeds.errors) console.log(`    seed ${e}`);
  if (values.verbose) {
    for (const f of r.failed) console.log(`    failed ${f.name}: ${f.message}`);
    for (const s of r.skipped) console.log(`    skipped ${s.name}: ${s.message}`);
  }
}
const built = reports.reduce((s, r) => s + r.built, 0);
const compiled = reports.reduce((s, r) => s + r.compiled, 0);
console.log(
  `total: ${built} / ${compiled} compiled models build (${((built / Math.max(1, compiled)) * 100).toFixed(1)} %); load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
