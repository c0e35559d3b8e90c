import { createPool } from '@dataflow/pg';
import { createLogger, createRunLog, type RunRecord } from '@dataflow/runlog';
import { defineCommand } from 'citty';
import type pg from 'pg';
import { projectArgs } from '../args.js';
import { loadProject } from '../config.js';
import { poolTimeouts } from '../connection-options.js';
import { acquireEmbeddedPostgres, type EmbeddedPostgresHandle } from '../embedded-postgres.js';
import { CliError } from '../errors.js';
import { exitCodeFor } from '../exit-codes.js';
import { println } from '../io.js';
import { type Invocation, newRunId } from '../session.js';

/** The JSON shape `dataflow runs --json` prints per run. */
export function runToJson(r: RunRecord) {
  return {
    run_id: r.runId,
    command: r.command,
    status: r.status,
    exit_code: r.exitCode,
    interval: r.intervalStart ? { start: r.intervalStart, end: r.intervalEnd } : null,
    started_at: r.startedAt.toISOString(),
    ended_at: r.endedAt?.toISOString() ?? null,
    duration_ms: r.durationMs,
    rows_in: r.rowsIn,
    rows_loaded: r.rowsOut,
    rows_rejected: r.rowsRejected,
    error: r.errorMessage ? { class: r.errorClass, code: r.errorCode, message: r.errorMessage } : null,
    airflow: r.airflow.dagId ? r.airflow : null,
  };
}

/** Fixed-width table for a terminal. */
export function formatRunsTable(runs: RunRecord[]): string {
  const header = [
    'RUN ID',
    'COMMAND',
    'STATUS',
    'EXIT',
    'INTERVAL',
    'STARTED',
    'SECONDS',
    'ROWS IN',
    'LOADED',
    'REJECTED',
  ];
  const rows = runs.map((r) => [
    r.runId,
    r.command,
    r.status,
    r.exitCode === null ? '' : String(r.exitCode),
    r.intervalStart ?? '',
    r.startedAt.toISOString().replace('T', ' ').slice(0, 19),
    r.durationMs === null ? '' : (r.durationMs / 1000).toFixed(1),
    String(r.rowsIn),
    String(r.rowsOut),
    String(r.rowsRejected),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** `dataflow runs`: recent run history (not itself recorded). `--run ID` shows one run's steps. */
export const runsCommand = defineCommand({
  meta: { name: 'runs', description: 'Recent runs from the run log (table, or --json)' },
  args: {
    ...projectArgs,
    json: { type: 'boolean', description: 'Print JSON' },
    limit: { type: 'string', description: 'How many runs (default 20)', valueHint: 'N' },
    run: {
      type: 'string',
      description: 'Show one run with its steps, row counts and test results',
      valueHint: 'RUN_ID',
    },
  },
  async run(ctx) {
    const invocation = (ctx.data as { invocation: Invocation }).invocation;
    const { redactor } = invocation;
    const logger = createLogger({
      runId: newRunId(),
      pretty: invocation.io.stderrIsTTY,
      destination: invocation.io.stderr,
      redactor,
      bindings: { command: 'runs' },
      level: ((ctx.args['log-level'] as string | undefined) ?? 'warn') as 'warn',
    });
    let embedded: EmbeddedPostgresHandle | undefined;
    let pool: pg.Pool | undefined;
    try {
      const limit = ctx.args.limit === undefined ? 20 : Number(ctx.args.limit);
      if (!Number.isInteger(limit) || limit < 1)
        throw new CliError('USAGE', '--limit: expected a positive integer');
      const project = await loadProject(
        (ctx.args.project as string | undefined) ?? '.',
        invocation.env,
        invocation.cwd,
      );
      for (const s of project.secrets) redactor.add(s);
      let url = project.config.metadata.url ?? project.config.warehouse.url;
      if (!url) {
        embedded = await acquireEmbeddedPostgres(project.dir, { log: logger, signal: invocation.signal });
        url = embedded.url;
      }
      pool = createPool({
        connectionString: url,
        max: 2,
        ...poolTimeouts(project.config.warehouse, invocation.env),
        // An idle client losing its connection must not crash the process; the next query fails instead.
        onIdleError: (error) =>
          logger.warn({ err: { message: error.message } }, 'idle PostgreSQL client error'),
      });
      const runLog = createRunLog(pool, { schema: project.config.metadata.schema, redactor });
      await runLog.migrate();
      // Runs whose process died (SIGKILL, lost database) are listed as what they are.
      await runLog.abandonDeadRuns();
      if (typeof ctx.args.run === 'string') {
        const run = await runLog.getRun(ctx.args.run);
        if (!run) throw new CliError('USAGE', `no run ${ctx.args.run} in the run log`);
        if (ctx.args.json) {
          println(
            invocation.io,
            JSON.stringify({
              ...runToJson(run),
              jobs: run.jobs,
              row_counts: run.rowCounts,
              // Stored redacted; redacted again for rows written before test SQL was.
              test_results: redactor.redactValue(run.testResults),
            }),
          );
        } else {
          println(invocation.io, formatRunsTable([run]));
          println(invocation.io);
          for (const j of run.jobs) {
            const target = j.target.length > 40 ? `${j.target.slice(0, 39)}…` : j.target;
            const cells = [
              j.step.padEnd(6),
              target.padEnd(40),
              (j.partition ?? '').padEnd(10),
              j.status.padEnd(8),
              `${((j.durationMs ?? 0) / 1000).toFixed(1)}s`.padStart(7),
              j.rowsOut === null ? '' : `${j.rowsOut} rows`,
            ];
            const error = j.errorMessage ? `  ${j.errorMessage.split('\n')[0]}` : '';
            println(invocation.io, `${cells.join(' ').trimEnd()}${error}`);
          }
        }
      } else {
        const runs = await runLog.listRuns({ limit });
        println(invocation.io, ctx.args.json ? JSON.stringify(runs.map(runToJson)) : formatRunsTable(runs));
      }
      invocation.exitCode = 0;
    } catch (error) {
      invocation.io.stderr.write(
        `dataflow runs: ${redactor.redact((error as Error).message).split('\n')[0]}\n`,
      );
      invocation.exitCode = exitCodeFor(error);
    } finally {
      // Cleanup must not replace the outcome already printed; a failure is only worth a warning.
      await pool?.end().catch(() => undefined);
      await embedded?.release().catch((e: unknown) => {
        logger.warn({ err: { message: (e as Error).message } }, 'could not stop the embedded PostgreSQL');
      });
      await logger.flush();
    }
  },
});
