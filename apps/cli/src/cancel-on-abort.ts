import { backendPids, cancelBackends } from '@dataflow/pg';
import type pg from 'pg';

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
