import { backendPids, cancelBackends } from '@dataflow/pg';
import type pg from 'pg';
import { parseDurationMs } from './connection-options.js';

/** How long after SIGTERM/SIGINT the process exits whatever the database does. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 20_000;

interface WarnLogger {
  warn(obj: object, msg?: string): void;
}

/** Options of {@link cancelServerWorkOnAbort}. */
export interface CancelOnAbortOptions {
  /** The pools whose connections run this invocation's work. */
  pools: readonly pg.Pool[];
  /** Where to open the separate connection that sends `pg_cancel_backend`. */
  connectionString: string;
  logger: WarnLogger;
  /** Bound on connecting and cancelling. Default 5 s. */
  timeoutMs?: number;
}

/**
 * When `signal` aborts (SIGTERM/SIGINT), cancels whatever every connection of the pools is running
 * (a COPY, a model build, a lock wait: any statement), from a connection of its own, so the
 * libraries see 57014 and unwind through their normal failure paths. Returns the disposer.
 *
 * @example
 * const stop = cancelServerWorkOnAbort(invocation.signal, { pools: [pool], connectionString: url, logger });
 * try { await work(); } finally { stop(); }
 */
export function cancelServerWorkOnAbort(signal: AbortSignal, options: CancelOnAbortOptions): () => void {
  const onAbort = () => {
    const pids = options.pools.flatMap(backendPids);
    cancelBackends(pids, {
      connectionString: options.connectionString,
      timeoutMs: options.timeoutMs ?? 5000,
    }).then(
      ({ cancelled }) =>
        options.logger.warn(
          { backends: pids.length, cancelled: cancelled.length },
          'cancelled the server work of this run',
        ),
      (error: unknown) =>
        options.logger.warn(
          { err: { message: (error as Error).message } },
          'could not cancel the server work of this run: PostgreSQL does not answer',
        ),
    );
  };
  if (signal.aborted) {
    onAbort();
    return () => undefined;
  }
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}

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
