import { randomBytes } from 'node:crypto';

/**
 * A fresh window partition name for an incremental run, `w=<UTC yyyymmddThhmmssSSSZ>-<6 hex>`:
 * the start time to the millisecond makes windows sort by age (two cursor runs of one source are
 * serialised by the lease, so the later one always has the later name; seconds were not enough),
 * the random suffix keeps concurrent runs of different processes apart.
 *
 * @example
 * windowPartition(new Date('2024-05-01T10:15:00.250Z')); // 'w=20240501T101500250Z-3fa9c1'
 */
export function windowPartition(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:.]/g, '');
  return `w=${stamp}-${randomBytes(3).toString('hex')}`;
}
