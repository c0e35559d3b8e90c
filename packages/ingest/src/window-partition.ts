import { randomBytes } from 'node:crypto';

/**
 * A fresh window partition name for an incremental run, `w=<UTC yyyymmddThhmmssZ>-<6 hex>`: the
 * start time makes windows sort by age, the random suffix keeps two runs in one second apart.
 *
 * @example
 * windowPartition(new Date('2024-05-01T10:15:00Z')); // 'w=20240501T101500Z-3fa9c1'
 */
export function windowPartition(now: Date = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `w=${stamp}-${randomBytes(3).toString('hex')}`;
}
