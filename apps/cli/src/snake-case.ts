import type { RunLogger } from '@dataflow/runlog';

const toSnake = (key: string) => key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype;

/**
 * Fields whose value is a map keyed by names (node ids, columns, headers) rather than a record of
 * fields: their keys are data and stay as they are; the values inside are still converted.
 */
const NAME_KEYED = new Set([
  'nodes',
  'parent_map',
  'child_map',
  'columns',
  'column_types',
  'headers',
  'params',
]);
/** Fields holding user data (vars, meta, sample rows): copied untouched. */
const USER_DATA = new Set(['vars', 'meta', 'sample', 'freshness', 'airflow_context']);

/**
 * A copy of `value` with every field name in snake_case (`rowsIn` → `rows_in`). Arrays are
 * walked; maps keyed by names (`nodes`, `columns`, …) keep their keys; user data (`vars`,
 * `meta`, sample rows) and class instances (errors, dates) are kept as they are. Pure.
 *
 * @example
 * snakeKeys({ runId: 'r', jobs: [{ durationMs: 5 }] }); // { run_id: 'r', jobs: [{ duration_ms: 5 }] }
 */
export function snakeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => snakeKeys(v));
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => {
      const key = toSnake(k);
      if (USER_DATA.has(key)) return [key, v];
      if (NAME_KEYED.has(key) && isPlainObject(v)) return [key, mapValues(v)];
      return [key, snakeKeys(v)];
    }),
  );
}

const mapValues = (map: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(map).map(([k, v]) => [k, snakeKeys(v)]));

/**
 * Wraps a logger so the fields of every line are snake_case, whatever casing the library that
 * logs uses: JSON output has one casing (the summary line is Airflow's XCom contract).
 */
export function snakeCaseLogger(logger: RunLogger): RunLogger {
  const fields = (obj: object) => snakeKeys(obj) as Record<string, unknown>;
  return {
    debug: (obj, msg) => logger.debug(fields(obj), msg),
    info: (obj, msg) => logger.info(fields(obj), msg),
    warn: (obj, msg) => logger.warn(fields(obj), msg),
    error: (obj, msg) => logger.error(fields(obj), msg),
    child: (bindings) => snakeCaseLogger(logger.child(fields(bindings))),
    flush: () => logger.flush(),
    get level() {
      return logger.level;
    },
  };
}
