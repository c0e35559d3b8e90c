import { inTransaction, runRelationName, sqlStateOf } from '@dataflow/pg';
import type pg from 'pg';
import type { Logger } from './lake.js';

/** The run-relation kind of a partition a swap detached: `<table>__df_old_<runtoken>_<loadId>_<i>`. */
export const RETIRED_KIND = 'old';

/**
 * Name a swap gives the partition it detaches, inside the swap transaction, so that once the
 * swap commits the old day is a plain table nobody references, recognisable by name alone: the
 * load drops it after its commit, and should the process die first, the next load into the
 * schema does ({@link sweepRetiredPartitions}). Unique per load (`loadId`) and per detached
 * partition (`index`, several for `replace`). Pure.
 *
 * @example
 * retiredPartitionName('raw_orders', 'run-42', 7, 0); // 'raw_orders__df_old_<token>_7_0'
 */
export function retiredPartitionName(table: string, runId: string, loadId: number, index: number): string {
  return runRelationName(table, RETIRED_KIND, runId, `${loadId}_${index}`);
}

/**
 * The plain tables of `schema` named as retired partitions: every one is garbage, since only a
 * committed swap makes one (an uncommitted rename is invisible to this catalog read).
 */
export function buildListRetiredQuery(schema: string): { sql: string; parameters: unknown[] } {
  return {
    sql:
      "SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c " +
      'JOIN pg_namespace n ON n.oid = c.relnamespace ' +
      "WHERE n.nspname = $1 AND c.relkind = 'r' AND NOT c.relispartition " +
      `AND c.relname ~ '__df_${RETIRED_KIND}_[0-9a-f]{10}_[0-9]+_[0-9]+$' ORDER BY c.relname`,
    parameters: [schema],
  };
}

/**
 * Drops retired partitions (qualified names) in one statement of its own transaction, waiting at
 * most `lockTimeoutMs` for their locks (a reader whose snapshot predates the swap may still hold
 * one). Never throws: the swap has committed, so a drop that fails or times out only leaves the
 * tables for the next sweep, with a log line. Resolves whether they were dropped.
 *
 * @example
 * await dropRetiredPartitions(client, ['"raw"."raw_orders__df_old_0123456789_7_0"'], 1000, log);
 */
export async function dropRetiredPartitions(
  client: pg.ClientBase,
  names: readonly string[],
  lockTimeoutMs: number,
  log: Logger,
): Promise<boolean> {
  if (names.length === 0) return true;
  try {
    await inTransaction(client, async () => {
      await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.round(lockTimeoutMs))}`);
      await client.query(`DROP TABLE IF EXISTS ${names.join(', ')}`);
    });
    return true;
  } catch (error) {
    log.warn(
      { retired: names, sqlState: sqlStateOf(error), err: { message: (error as Error).message } },
      'could not drop the replaced partition yet; the next load into the schema drops it',
    );
    return false;
  }
}

/**
 * Drops what loads killed between their swap's commit and their drop left in `schema`
 * (retired partitions, see {@link retiredPartitionName}). One catalog read when there is
 * nothing to do. Never throws (see {@link dropRetiredPartitions}).
 *
 * @example
 * await sweepRetiredPartitions(client, 'raw', 1000, log);
 */
export async function sweepRetiredPartitions(
  client: pg.ClientBase,
  schema: string,
  lockTimeoutMs: number,
  log: Logger,
): Promise<string[]> {
  const query = buildListRetiredQuery(schema);
  const { rows } = await client.query<{ name: string }>(query.sql, query.parameters);
  const dropped: string[] = [];
  // One at a time: a table another load is dropping right now must not hold up the others.
  for (const { name } of rows) {
    if (await dropRetiredPartitions(client, [name], lockTimeoutMs, log)) dropped.push(name);
  }
  if (dropped.length > 0) log.info({ schema, dropped }, 'dropped partitions replaced by killed loads');
  return dropped;
}
