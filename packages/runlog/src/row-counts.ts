import { quoteIdent } from '@dataflow/pg';
import type { SqlQuery } from './statuses.js';

/** One row count of a dataset at a stage, for `RunLog.recordRowCount`. */
export interface RowCountInput {
  runId: string;
  dataset: string;
  partition?: string | undefined;
  /** e.g. `ingested`, `loaded`, `rejected`, `built`. */
  stage: string;
  rows: number;
}

/**
 * The INSERT of one row count. Pure.
 *
 * @example
 * rowCountQuery('dataflow', { runId: 'r1', dataset: 'orders', stage: 'loaded', rows: 5 });
 */
export function rowCountQuery(schema: string, input: RowCountInput): SqlQuery {
  return {
    text: `insert into ${quoteIdent(schema)}.row_counts (run_id, dataset, partition, stage, rows) values ($1, $2, $3, $4, $5)`,
    values: [input.runId, input.dataset, input.partition ?? null, input.stage, input.rows],
  };
}
