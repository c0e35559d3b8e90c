import { type ArgsDef, type CommandDef, renderUsage, runCommand as runCittyCommand } from 'citty';
import { assertKnownFlags } from './args.js';
import { airflowCommand } from './commands/airflow.js';
import { compileCommand } from './commands/compile.js';
import { initCommand } from './commands/init.js';
import {
  buildCommand,
  ingestCommand,
  loadCommand,
  runCommand,
  seedCommand,
  testCommand,
} from './commands/pipeline.js';
import { runsCommand } from './commands/runs.js';
import { didYouMean } from './config.js';
import { CliError } from './errors.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import type { CliIo } from './io.js';
import { createInvocationRedactor, type Invocation } from './session.js';
import { VERSION } from './version.js';

// biome-ignore lint/suspicious/noExplicitAny: citty's command map is heterogeneous in its args
type AnyCommand = CommandDef<any>;

/** Every subcommand, by name. */
export const commands: Record<string, AnyCommand> = {
  run: runCommand,
  ingest: ingestCommand,
  load: loadCommand,
  seed: seedCommand,
  build: buildCommand,
  test: testCommand,
  compile: compileCommand,
  airflow: airflowCommand,
  runs: runsCommand,
  init: initCommand,
};

/** The root command (for usage rendering). */
export const rootCommand: CommandDef = {
  meta: {
    name: 'dataflow',
    version: VERSION,
    description:
      'Ingest -> load -> model -> test, on PostgreSQL; fits Airflow (exit codes, JSON summary line)',
  },
  args: { version: { type: 'boolean', description: 'Print the version' } },
  subCommands: commands,
};

/** Options of {@link runCli}; everything defaults to the real process. */
export interface RunCliOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  stdout?: { write(chunk: string): unknown; isTTY?: boolean };
  stderr?: { write(chunk: string): unknown; isTTY?: boolean };
  /** Abort the command (SIGTERM/SIGINT in the bin); `signal.reason` 'SIGTERM' exits 143, else 130. */
  signal?: AbortSignal;
}

// citty colours its usage text; output here must stay plain (it may be a log file).
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
const stripAnsi = (s: string) => s.replace(ANSI, '');

/**
 * Runs the `dataflow` CLI in-process and resolves with the exit code (it never calls
 * `process.exit`). The bin is a thin wrapper around it.
 *
 * @example
 * const code = await runCli(['run', '--date', '2026-05-01'], { cwd: '/srv/shop' });
 */
export async function runCli(argv: readonly string[], options: RunCliOptions = {}): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const io: CliIo = {
    stdout,
    stderr,
    stdoutIsTTY: stdout.isTTY === true,
    stderrIsTTY: stderr.isTTY === true,
  };
  const args = [...argv];
  const first = args.findIndex((a) => !a.startsWith('-'));
  const name = first >= 0 ? args[first] : undefined;
  const rest = first >= 0 ? args.slice(first + 1) : [];
  const wantsHelp = args.includes('--help') || args.includes('-h');
  try {
    if (name === undefined) {
      if (args.includes('--version') || args.includes('-v')) {
        io.stdout.write(`${VERSION}\n`);
        return EXIT.OK;
      }
      io.stdout.write(`${stripAnsi(await renderUsage(rootCommand))}\n`);
      return wantsHelp ? EXIT.OK : EXIT.USAGE;
    }
    const command = commands[name];
    if (!command) {
      const hint = didYouMean(name, Object.keys(commands));
      throw new CliError(
        'USAGE',
        `unknown command '${name}'${hint ? ` (did you mean '${hint}'?)` : ''}; see dataflow --help`,
      );
    }
    if (wantsHelp) {
      io.stdout.write(`${stripAnsi(await renderUsage(command, rootCommand))}\n`);
      return EXIT.OK;
    }
    assertKnownFlags(name, rest, (command.args ?? {}) as ArgsDef);
    const env = options.env ?? process.env;
    const invocation: Invocation = {
      argv: args,
      cwd: options.cwd ?? process.cwd(),
      env,
      redactor: createInvocationRedactor(env),
      io,
      signal: options.signal ?? new AbortController().signal,
      exitCode: EXIT.RUNTIME,
    };
    await runCittyCommand(command, { rawArgs: rest, data: { invocation, state: {} } });
    return invocation.exitCode;
  } catch (error) {
    // Usage problems (and citty's own parse errors): one line, no stack trace.
    const message = error instanceof Error ? error.message : String(error);
    io.stderr.write(`dataflow: ${stripAnsi(message).split('\n')[0]}\n`);
    return error instanceof CliError
      ? error.exitCode
      : exitCodeFor(error) === EXIT.RUNTIME
        ? EXIT.USAGE
        : exitCodeFor(error);
  }
}
