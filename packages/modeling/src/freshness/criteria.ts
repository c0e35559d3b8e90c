import { quoteIdent } from '@dataflow/pg';
import type { SourceNode } from '../graph.js';

/** A freshness window as dbt writes it. */
export interface FreshnessWindow {
  count: number;
  period: 'minute' | 'hour' | 'day';
}

/** A source table's resolved freshness rule. */
export interface FreshnessCriteria {
  warnAfter?: FreshnessWindow;
  errorAfter?: FreshnessWindow;
  /** SQL condition limiting the rows whose `loaded_at_field` counts (dbt's `filter`). */
  filter?: string;
  loadedAtField: string;
}

const PERIODS = new Set(['minute', 'hour', 'day']);
const isRecord = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v);

function windowOf(key: string, value: unknown, problems: string[]): FreshnessWindow | undefined {
  // dbt: a window with `count: null` (or no window) is no rule at that level.
  if (value === undefined || value === null || (isRecord(value) && value.count === null)) return undefined;
  if (!isRecord(value)) {
    problems.push(`${key} must be { count, period }`);
    return undefined;
  }
  const { count, period } = value;
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count <= 0)
    problems.push(`${key}.count must be a positive integer`);
  if (typeof period !== 'string' || !PERIODS.has(period))
    problems.push(`${key}.period must be minute, hour or day`);
  return problems.length > 0
    ? undefined
    : { count: count as number, period: period as FreshnessWindow['period'] };
}

/**
 * A source's freshness rule from its `freshness:` block (table level, else source level; dbt ≥ 1.9's
 * `config:` form already merged at parse): `undefined` when it has none; a problem when it is
 * malformed or no `loaded_at_field` says which column holds the load time.
 *
 * @example
 * freshnessCriteria({ ...source, freshness: { warn_after: { count: 12, period: 'hour' } }, loadedAtField: '_loaded_at' });
 * // { criteria: { warnAfter: { count: 12, period: 'hour' }, loadedAtField: '_loaded_at' } }
 */
export function freshnessCriteria(
  node: Pick<SourceNode, 'freshness' | 'loadedAtField'>,
): { criteria?: FreshnessCriteria; problem?: string } | undefined {
  const raw = node.freshness;
  if (!raw) return undefined;
  const problems: string[] = [];
  const warnAfter = windowOf('warn_after', raw.warn_after, problems);
  const errorAfter = windowOf('error_after', raw.error_after, problems);
  if (problems.length > 0) return { problem: `freshness: ${problems.join('; ')}` };
  if (!warnAfter && !errorAfter) return undefined;
  if (raw.filter !== undefined && raw.filter !== null && typeof raw.filter !== 'string')
    return { problem: 'freshness: filter must be an SQL condition' };
  if (!node.loadedAtField)
    return { problem: 'freshness needs loaded_at_field (the column holding the load time)' };
  return {
    criteria: {
      ...(warnAfter ? { warnAfter } : {}),
      ...(errorAfter ? { errorAfter } : {}),
      ...(typeof raw.filter === 'string' && raw.filter.trim() ? { filter: raw.filter.trim() } : {}),
      loadedAtField: node.loadedAtField,
    },
  };
}

/**
 * The newest load time and the check time, for the age every result reports (dbt's
 * `max_loaded_at`, `snapshotted_at`).
 *
 * @example
 * planFreshnessAge('"analytics"."raw_orders"', { loadedAtField: '_loaded_at', filter: "status <> 'test'" });
 * // 'select max(q."_loaded_at")::timestamptz as max_loaded_at, current_timestamp as snapshotted_at\nfrom (select * from "analytics"."raw_orders" where status <> \'test\') as q'
 */
export function planFreshnessAge(
  relationSql: string,
  criteria: Pick<FreshnessCriteria, 'loadedAtField' | 'filter'>,
): string {
  const from = criteria.filter
    ? `(select * from ${relationSql} where ${criteria.filter})`
    : `(select * from ${relationSql})`;
  return `select max(q.${quoteIdent(criteria.loadedAtField)})::timestamptz as max_loaded_at, current_timestamp as snapshotted_at\nfrom ${from} as q`;
}
