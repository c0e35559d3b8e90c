import { qualify } from '@dataflow/pg';
import type pg from 'pg';
import { WarehouseError } from './errors.js';
import { buildNextLoadIdQuery, LOADS_TABLE } from './partition-sql.js';
import type { Disposition, LoadStamp } from './sql.js';

/**
 * Reserves the load's id in `<schema>._dataflow_loads` and fixes its timestamp (the server's
 * `now()`), the constants every row of the load carries. The load's row itself is inserted by
 * the publish transaction.
 *
 * @example
 * const stamp = await reserveLoad(client, 'raw', '2024-01-01'); // { loadId: 7, … }
 */
export async function reserveLoad(
  client: pg.ClientBase,
  schema: string,
  partitionDate: string,
): Promise<LoadStamp> {
  const query = buildNextLoadIdQuery(schema);
  const { rows } = await client.query<{ id: number; at: string }>(query.sql, query.parameters);
  const row = rows[0] as { id: number; at: string };
  return { loadId: row.id, partitionDate, loadedAt: row.at };
}

const replaces = (disposition: string) => disposition === 'replace' || disposition === 'replace_partition';

/**
 * Two sources mapped to one table would replace each other's partitions: refuse a load when
 * another source has loaded the table and either side replaces (appending and merging sources
 * may share a table).
 *
 * @example
 * await checkSourceOwnership(client, 'raw', 'raw_orders', 'orders', 'replace_partition');
 */
export async function checkSourceOwnership(
  client: pg.ClientBase,
  schema: string,
  table: string,
  source: string,
  disposition: Disposition,
): Promise<void> {
  const { rows } = await client.query<{ source: string; disposition: string }>(
    `SELECT source, disposition FROM ${qualify(schema, LOADS_TABLE)}
      WHERE table_name = $1 AND source <> $2 ORDER BY load_id DESC LIMIT 1`,
    [table, source],
  );
  const other = rows[0];
  if (other && (replaces(disposition) || replaces(other.disposition))) {
    throw new WarehouseError(
      'INVALID_OPTIONS',
      `${schema}.${table} is already loaded by source ${JSON.stringify(other.source)} (${other.disposition}); ` +
        `source ${JSON.stringify(source)} (${disposition}) would replace its rows: map each source to its own table`,
      { table },
    );
  }
}
