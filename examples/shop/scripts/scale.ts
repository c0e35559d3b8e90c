/**
 * The shop example at volume, on the embedded defaults, with wall time per step.
 *
 *   npm run build
 *   npx tsx examples/shop/scripts/scale.ts --rows 1000000 [--days 1] [--date 2026-05-01] [--keep]
 *
 * Copies the project (config, models, tests; not the demo data) into a temp directory, generates
 * `--rows` orders there with generate.ts, starts the rates API, runs
 * `dataflow run --project <tmp> --start <date> --end <date + days>`, and prints the per-step wall
 * time (ingest, load, model, test) from `dataflow runs --run <id> --json` (job_status).
 * The temp directory (embedded PostgreSQL included) is removed unless `--keep`.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { demoEnv, parseSummary, runCli, runJobs, stepSpans } from './demo.js';
import { generateShopData } from './generate.js';
import { startRatesServer } from './rates-server.js';
import { dayList, formatDay, parseDay } from './shop-data.js';

const projectDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      rows: { type: 'string', default: '1000000' },
      days: { type: 'string', default: '1' },
      date: { type: 'string', default: '2026-05-01' },
      seed: { type: 'string', default: '42' },
      keep: { type: 'boolean', default: false },
    },
  });
  const options = {
    rows: Number(values.rows),
    days: Number(values.days),
    date: values.date,
    seed: Number(values.seed),
  };
  const dir = await mkdtemp(join(tmpdir(), 'shop-scale-'));
  const rates = await startRatesServer({ port: 0 });
  try {
    for (const part of ['dataflow.yml', 'models', 'tests']) {
      await cp(join(projectDir, part), join(dir, part), { recursive: true });
    }
    const t0 = performance.now();
    const files = await generateShopData({ ...options, out: join(dir, 'data') });
    const generated = (performance.now() - t0) / 1000;
    const rows = (source: string) => files.filter((f) => f.source === source).reduce((n, f) => n + f.rows, 0);
    process.stderr.write(
      `generated ${rows('orders')} orders, ${rows('payments')} payments, ${rows('customers')} customer rows in ${generated.toFixed(1)}s (${dir})\n`,
    );
    const env = demoEnv(process.env, rates.port);
    const end = formatDay(parseDay(dayList(options).at(-1) as string) + 86_400_000);
    const t1 = performance.now();
    const run = await runCli(
      ['run', '--project', dir, '--start', options.date, '--end', end],
      env,
      true,
      dir,
    );
    const wall = (performance.now() - t1) / 1000;
    const summary = parseSummary(run.lastLine);
    if (!summary) {
      process.stderr.write(`scale: dataflow run exited ${run.code} without a JSON summary\n`);
      return run.code === 0 ? 1 : run.code;
    }
    const jobs = await runJobs(dir, summary.run_id, env, dir);
    const spans = stepSpans(jobs);
    process.stdout.write(
      `\n${options.rows} orders over ${options.days} day(s): dataflow run exit ${run.code}, `,
    );
    process.stdout.write(
      `${wall.toFixed(1)}s wall for the process (${(summary.duration_ms / 1000).toFixed(1)}s in the run)\n`,
    );
    // span: first start to last end (the step's wall time when there is one day); busy: sum of
    // the jobs' durations (what the step costs when days interleave or jobs run in parallel).
    process.stdout.write('step     jobs        rows     span     busy\n');
    for (const s of spans) {
      const span = `${s.seconds.toFixed(1)}s`.padStart(8);
      const busy = `${s.busySeconds.toFixed(1)}s`.padStart(8);
      process.stdout.write(
        `${s.step.padEnd(7)} ${String(s.jobs).padStart(5)} ${String(s.rows).padStart(11)} ${span} ${busy}\n`,
      );
    }
    const slowest = jobs
      .filter((j) => j.duration_ms !== null)
      .sort((a, b) => (b.duration_ms ?? 0) - (a.duration_ms ?? 0))
      .slice(0, 8);
    process.stdout.write('slowest jobs:\n');
    for (const j of slowest) {
      const seconds = ((j.duration_ms ?? 0) / 1000).toFixed(1);
      process.stdout.write(`  ${j.step.padEnd(7)} ${j.target.padEnd(60)} ${seconds.padStart(6)}s\n`);
    }
    process.stdout.write(
      `rows loaded ${summary.rows_loaded}, models ${summary.models}, tests ${summary.tests.pass} passed / ${summary.tests.fail} failed / ${summary.tests.warn} warned\n`,
    );
    return run.code;
  } finally {
    await rates.close();
    if (!values.keep) await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`scale: ${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
