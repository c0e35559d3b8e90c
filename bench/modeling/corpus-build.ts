/**
 * Build rate of dbt projects (issue 11's second measure): for each project directory given,
 * compiles it offline, then builds its seeds and models on a fresh embedded PostgreSQL database
 * (models rendered again with `execute` true, as dbt runs them) and counts the root project's
 * compiled models that built.
 *   node --conditions=source --import tsx bench/modeling/corpus-build.ts [--verbose] [--tests] [--threads N] <dir>...
 * `--tests` also runs the data tests and prints how many passed, failed (rows found) or errored.
 *
 * A compiled root-project model counts as `built` (status success), `error` (its own statement
 * failed) or `skipped` (a parent failed); ephemeral models are never built on their own and are
 * counted apart, outside the rate. The rate is built / (compiled - ephemeral). Sources the project reads
 * but does not seed do not exist here: models reading them fail, as they would on an empty warehouse.
 */
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { build, compileProject, type NodeResult } from '@dataflow/modeling';
import { startPostgresServer } from '@dataflow/testkit';
import pg from 'pg';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    verbose: { type: 'boolean', default: false },
    threads: { type: 'string', default: '4' },
    tests: { type: 'boolean', default: false },
  },
});

interface BuildReport {
  project: string;
  compiled: number;
  built: number;
  error: number;
  skipped: number;
  ephemeral: number;
  tests: Record<string, number>;
  testErrors: string[];
  failures: Array<{ name: string; message: string }>;
}

async function measure(serverUrl: string, dir: string, index: number): Promise<BuildReport> {
  const report: BuildReport = {
    project: basename(dir),
    compiled: 0,
    built: 0,
    error: 0,
    skipped: 0,
    ephemeral: 0,
    tests: {},
    testErrors: [],
    failures: [],
  };
  const database = `corpus_${index}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${database}`);
  await admin.query(`create database ${database}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 8 });
  pool.on('error', () => {});
  try {
    const compiled = await compileProject({ dir, schema: 'analytics', target: { database } });
    const { graph } = compiled;
    const rootModels = Object.values(graph.nodes).filter(
      (n) => n.resourceType === 'model' && n.packageName === graph.projectName,
    );
    report.compiled = rootModels.length;
    const result = await build(pool, graph, {
      runId: `corpus-${index}`,
      threads: Number(values.threads),
      resourceTypes: values.tests ? ['seed', 'model', 'test'] : ['seed', 'model'],
      renderer: compiled.renderer,
    });
    for (const r of result.results.filter((x) => x.resourceType === 'test')) {
      report.tests[r.status] = (report.tests[r.status] ?? 0) + 1;
      if (r.status === 'error') report.testErrors.push(`${r.name}: ${(r.message ?? '').split('\n')[0]}`);
    }
    const byId = new Map<string, NodeResult>(result.results.map((r) => [r.uniqueId, r]));
    for (const node of rootModels) {
      const r = byId.get(node.uniqueId);
      if (node.resourceType === 'model' && node.config.materialized === 'ephemeral') report.ephemeral++;
      else if (r?.status === 'success') report.built++;
      else if (r?.status === 'skipped') report.skipped++;
      else {
        report.error++;
        report.failures.push({ name: node.name, message: (r?.message ?? 'not run').split('\n')[0] ?? '' });
      }
    }
  } finally {
    await pool.end();
  }
  return report;
}

const server = await startPostgresServer();
const reports: BuildReport[] = [];
try {
  for (const [i, dir] of positionals.entries()) {
    try {
      reports.push(await measure(server.url, dir, i));
    } catch (error) {
      console.log(`${basename(dir)}: build threw: ${(error as Error).stack}`);
    }
  }
} finally {
  await server.stop();
}
for (const r of reports) {
  const rate = r.compiled - r.ephemeral === 0 ? 1 : r.built / (r.compiled - r.ephemeral);
  console.log(
    `${r.project.padEnd(40)} compiled ${String(r.compiled).padStart(5)}  built ${String(r.built).padStart(5)}  error ${String(r.error).padStart(4)}  skipped ${String(r.skipped).padStart(4)}  ephemeral ${String(r.ephemeral).padStart(4)}  ${(rate * 100).toFixed(1)} %`,
  );
  if (values.verbose) for (const f of r.failures) console.log(`    ${f.name}: ${f.message}`);
  if (values.tests) console.log(`    tests: ${JSON.stringify(r.tests)}`);
  if (values.tests && values.verbose) for (const e of r.testErrors) console.log(`      ${e}`);
}
const compiled = reports.reduce((s, r) => s + r.compiled - r.ephemeral, 0);
const built = reports.reduce((s, r) => s + r.built, 0);
console.log(
  `total: ${built} / ${compiled} compiled non-ephemeral models build (${((built / Math.max(1, compiled)) * 100).toFixed(1)} %)`,
);
