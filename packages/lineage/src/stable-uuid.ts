import { createHash } from 'node:crypto';

// A fixed namespace UUID for dataflow lineage names (RFC 9562 name-based, SHA-1 = version 5).
const NAMESPACE = Buffer.from('3f1c6b0e8a5d4c2e9b7a61d0f4e2c8a1', 'hex');

/**
 * A UUID version 5 of `parts`: the same parts always give the same id, so the START and the
 * COMPLETE event of one job agree without sharing state, and a dataflow run id (not a UUID)
 * maps to one OpenLineage runId.
 *
 * @example
 * stableUuid('20260501T000000Z-1a2b3c4d', 'load', 'orders', '2026-05-01'); // '…-5…-…'
 */
export function stableUuid(...parts: readonly string[]): string {
  const hash = createHash('sha1').update(NAMESPACE).update(parts.join('\u0000')).digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
