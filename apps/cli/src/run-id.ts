import { randomBytes } from 'node:crypto';

/**
 * A sortable, unique run id: `YYYYMMDDTHHMMSSZ-<hex>`.
 *
 * @example
 * newRunId(new Date('2026-05-01T00:01:02Z')); // '20260501T000102Z-3f2a9c1d'
 */
export function newRunId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(4).toString('hex')}`;
}
