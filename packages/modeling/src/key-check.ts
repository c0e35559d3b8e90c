import type pg from 'pg';
import { ModelingError } from './errors.js';
import type { RelationInfo } from './graph.js';
import { planDuplicateKeyCheck, planNullKeyCheck } from './plan.js';

/** Who the checked rows belong to, for the error. */
export interface KeyCheckSubject {
  /** Model or snapshot name, first word of the message. */
  name: string;
  uniqueId?: string;
  file?: string;
  /** Whose rows: `new` (an incremental batch), `source` (a snapshot's source query). */
  rows: 'new' | 'source';
}

/**
 * Fails when rows of `relation` have a NULL in `uniqueKey` or (unless `duplicates` is false)
 * repeat a key: a `ModelingError` (`NULL_UNIQUE_KEY` / `DUPLICATE_UNIQUE_KEY`) naming up to five
 * offending keys (key columns only, never other values), raised before anything is written.
 *
 * @example
 * await assertUniqueKeys(client, temp, ['id'], { name: 'orders', rows: 'new' });
 */
export async function assertUniqueKeys(
  client: pg.ClientBase,
  relation: RelationInfo,
  uniqueKey: string[],
  subject: KeyCheckSubject,
  duplicates = true,
): Promise<void> {
  const where = { node: subject.uniqueId, ...(subject.file ? { file: subject.file } : {}) };
  const nulls = planNullKeyCheck(relation, uniqueKey);
  const count = Number((await client.query<{ n: string }>(nulls.count)).rows[0]?.n ?? 0);
  if (count > 0) {
    const sample = (await client.query(nulls.sample)).rows.map((r) => JSON.stringify(r));
    throw new ModelingError(
      'NULL_UNIQUE_KEY',
      `${subject.name}: ${count} ${subject.rows} row(s) have a NULL in unique_key (${uniqueKey.join(', ')}); offending keys: ${sample.join(', ')}; nothing was written`,
      where,
    );
  }
  if (!duplicates) return;
  const dups = (await client.query(planDuplicateKeyCheck(relation, uniqueKey))).rows;
  if (dups.length > 0) {
    const keys = dups.map((r) => JSON.stringify(Object.fromEntries(uniqueKey.map((k) => [k, r[k]]))));
    throw new ModelingError(
      'DUPLICATE_UNIQUE_KEY',
      `${subject.name}: the ${subject.rows} rows repeat unique_key values (${uniqueKey.join(', ')}): ${keys.join(', ')}; nothing was written`,
      where,
    );
  }
}
