// Imported by the bin on every invocation: keep it free of pg, zod and the libraries.
import { parseDurationMs } from './duration.js';

/** How long after SIGTERM/SIGINT the process exits whatever the database does. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 20_000;

/** What {@link installSignalHandlers} needs from the process (injected by tests). */
export interface SignalProcess {
  on(event: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
  exit(code: number): never;
  stderr: { write(chunk: string): unknown };
  env: Record<string, string | undefined>;
}

/**
 * SIGTERM (Airflow killing a task) and SIGINT (Ctrl-C) abort every library call through one
 * signal; the command cancels its server work, records the run as aborted and exits 143 / 130.
 * If that has not happened within the grace period (`DATAFLOW_SHUTDOWN_GRACE`, default 20s) —
 * a frozen server, a dead network — the process exits anyway and says so on stderr. A second
 * signal exits at once.
 *
 * @example
 * const controller = new AbortController();
 * installSignalHandlers(controller, process);
 */
export function installSignalHandlers(controller: AbortController, proc: SignalProcess): void {
  const graceMs = parseDurationMs(proc.env.DATAFLOW_SHUTDOWN_GRACE ?? '') ?? DEFAULT_SHUTDOWN_GRACE_MS;
  const onSignal = (signal: 'SIGTERM' | 'SIGINT') => {
    const code = signal === 'SIGTERM' ? 143 : 130;
    if (controller.signal.aborted) proc.exit(code);
    controller.abort(signal);
    setTimeout(() => {
      proc.stderr.write(
        `dataflow: ${signal}: PostgreSQL did not answer within ${graceMs / 1000}s; exiting ${code} without recording the end of the run (the next run or \`dataflow runs\` marks it abandoned)\n`,
      );
      proc.exit(code);
    }, graceMs).unref();
  };
  proc.on('SIGTERM', () => onSignal('SIGTERM'));
  proc.on('SIGINT', () => onSignal('SIGINT'));
}
