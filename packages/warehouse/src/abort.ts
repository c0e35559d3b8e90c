import { WarehouseError } from './errors.js';

/**
 * Throws ABORTED when `signal` has fired, naming what was interrupted.
 *
 * @example
 * throwIfAborted(options.signal, 'loading raw_orders');
 */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new WarehouseError('ABORTED', `${what}: aborted`, { cause: signal.reason });
}
