import {
  captureDependentViews,
  dropDependentViewsSql,
  quoteIdent,
  recreateDependentViewsSql,
} from '@dataflow/pg';
import type pg from 'pg';
import type { Logger } from './lake.js';
import { pgTypeOf, type TypeChange } from './record-types.js';

/**
 * One `ALTER TABLE` changing the columns' types, each converted by a cast (every widening
 * dataflow makes has one: integer → bigint → numeric, date → timestamp → timestamptz, any → text).
 *
 * @example
 * buildAlterColumnTypesSql('"raw"."raw_rates"', [{ column: 'rate', from: 'integer', to: 'numeric' }]);
 * // ALTER TABLE "raw"."raw_rates" ALTER COLUMN "rate" TYPE numeric USING "rate"::numeric
 */
export function buildAlterColumnTypesSql(qualified: string, changes: readonly TypeChange[]): string {
  const parts = changes.map((c) => {
    const type = pgTypeOf(c.to);
    return `ALTER COLUMN ${quoteIdent(c.column)} TYPE ${type} USING ${quoteIdent(c.column)}::${type}`;
  });
  return `ALTER TABLE ${qualified} ${parts.join(', ')}`;
}

/**
 * Widens columns inside the caller's transaction. Views on the table (the `stg_*` models) block
 * `ALTER COLUMN TYPE`, so they are captured with their grants and comments, dropped, and
 * recreated after the change: readers see the old or the new shape, never a missing view.
 *
 * @example
 * await inTransaction(client, () => widenColumns(client, '"raw"."raw_rates"', changes, log));
 */
export async function widenColumns(
  client: pg.ClientBase,
  qualified: string,
  changes: readonly TypeChange[],
  log: Logger,
): Promise<void> {
  const { rows } = await client.query<{ path: string }>(`SELECT current_setting('search_path') AS path`);
  // Capturing sets search_path to '' for the rest of the transaction (qualified definitions).
  const views = await captureDependentViews(client, qualified);
  for (const sql of dropDependentViewsSql(views)) await client.query(sql);
  await client.query(buildAlterColumnTypesSql(qualified, changes));
  for (const sql of recreateDependentViewsSql(views)) await client.query(sql);
  await client.query(`SELECT set_config('search_path', $1, true)`, [rows[0]?.path ?? '']);
  log.info(
    {
      table: qualified,
      widened: changes.map((c) => ({ column: c.column, from: c.from, to: pgTypeOf(c.to) })),
      views: views.map((v) => `${v.schema}.${v.name}`),
    },
    'schema evolved: widened column types',
  );
}
