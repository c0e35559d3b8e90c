import { didYouMean } from './did-you-mean.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { commandUsage, rootUsage } from './help.js';
import type { CliIo } from './io.js';
import type { Invocation } from './lifecycle.js';
import { COMMANDS } from './registry.js';
import { VERSION } from './version.js';

/** Options of {@link runCli}; everything defaults to the real process. */
export interface RunCliOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  stdout?: { write(chunk: string): unknown; isTTY?: boolean };
  stderr?: { write(chunk: string): unknown; isTTY?: boolean };
  /** Abort the command (SIGTERM/SIGINT in the bin); `signal.reason` 'SIGTERM' exits 143, else 130. */
  signal?: AbortSignal;
  /**
   * Route `process.emitWarning` (the AWS SDK's Node-version notice, …) through the command's
   * logger instead of Node's plain-text print. Default: true when writing to the real stderr.
   */
  captureWarnings?: boolean;
}

/**
 * Runs the `dataflow` CLI in-process and resolves with the exit code (it never calls
 * `process.exit`). The bin is a thin wrapper around it.
 *
 * @example
 * const code = await runCli(['run', '--date', '2026-05-01'], { cwd: '/srv/shop' });
 */
export async function runCli(argv: readonly string[], options: RunCliOptions = {}): Promise<ExitCode> {
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
  const wantsHelp = args.includes('--help') || args.includes('-h');
  if (name === undefined) {
    if (args.includes('--version') || args.includes('-v')) {
      io.stdout.write(`${VERSION}\n`);
      return EXIT.OK;
    }
    io.stdout.write(rootUsage(COMMANDS));
    return wantsHelp ? EXIT.OK : EXIT.USAGE;
  }
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!entry) {
    const hint = didYouMean(name, Object.keys(COMMANDS));
    io.stderr.write(
      `dataflow: unknown command '${name}'${hint ? ` (did you mean '${hint}'?)` : ''}; see dataflow --help\n`,
    );
    return EXIT.USAGE;
  }
  const command = await entry.load();
  if (wantsHelp) {
    io.stdout.write(commandUsage(command, entry.description));
    return EXIT.OK;
  }
  const env = options.env ?? process.env;
  const { createInvocationRedactor } = await import('./session.js');
  const invocation: Invocation = {
    argv: args,
    cwd: options.cwd ?? process.cwd(),
    env,
    redactor: createInvocationRedactor(env),
    io,
    signal: options.signal ?? new AbortController().signal,
    captureWarnings: options.captureWarnings ?? options.stderr === undefined,
  };
  return command.execute(invocation, args.slice(first + 1));
}
