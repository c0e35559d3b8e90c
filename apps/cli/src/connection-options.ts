import { z } from 'zod';
import { parseDurationMs } from './duration.js';

export { poolTimeouts, TIMEOUT_ENV, type WarehouseTimeouts } from './pool-timeouts.js';
// The zod half of the warehouse timeouts (the config schema's keys); what the pool needs at run
// time is in `pool-timeouts.ts`, which the load path imports without zod.
export { parseDurationMs };

const duration = z
  .union([z.number(), z.string()])
  .refine((v) => parseDurationMs(v) !== undefined, {
    message: 'expected a duration: milliseconds, or a number with ms|s|min|h (e.g. 30s, 10min)',
  })
  .transform((v) => parseDurationMs(v) ?? 0);

/** The `warehouse:` keys that bound every wait on PostgreSQL (merged into the config schema). */
export const warehouseTimeoutFields = {
  /** Give up connecting after this long. Default 10s. */
  connect_timeout: duration.optional(),
  /** Server-side limit on one statement. Default 6h; 0 = none. */
  statement_timeout: duration.optional(),
  /** Server-side limit on waiting for a lock (advisory locks included). Default 10min; 0 = none. */
  lock_timeout: duration.optional(),
};
