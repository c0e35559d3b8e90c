import type { Redactor, RunLog, RunLogger } from '@dataflow/runlog';
import type { z } from 'zod';
import { type FlagDefs, type PositionalDef, parseFlags, type RawFlags } from './args.js';
import type { LoadedProject } from './config/load.js';
import { CliError, isCliError } from './errors.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import type { CliIo } from './io.js';
import type { Terminal } from './output/terminal.js';
import { newRunId } from './run-id.js';
import type { Session } from './session.js';

/** What every command gets from `runCli`: its I/O, environment and the abort signal. */
export interface Invocation {
  argv: string[];
  cwd: string;
  env: Record<string, string | undefined>;
  io: CliIo;
  signal: AbortSignal;
  /** Secrets known so far (env, then the project's); everything printed goes through it. */
  redactor: Redactor;
  /** Route `process.emitWarning` through the command's logger (the real process: yes). */
  captureWarnings: boolean;
}

/**
 * What a command needs opened before it runs, each level including the previous one:
 * `nothing`; `project` (the configuration); `runlog` (a connection to the run log, embedded
 * PostgreSQL when no URL is configured); `session` (a recorded run: warehouse pool, run row,
 * and the JSON summary line on every exit).
 */
export type Needs = 'nothing' | 'project' | 'runlog' | 'session';

/** What every command's `run` receives. */
export interface BaseContext<A> {
  args: A;
  invocation: Invocation;
  logger: RunLogger;
  runId: string;
}
export interface ProjectContext<A> extends BaseContext<A> {
  project: LoadedProject;
}
export interface RunLogContext<A> extends ProjectContext<A> {
  runLog: RunLog;
}
export interface SessionContext<A> extends ProjectContext<A> {
  session: Session;
}
/** The context for a level of {@link Needs}. */
export type ContextFor<A, N extends Needs> = N extends 'session'
  ? SessionContext<A>
  : N extends 'runlog'
    ? RunLogContext<A>
    : N extends 'project'
      ? ProjectContext<A>
      : BaseContext<A>;

/** A command as written: flags, schema, needs, and what it does. */
export interface CommandSpec<A, N extends Needs> {
  name: string;
  /** Flags this command uses (and `--help` lists), nothing more. */
  flags: FlagDefs;
  positionals?: readonly PositionalDef[];
  /** Shown under EXAMPLES in `--help`. */
  examples: readonly string[];
  /**
   * Types the parsed flags (positionals as `_`), once: a zod schema, or a function that throws
   * CliError USAGE (exit 2) — the hot pipeline commands use one so they never load zod.
   */
  args: z.ZodType<A> | ((flags: RawFlags & { _: string[] }) => A);
  needs: N;
  /** Log level when neither `--log-level` nor `DATAFLOW_LOG_LEVEL` says (default: info, warn in text output). */
  quietLogs?: boolean;
  /**
   * Checks the arguments against the project before anything is opened (a `--source` that names
   * no source is a usage error, not a recorded failure); throws CliError.
   */
  check?(ctx: ProjectContext<A>): void;
  /** Does the work; returns the exit code (default 0) or throws. */
  run(ctx: ContextFor<A, N>): Promise<ExitCode | undefined>;
}

/** A command as `runCli` sees it. */
export interface CliCommand {
  name: string;
  flags: FlagDefs;
  positionals: readonly PositionalDef[];
  examples: readonly string[];
  /** Runs the whole lifecycle; never throws; resolves with the exit code. */
  execute(invocation: Invocation, argv: readonly string[]): Promise<ExitCode>;
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Defines a command that runs through the one lifecycle every command shares: parse the flags
 * once with the command's schema → logger (process warnings routed through it) → project and
 * its secrets → run log or recorded session when asked → run → one redacted error line and the
 * exit code by family → the JSON summary line (recorded commands, on every exit) → cleanup.
 *
 * @example
 * export const compileCommand = defineCommand({
 *   name: 'compile', flags: projectFlags, examples: ['dataflow compile'],
 *   args: z.object({ project: z.string().optional() }), needs: 'project',
 *   async run({ project }) { … return EXIT.OK; },
 * });
 */
export function defineCommand<A, N extends Needs>(spec: CommandSpec<A, N>): CliCommand {
  return {
    name: spec.name,
    flags: spec.flags,
    positionals: spec.positionals ?? [],
    examples: spec.examples,
    execute: (invocation, argv) => executeCommand(spec, invocation, argv),
  };
}

/** What the lifecycle has opened so far, closed in reverse order whatever happens. */
interface Opened {
  logger?: RunLogger;
  terminal?: Terminal;
  session?: Session;
  closers: Array<() => unknown>;
}

async function executeCommand<A, N extends Needs>(
  spec: CommandSpec<A, N>,
  invocation: Invocation,
  argv: readonly string[],
): Promise<ExitCode> {
  const runId = newRunId();
  const opened: Opened = { closers: [] };
  const startedAt = performance.now();
  let outcome: { exitCode: ExitCode } | { error: unknown };
  try {
    const { flags, positionals } = parseFlags(argv, spec.flags, spec.positionals);
    const args = parseArgs(spec.args, { ...flags, _: positionals });
    const logger = await openLogger(spec, invocation, runId, flags, opened);
    const ctx = await openContext(spec, { args, invocation, logger, runId }, flags, opened);
    outcome = { exitCode: (await spec.run(ctx as ContextFor<A, N>)) ?? EXIT.OK };
  } catch (error) {
    outcome = { error };
  }
  try {
    // A recorded run ends in its session (run row, summary); anything earlier is reported here.
    if (opened.session) {
      const { closeSession } = await import('./session.js');
      return 'error' in outcome
        ? await closeSession(opened.session, outcome.error)
        : await closeSession(opened.session, undefined, outcome.exitCode);
    }
    if ('error' in outcome) {
      return await reportFailure(spec, invocation, {
        runId,
        error: outcome.error,
        startedAt,
        logger: opened.logger,
        format: opened.terminal?.mode.format,
      });
    }
    return outcome.exitCode;
  } finally {
    await closeAll(opened);
  }
}

/** Types the flags; a zod schema's first issue becomes `--flag: message` (exit 2). */
function parseArgs<A>(
  schema: z.ZodType<A> | ((flags: RawFlags & { _: string[] }) => A),
  raw: RawFlags & { _: string[] },
): A {
  if (typeof schema === 'function') return schema(raw);
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const key = issue?.path[0];
  const where = key === '_' ? 'argument' : key !== undefined ? `--${String(key)}` : 'arguments';
  throw new CliError('USAGE', `${where}: ${issue?.message ?? 'invalid'}`);
}

async function openLogger(
  spec: CommandSpec<unknown, Needs>,
  invocation: Invocation,
  runId: string,
  flags: RawFlags,
  opened: Opened,
): Promise<RunLogger> {
  const requested = flags['log-level'] ?? invocation.env.DATAFLOW_LOG_LEVEL;
  if (requested !== undefined && !LOG_LEVELS.includes(requested as LogLevel)) {
    throw new CliError(
      'USAGE',
      `--log-level: expected one of ${LOG_LEVELS.join('|')}, got ${JSON.stringify(requested)}`,
    );
  }
  const [{ createLogger }, { snakeCaseLogger }, { resolveLogFormat, resolveOutputMode }, { createTerminal }] =
    await Promise.all([
      import('@dataflow/runlog'),
      import('./snake-case.js'),
      import('./output/mode.js'),
      import('./output/terminal.js'),
    ]);
  const { io, env } = invocation;
  const format = resolveLogFormat(flags['log-format'], env, io.stderrIsTTY);
  // In text the result lines, the bars and the summary tell the story; logs from warn up.
  const level =
    (requested as LogLevel | undefined) ?? (format === 'text' || spec.quietLogs ? 'warn' : 'info');
  const mode = resolveOutputMode({ flag: format, env, stderrIsTTY: io.stderrIsTTY, level });
  const terminal = createTerminal(io.stderr, mode, invocation.redactor);
  opened.terminal = terminal;
  opened.closers.push(() => terminal.stop());
  const logger = snakeCaseLogger(
    createLogger({
      runId,
      level,
      destination: terminal.logSink,
      redactor: invocation.redactor,
      bindings: { command: spec.name },
    }),
  );
  opened.logger = logger;
  opened.closers.push(() => logger.flush());
  if (invocation.captureWarnings) {
    const { routeProcessWarnings } = await import('./process-warnings.js');
    opened.closers.push(routeProcessWarnings(logger));
  }
  return logger;
}

async function openContext(
  spec: CommandSpec<unknown, Needs>,
  base: BaseContext<unknown>,
  flags: RawFlags,
  opened: Opened,
): Promise<BaseContext<unknown>> {
  if (spec.needs === 'nothing') return base;
  const { invocation } = base;
  const { loadProject } = await import('./config/load.js');
  const projectDir = typeof flags.project === 'string' ? flags.project : '.';
  const project = await loadProject(projectDir, invocation.env, invocation.cwd);
  for (const secret of project.secrets) invocation.redactor.add(secret);
  const withProject: ProjectContext<unknown> = { ...base, project };
  spec.check?.(withProject);
  if (spec.needs === 'project') return withProject;
  if (spec.needs === 'runlog') {
    const { openRunLog } = await import('./database.js');
    const { runLog, close } = await openRunLog(project, base.logger, invocation.signal, invocation.redactor);
    opened.closers.push(close);
    const withRunLog: RunLogContext<unknown> = { ...withProject, runLog };
    return withRunLog;
  }
  const { openSession } = await import('./session.js');
  const days = (base.args as { days?: import('./interval.js').DayInterval[] }).days ?? [];
  opened.session = await openSession(invocation, spec.name, {
    runId: base.runId,
    logger: base.logger,
    project,
    days,
    terminal: opened.terminal as Terminal,
  });
  const withSession: SessionContext<unknown> = { ...withProject, session: opened.session };
  return withSession;
}

/**
 * A failure before a run was recorded (usage, configuration, connection): one redacted line on
 * stderr, the YAML code frame under it when there is one, and for recorded commands the summary
 * line anyway (Airflow reads it from XCom on every exit).
 */
async function reportFailure(
  spec: CommandSpec<unknown, Needs>,
  invocation: Invocation,
  failure: {
    runId: string;
    error: unknown;
    startedAt: number;
    logger: RunLogger | undefined;
    format: 'text' | 'json' | undefined;
  },
): Promise<ExitCode> {
  const { error } = failure;
  const abortReason = invocation.signal.aborted ? invocation.signal.reason : undefined;
  const exitCode =
    isCliError(error) && abortReason === undefined
      ? error.exitCode
      : (await import('./exit-mapping.js')).exitCodeFor(error, abortReason);
  const { redactor, io } = invocation;
  const message =
    redactor.redact(error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
  const detail = isCliError(error) && error.detail ? `${redactor.redact(error.detail)}\n` : '';
  io.stderr.write(`dataflow ${spec.name}: ${message}\n${detail}`);
  if (spec.needs === 'session') {
    await failure.logger?.flush();
    const { printSummary } = await import('./summary.js');
    printSummary(invocation, {
      runId: failure.runId,
      command: spec.name,
      exitCode,
      durationMs: performance.now() - failure.startedAt,
      error,
      format: failure.format,
    });
  }
  return exitCode;
}

async function closeAll(opened: Opened): Promise<void> {
  for (const close of opened.closers.reverse()) {
    try {
      await close();
    } catch (error) {
      // The outcome is decided; a failing close is only worth a line.
      opened.logger?.warn({ err: { message: (error as Error).message } }, 'cleanup step failed');
    }
  }
}
