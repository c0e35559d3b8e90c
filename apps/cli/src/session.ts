import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { sweepDeadRunRelations } from '@dataflow/pg';
import {
  type AirflowContext,
  createRedactor,
  createRunLog,
  type Redactor,
  type RunLog,
  type RunLogger,
  redactArgs,
} from '@dataflow/runlog';
import type pg from 'pg';
import { cancelServerWorkOnAbort } from './cancel-on-abort.js';
import type { LoadedProject } from './config/load.js';
import type { Database } from './database.js';
import type { EmbeddedPostgresHandle } from './embedded-postgres.js';
import { CliError } from './errors.js';
import { EXIT, type ExitCode, statusForExit } from './exit-codes.js';
import { exitCodeFor } from './exit-mapping.js';
import type { DayInterval } from './interval.js';
import type { Invocation } from './lifecycle.js';
import type { CliLineage } from './lineage.js';
import { openLineageIfRequested } from './lineage-gate.js';
import { createReporter, type RunReporter } from './output/reporter.js';
import type { Terminal } from './output/terminal.js';
import { emptyTotals, errorInfo, printSummary, type RunTotals } from './summary.js';
import { VERSION } from './version.js';

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
  readonly embedded?: EmbeddedPostgresHandle;
  readonly metaPool?: pg.Pool;
  /** Closed at the end of the run, in reverse order (object stores, servers). */
  readonly closers: Array<() => void | Promise<void>>;
  readonly database: Database;
  /** OpenLineage events of this run and its jobs (a no-op when lineage is not configured). */
  readonly lineage: CliLineage;
  /** Result lines, live bars and the end summary (text), or the same facts as JSON log lines. */
  readonly reporter: RunReporter;
  readonly terminal: Terminal;
}

/** A redactor seeded with the secret-bearing environment variables the CLI and SDKs read. */
export function createInvocationRedactor(env: Record<string, string | undefined>): Redactor {
  return createRedactor(
    [
      'AWS_SECRET_ACCESS_KEY',
      'AWS_SESSION_TOKEN',
      'DATAFLOW_DATABASE_URL',
      'PGPASSWORD',
      'OPENLINEAGE_API_KEY',
    ].flatMap((k) => {
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

const intervalOf = (days: readonly DayInterval[]) =>
  days.length > 0 ? { start: days[0]?.start ?? '', end: days.at(-1)?.end ?? '' } : undefined;

/**
 * Opens a recorded run: connects (starting the embedded PostgreSQL when `warehouse.url` is
 * absent), migrates the run log and records the run as running. On failure everything opened so
 * far is closed again.
 */
export async function openSession(
  invocation: Invocation,
  command: string,
  options: {
    runId: string;
    logger: RunLogger;
    project: LoadedProject;
    days: DayInterval[];
    terminal: Terminal;
  },
): Promise<Session> {
  const { runId, logger, project, days, terminal } = options;
  const { redactor } = invocation;
  // Before anything is opened: a bad `lineage:` setting is a configuration error (exit 2).
  const lineage = await openLineageIfRequested({
    config: project.config.lineage,
    env: invocation.env,
    projectDir: project.dir,
    project: project.config.name,
    command,
    runId,
    interval: intervalOf(days),
    logger,
  });
  // Imported here: pg is only for commands that open a session (cli.ts imports this module for
  // its redactor on every command, compile included).
  const { openDatabase } = await import('./database.js');
  const database = await openDatabase(project, logger, invocation.signal);
  if (database.embedded) redactor.add(decodeURIComponent(new URL(database.embedded.url).password));
  const stopCancelling = cancelServerWorkOnAbort(invocation.signal, {
    pools: [database.pool],
    connectionString: database.url,
    logger,
  });
  try {
    const runLog = createRunLog(database.metaPool ?? database.pool, {
      schema: project.config.metadata.schema,
      redactor,
    });
    await runLog.migrate();
    const abandoned = await runLog.abandonDeadRuns();
    if (abandoned.length > 0) logger.warn({ runs: abandoned }, 'marked runs whose process died as abandoned');
    const interval = intervalOf(days);
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
    await sweepLeftovers(database.pool, runLog, logger);
    await lineage.run('START');
    return {
      runId,
      command,
      invocation,
      project,
      redactor,
      logger,
      pool: database.pool,
      runLog,
      days,
      totals: emptyTotals(),
      startedAt: performance.now(),
      closers: [stopCancelling],
      database,
      lineage,
      reporter: createReporter(terminal, logger),
      terminal,
      ...(database.embedded ? { embedded: database.embedded } : {}),
      ...(database.metaPool ? { metaPool: database.metaPool } : {}),
    };
  } catch (error) {
    // The open error is the one to report, not a cleanup failure behind it.
    stopCancelling();
    await database.close();
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
    for (const f of failed) {
      logger.warn(
        { relation: f.relation, err: { message: f.error.message } },
        'could not drop a relation left by a dead run',
      );
    }
  } catch (error) {
    logger.warn(
      { err: { message: (error as Error).message } },
      'could not sweep relations left by dead runs',
    );
  }
}

/**
 * Ends a recorded run: maps the outcome to an exit code, records it in run_history, logs,
 * releases everything, then prints the summary (JSON as the last stdout line when stdout is not
 * a terminal).
 */
export async function closeSession(
  session: Session,
  error: unknown,
  exitCodeWithoutError: ExitCode = EXIT.OK,
): Promise<ExitCode> {
  const { invocation, logger, totals } = session;
  const abortReason = invocation.signal.aborted ? invocation.signal.reason : undefined;
  let exitCode =
    error === undefined && abortReason === undefined ? exitCodeWithoutError : exitCodeFor(error, abortReason);
  try {
    await session.runLog.finishRun(session.runId, {
      status: statusForExit(exitCode),
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
  await session.lineage.run(
    exitCode === EXIT.OK || exitCode === EXIT.NOTHING_TO_DO
      ? 'COMPLETE'
      : abortReason !== undefined
        ? 'ABORT'
        : 'FAIL',
    error,
  );
  const durationMs = performance.now() - session.startedAt;
  const fields = {
    status: statusForExit(exitCode),
    exit_code: exitCode,
    duration_ms: Math.round(durationMs),
  };
  if (exitCode === EXIT.OK || exitCode === EXIT.NOTHING_TO_DO)
    logger.info(fields, `dataflow ${session.command} finished`);
  else {
    logger.error(
      { ...fields, error: errorInfo(error, session.redactor) },
      `dataflow ${session.command} failed`,
    );
  }
  for (const close of [...session.closers].reverse()) {
    await Promise.resolve()
      .then(close)
      .catch((e: unknown) =>
        logger.warn({ err: { message: (e as Error).message } }, 'a session closer failed'),
      );
  }
  await session.database.close();
  // Logs first, then the summary: Airflow's BashOperator pushes the LAST stdout line to XCom.
  session.reporter.finish(durationMs);
  await logger.flush();
  printSummary(invocation, {
    runId: session.runId,
    command: session.command,
    exitCode,
    durationMs,
    totals,
    interval: intervalOf(session.days),
    error,
    format: session.terminal.mode.format,
  });
  return exitCode;
}

/** Throws CliError ABORTED if the invocation was interrupted. */
export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new CliError('ABORTED', `interrupted by ${String(signal.reason)}`);
}
