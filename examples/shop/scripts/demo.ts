/**
 * The quick-start demo: runs the shop example end to end on the embedded defaults and says
 * what it did.
 *
 *   npm run example            (= npm run build && tsx examples/shop/scripts/demo.ts)
 *   tsx examples/shop/scripts/demo.ts [--date 2026-05-02] [--project <copy of examples/shop>]
 *
 * 1. starts the loopback rates API on a free port (RATES_PORT for dataflow.yml);
 * 2. `dataflow run --project examples/shop --date 2026-05-01` with no DATAFLOW_DATABASE_URL /
 *    DATAFLOW_LAKE_URL: embedded PostgreSQL and a local lake under examples/shop/.dataflow/;
 * 3. `dataflow runs --json`, then prints files landed, rows loaded, models built, tests passed.
 *
 * Exits with the CLI's exit code (0 when everything passed).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startRatesServer } from './rates-server.js';

const here = dirname(fileURLToPath(import.meta.url));
const projectDir = resolve(here, '..');
const repoRoot = resolve(projectDir, '../..');
const bin = join(repoRoot, 'apps/cli/dist/bin.js');

/** The CLI's one-line JSON summary (last stdout line when stdout is not a TTY). */
export interface CliSummary {
  run_id: string;
  command: string;
  status: string;
  exit_code: number;
  rows_in: number;
  rows_loaded: number;
  rows_rejected: number;
  models: number;
  tests: { pass: number; warn: number; fail: number; error: number; skipped: number };
  duration_ms: number;
}

/** One landed partition, read from its `_manifest.json`. */
export interface LandedPartition {
  source: string;
  files: number;
  rows: number;
  bytes: number;
}

export interface CliResult {
  code: number;
  lastLine: string;
}

/** Env for the CLI: the caller's, minus anything that would move it off the embedded defaults. */
export function demoEnv(env: NodeJS.ProcessEnv, ratesPort: number): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env, RATES_PORT: String(ratesPort) };
  for (const key of ['DATAFLOW_DATABASE_URL', 'DATAFLOW_LAKE_URL', 'DATAFLOW_S3_ENDPOINT', 'DATABASE_URL']) {
    delete out[key];
  }
  return out;
}

/**
 * Renders a CLI log line (pino JSON or plain text) as one short human line, or nothing: plain
 * text as is; warnings and errors always (with the error's message); info lines only for the
 * run and its per-source steps, with their row counts.
 */
export function formatLogLine(line: string): string | undefined {
  const trimmed = line.trim();
  if (trimmed === '') return undefined;
  if (!trimmed.startsWith('{')) return `  ${trimmed}`;
  let entry: {
    msg?: unknown;
    level?: unknown;
    err?: { message?: unknown };
    source?: unknown;
    rows_out?: unknown;
  };
  try {
    entry = JSON.parse(trimmed) as typeof entry;
  } catch {
    return `  ${trimmed}`;
  }
  if (typeof entry.msg !== 'string') return undefined;
  const why = typeof entry.err?.message === 'string' ? `: ${entry.err.message}` : '';
  if (entry.level === 'error' || entry.level === 'fatal') return `  ERROR ${entry.msg}${why}`;
  if (entry.level === 'warn') return `  WARN ${entry.msg}${why}`;
  const jobLine = typeof entry.source === 'string' && /^(ingest|load) /.test(entry.msg);
  if (!jobLine && !entry.msg.startsWith('dataflow ')) return undefined;
  if (jobLine && entry.msg.endsWith(' started')) return undefined;
  const rows = typeof entry.rows_out === 'number' ? ` (${entry.rows_out} rows)` : '';
  return `  ${entry.msg}${rows}`;
}

/** Runs the CLI, echoing its logs compactly, and returns the exit code and last stdout line. */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  echo: boolean,
  cwd = repoRoot,
): Promise<CliResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let lastLine = '';
    const onLine = (line: string, isStdout: boolean) => {
      if (isStdout && line.trim() !== '') lastLine = line;
      if (!echo) return;
      const text = formatLogLine(line);
      if (text !== undefined) process.stderr.write(`${text}\n`);
    };
    createInterface({ input: child.stdout }).on('line', (l) => onLine(l, true));
    createInterface({ input: child.stderr }).on('line', (l) => onLine(l, false));
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.once('SIGINT', forward);
    process.once('SIGTERM', forward);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolveRun({ code: code ?? (signal === 'SIGTERM' ? 143 : 130), lastLine });
    });
  });
}

/** Reads the committed manifests of the local lake for one day. */
export async function landedPartitions(lakeDir: string, day: string): Promise<LandedPartition[]> {
  const out: LandedPartition[] = [];
  const sources = existsSync(lakeDir) ? await readdir(lakeDir) : [];
  for (const source of sources.sort()) {
    const manifestPath = join(lakeDir, source, `dt=${day}`, '_manifest.json');
    if (!existsSync(manifestPath)) continue;
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as {
      files: unknown[];
      rows: number;
      bytes: number;
    };
    out.push({ source, files: manifest.files.length, rows: manifest.rows, bytes: manifest.bytes });
  }
  return out;
}

/** One `job_status` row as `dataflow runs --run <id> --json` prints it. */
export interface RunJob {
  step: string;
  target: string;
  status: string;
  started_at: string;
  ended_at: string | null;
  duration_ms: number | null;
  rows_out: number | null;
}

/** Wall time of one step of a run, from its job_status rows. */
export interface StepSpan {
  step: string;
  jobs: number;
  /** Rows out of ingest / load jobs (0 for models and tests). */
  rows: number;
  /** First start to last end: the step's wall time in a one-day run. */
  seconds: number;
  /** Sum of the jobs' durations: the step's share of a multi-day run, where days interleave. */
  busySeconds: number;
}

/** Per step (ingest, load, model, test): jobs, rows out, span and summed durations. */
export function stepSpans(jobs: RunJob[]): StepSpan[] {
  const out: StepSpan[] = [];
  for (const step of ['ingest', 'load', 'seed', 'model', 'test']) {
    const mine = jobs.filter((j) => j.step === step);
    if (mine.length === 0) continue;
    const start = Math.min(...mine.map((j) => Date.parse(j.started_at)));
    const end = Math.max(...mine.map((j) => Date.parse(j.ended_at ?? j.started_at)));
    const rows = mine.reduce((n, j) => n + (step === 'ingest' || step === 'load' ? (j.rows_out ?? 0) : 0), 0);
    const busy = mine.reduce((n, j) => n + (j.duration_ms ?? 0), 0);
    out.push({ step, jobs: mine.length, rows, seconds: (end - start) / 1000, busySeconds: busy / 1000 });
  }
  return out;
}

/** The "what it did" block. Pure, so the wording is tested. */
export function formatReport(
  summary: CliSummary,
  landed: LandedPartition[],
  lakeLabel: string,
  jobs: RunJob[] = [],
): string {
  const t = summary.tests;
  const spans = stepSpans(jobs);
  const lines = [
    '',
    `What it did (run ${summary.run_id}, ${summary.status}, ${(summary.duration_ms / 1000).toFixed(1)}s):`,
    `  files landed   ${landed.reduce((n, p) => n + p.files, 0)} data files in ${landed.length} partitions under ${lakeLabel}`,
    ...landed.map(
      (p) => `                   ${p.source.padEnd(10)} ${String(p.rows).padStart(9)} rows  ${p.bytes} bytes`,
    ),
    `  rows loaded    ${summary.rows_loaded} of ${summary.rows_in} into raw_* (${summary.rows_rejected} rejected)`,
    `  models built   ${summary.models}`,
    `  tests passed   ${t.pass} passed, ${t.warn} warned, ${t.fail} failed, ${t.error} errored, ${t.skipped} skipped`,
  ];
  if (spans.length > 0) {
    lines.push(`  wall time      ${spans.map((s) => `${s.step} ${s.seconds.toFixed(1)}s`).join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Reads a run's jobs with `dataflow runs --run <id> --json` (empty when unavailable). */
export async function runJobs(
  project: string,
  runId: string,
  env: NodeJS.ProcessEnv,
  cwd = repoRoot,
): Promise<RunJob[]> {
  const res = await runCli(['runs', '--project', project, '--run', runId, '--json'], env, false, cwd);
  try {
    const parsed = JSON.parse(res.lastLine) as { jobs?: RunJob[] };
    return Array.isArray(parsed.jobs) ? parsed.jobs : [];
  } catch {
    return [];
  }
}

export function parseSummary(line: string): CliSummary | undefined {
  try {
    const value = JSON.parse(line) as Partial<CliSummary>;
    return typeof value.run_id === 'string' && typeof value.exit_code === 'number'
      ? (value as CliSummary)
      : undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      date: { type: 'string', default: '2026-05-01' },
      // Another copy of the project (tests run the demo on a temp copy).
      project: { type: 'string', default: projectDir },
    },
  });
  const day = values.date;
  const projectPath = resolve(values.project);
  if (!existsSync(bin)) {
    process.stderr.write(`demo: ${relative(process.cwd(), bin)} is missing: run \`npm run build\` first\n`);
    return 2;
  }
  const rates = await startRatesServer({ port: 0 });
  try {
    const env = demoEnv(process.env, rates.port);
    const project = relative(repoRoot, projectPath) || '.';
    process.stderr.write(`rates API on ${rates.url}\n$ dataflow run --project ${project} --date ${day}\n`);
    const run = await runCli(['run', '--project', project, '--date', day], env, true);
    const summary = parseSummary(run.lastLine);
    process.stderr.write(`\n$ dataflow runs --project ${project} --limit 5\n`);
    const runs = await runCli(['runs', '--project', project, '--limit', '5'], env, true);
    if (runs.code !== 0) process.stderr.write(`demo: dataflow runs exited ${runs.code}\n`);
    if (!summary) {
      process.stderr.write(`demo: dataflow run exited ${run.code} without a JSON summary line\n`);
      return run.code === 0 ? 1 : run.code;
    }
    const lakeDir = join(projectPath, '.dataflow/lake/raw');
    const landed = await landedPartitions(lakeDir, day);
    const jobs = await runJobs(project, summary.run_id, env);
    process.stdout.write(formatReport(summary, landed, relative(process.cwd(), lakeDir) || '.', jobs));
    return run.code;
  } finally {
    await rates.close();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`demo: ${(error as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
