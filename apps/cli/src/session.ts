import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createPool, sweepDeadRunRelations } from '@dataflow/pg';
import {
  type AirflowContext,
  createLogger,
  createRedactor,
  createRunLog,
  type Redactor,
  type RunLog,
  type RunLogger,
  redactArgs,
} from '@dataflow/runlog';
import type pg from 'pg';
import { type LoadedProject, loadProject } from './config.js';
import { poolTimeouts } from './connection-options.js';
import { acquireEmbeddedPostgres, type EmbeddedPostgresHandle } from './embedded-postgres.js';
import { CliError } from './errors.js';
import { EXIT, exitCodeFor, statusForExit } from './exit-codes.js';
import type { DayInterval } from './interval.js';
import type { CliIo } from './io.js';
import { cancelServerWorkOnAbort } from './shutdown.js';
import { buildSummary, emptyTotals, formatSummaryText, type RunTotals } from './summary.js';
import { VERSION } from './version.js';

/** What every command gets from `runCli`: its I/O, environment and the abort signal. */
export interface Invocation {
  argv: string[];
  cwd: string;
  env: Record<string, string | undefined>;
  io: CliIo;
  signal: AbortSignal;
  /** Secrets known so far (env, then the project's); everything printed goes through it. */
  redactor: Redactor;
  /** Set by the command; what `runCli` resolves with. */
  exitCode: number;
}

/** One recorded CLI invocation: project, logger, warehouse pool, run log, totals. */
export interface Session {
  readonly runId: string;
  readonly command: string;
  readonly invocation: Invocation;
  readonly project: LoadedProject;
  readonly redactor: Redactor;
  readonly logger: RunLogger;
  readonly pool: pg.Pool;
  readonly runLog: RunLog;
  readonly days: DayInterval[];
  readonly totals: RunTotals;
  readonly startedAt: number;
  embedded?: EmbeddedPostgresHandle;
  metaPool?: pg.Pool;
  /** Closed at the end of the run (object stores, servers). */
  readonly closers: Array<() => void | Promise<void>>;
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** A redactor seeded with the secret-bearing environment variables the CLI and SDKs read. */
export function createInvocationRedactor(env: Record<string, string | undefined>): Redactor {
  return createRedactor(
    ['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'DATAFLOW_DATABASE_URL', 'PGPASSWORD'].flatMap((k) => {
      const v = env[k];
      return v ? [v] : [];
    }),
  );
}

/** `AIRFLOW_CTX_*` variables Airflow sets for every task. */
export function airflowContext(env: Record<string, string | undefined>): AirflowContext | undefined {
  const ctx = {
    dagId: env.AIRFLOW_CTX_DAG_ID,
    taskId: env.AIRFLOW_CTX_TASK_ID,
    dagRunId: env.AIRFLOW_CTX_DAG_RUN_ID,
    tryNumber: env.AIRFLOW_CTX_TRY_NUMBER ? Number(env.AIRFLOW_CTX_TRY_NUMBER) : undefined,
  };
  return Object.values(ctx).some((v) => v !== undefined) ? ctx : undefined;
}

/** A sortable, unique run id: `YYYYMMDDTHHMMSSZ-<hex>`. */
export function newRunId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(4).toString('hex')}`;
}

function newPool(
  url: string,
  max: number,
  logger: RunLogger,
  timeouts: ReturnType<typeof poolTimeouts>,
): pg.Pool {
  return createPool({
    connectionString: url,
    max,
    ...timeouts,
    // An idle client losing its connection must not crash the process; the next query fails instead.
    onIdleError: (error) => logger.warn({ err: { message: error.message } }, 'idle PostgreSQL client error'),
  });
}

/**
 * Opens a session: reads the project, builds the redacting logger, connects (starting the embedded
 * PostgreSQL when `warehouse.url` is absent), migrates the run log and records the run as running.
 * On failure everything opened so far is closed again.
 */
export async function openSession(
  invocation: Invocation,
  command: string,
  options: { projectDir?: string | undefined; days: DayInterval[]; logLevel?: string | undefined },
): Promise<Session> {
  const runId = newRunId();
  const { redactor } = invocation;
  // On a terminal the progress bar and the summary tell the story; logs from warn up (--log-level info for more).
  const level =
    options.logLevel ?? invocation.env.DATAFLOW_LOG_LEVEL ?? (invocation.io.stderrIsTTY ? 'warn' : 'info');
  if (!LOG_LEVELS.includes(level)) {
    throw new CliError(
      'USAGE',
      `--log-level: expected one of ${LOG_LEVELS.join('|')}, got ${JSON.stringify(level)}`,
    );
  }
  const logger = createLogger({
    runId,
    pretty: invocation.io.stderrIsTTY,
    level: level as 'info',
    destination: invocation.io.stderr,
    redactor,
    bindings: { command },
  });
  const project = await loadProject(options.projectDir ?? '.', invocation.env, invocation.cwd);
  for (const s of project.secrets) redactor.add(s);
  const closers: Array<() => void | Promise<void>> = [];
  let embedded: EmbeddedPostgresHandle | undefined;
  let pool: pg.Pool | undefined;
  let metaPool: pg.Pool | undefined;
  try {
    let url = project.config.warehouse.url;
    if (!url) {
      embedded = await acquireEmbeddedPostgres(project.dir, { log: logger, signal: invocation.signal });
      url = embedded.url;
      redactor.add(decodeURIComponent(new URL(url).password));
      logger.debug({ started: embedded.started }, 'using the embedded PostgreSQL');
    }
    const timeouts = poolTimeouts(project.config.warehouse, invocation.env);
    const metaUrl = project.config.metadata.url;
    // The run log keeps one connection for the run's liveness lock: one more than the work needs.
    pool = newPool(url, project.config.warehouse.pool_size + (metaUrl ? 0 : 1), logger, timeouts);
    if (metaUrl) metaPool = newPool(metaUrl, 3, logger, timeouts);
    closers.push(
      cancelServerWorkOnAbort(invocation.signal, { pools: [pool], connectionString: url, logger }),
    );
    const runLog = createRunLog(metaPool ?? pool, { schema: project.config.metadata.schema, redactor });
    await runLog.migrate();
    const abandoned = await runLog.abandonDeadRuns();
    if (abandoned.length > 0) logger.warn({ runs: abandoned }, 'marked runs whose process died as abandoned');
    const interval =
      options.days.length > 0
        ? { start: options.days[0]?.start ?? '', end: options.days.at(-1)?.end ?? '' }
        : undefined;
    await runLog.startRun({
      runId,
      command,
      args: redactArgs(invocation.argv, project.secrets),
      project: project.config.name,
      interval,
      host: hostname(),
      version: VERSION,
      airflow: airflowContext(invocation.env),
    });
    logger.info({ project: project.config.name, interval, version: VERSION }, `dataflow ${command} started`);
    await sweepLeftovers(pool, runLog, logger);
    const session: Session = {
      runId,
      command,
      invocation,
      project,
      redactor,
      logger,
      pool,
      runLog,
      days: options.days,
      totals: emptyTotals(),
      startedAt: performance.now(),
      closers,
    };
    if (embedded) session.embedded = embedded;
    if (metaPool) session.metaPool = metaPool;
    return session;
  } catch (error) {
    // Undo what was opened; the open error is the one to report, not a cleanup failure behind it.
    await pool?.end().catch(() => undefined);
    await metaPool?.end().catch(() => undefined);
    await embedded?.release().catch(() => undefined);
    throw error;
  }
}

/** Drops what dead runs left behind (staging tables, temp model relations); never fails the run. */
async function sweepLeftovers(pool: pg.Pool, runLog: RunLog, logger: RunLogger): Promise<void> {
  try {
    const { dropped, failed } = await sweepDeadRunRelations(pool, {
      isDead: (t) => runLog.isRunTokenDead(t),
    });
    if (dropped.length > 0) logger.info({ dropped }, 'dropped relations left by dead runs');
    for (const f of failed)
      logger.warn(
        { relation: f.relation, err: { message: f.error.message } },
        'could not drop a relation left by a dead run',
      );
  } catch (error) {
    logger.warn(
      { err: { message: (error as Error).message } },
      'could not sweep relations left by dead runs',
    );
  }
}

/**
 * Ends a session: maps the outcome to an exit code, records it in run_history, logs, prints the
 * summary (JSON as the last stdout line when stdout is not a terminal) and releases everything.
 */
export async function closeSession(session: Session, error: unknown): Promise<number> {
  const { invocation, logger, totals, redactor } = session;
  const abortReason = invocation.signal.aborted ? invocation.signal.reason : undefined;
  let exitCode = error === undefined ? EXIT.OK : exitCodeFor(error, abortReason);
  if (error === undefined && abortReason !== undefined) exitCode = exitCodeFor(undefined, abortReason);
  const status = statusForExit(exitCode);
  const errorInfo =
    error === undefined
      ? undefined
      : {
          class: (error as Error).name ?? 'Error',
          ...(typeof (error as { code?: unknown }).code === 'string'
            ? { code: (error as { code: string }).code }
            : {}),
          message: redactor.redact((error as Error).message ?? String(error)).split('\n')[0] ?? '',
        };
  try {
    await session.runLog.finishRun(session.runId, {
      status,
      exitCode,
      rowsIn: totals.rowsIn,
      rowsOut: totals.rowsLoaded,
      rowsRejected: totals.rowsRejected,
      error,
    });
  } catch (finishError) {
    logger.error({ err: { message: (finishError as Error).message } }, 'could not record the end of the run');
    if (exitCode === EXIT.OK) exitCode = EXIT.RUNTIME;
  }
  const summary = buildSummary({
    runId: session.runId,
    command: session.command,
    status: statusForExit(exitCode),
    exitCode,
    totals,
    durationMs: performance.now() - session.startedAt,
    interval:
      session.days.length > 0
        ? { start: session.days[0]?.start ?? '', end: session.days.at(-1)?.end ?? '' }
        : undefined,
    error: errorInfo,
  });
  const logFields = { status: summary.status, exit_code: exitCode, duration_ms: summary.duration_ms };
  if (exitCode === EXIT.OK || exitCode === EXIT.NOTHING_TO_DO)
    logger.info(logFields, `dataflow ${session.command} finished`);
  else logger.error({ ...logFields, error: errorInfo }, `dataflow ${session.command} failed`);

  for (const close of session.closers.reverse()) {
    await Promise.resolve()
      .then(close)
      .catch((e: unknown) => {
        logger.warn({ err: { message: (e as Error).message } }, 'a session closer failed');
      });
  }
  await session.pool.end().catch(() => undefined);
  await session.metaPool?.end().catch(() => undefined);
  await session.embedded?.release().catch((e: unknown) => {
    logger.warn({ err: { message: (e as Error).message } }, 'could not stop the embedded PostgreSQL');
  });
  // Logs first, then the summary: Airflow's BashOperator pushes the LAST stdout line to XCom.
  await logger.flush();
  const line = invocation.io.stdoutIsTTY ? formatSummaryText(summary) : JSON.stringify(summary);
  invocation.io.stdout.write(`${redactor.redact(line)}\n`);
  return exitCode;
}

/** Throws CliError ABORTED if the invocation was interrupted. */
export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new CliError('ABORTED', `interrupted by ${String(signal.reason)}`);
}
