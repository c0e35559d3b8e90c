import { describe, expect, it } from 'vitest';
import { validateConfig } from '../src/config/parse.js';
import { quickConfig } from '../src/config/quick-check.js';
import { configSchema } from '../src/config/schema.js';

// The zod-free quick check of `dataflow.yml` (issue 13: `dataflow load` must not pay zod's
// start-up) is held to the zod schema: whatever it accepts, the schema accepts with the very same
// result (values, defaults, key order); whatever the schema rejects, it leaves to the schema.

/** Every key the quick check knows, with values of each accepted form. */
const rich = {
  name: 'shop',
  version: 2,
  profile: 'default',
  'config-version': 2,
  warehouse: {
    url: 'postgres://u:p@h/db',
    schema: 'analytics',
    pool_size: 4,
    connect_timeout: '30s',
    statement_timeout: 0,
    lock_timeout: '10min',
  },
  metadata: { url: 'postgres://u:p@h/meta', schema: 'meta' },
  lake: {
    url: 's3://lake/raw',
    endpoint: 'http://127.0.0.1:9000',
    region: 'eu-west-1',
    access_key_id: 'AK',
    secret_access_key: 'SK',
    checksum: 'when_required',
  },
  sources: {
    orders: {
      type: 'csv',
      location: 'data/orders/{{ ds }}.csv',
      gzip: true,
      part_bytes: 16_777_216,
      delimiter: ';',
      on_bad_row: 'reject',
      timeout_ms: 1000,
      headers: { 'x-api-key': 'k' },
      freshness: {
        warn_after: { count: 26, period: 'hour' },
        error_after: { count: 3, period: 'day' },
        filter: 'x > 0',
      },
      loaded_at_field: '_loaded_at',
      table: 'raw_orders',
      primary_key: ['order_id'],
      disposition: 'merge',
      schema_evolution: 'freeze',
      max_rejects: 0,
      columns: { order_id: 'integer', amount: 'numeric', day: 'date' },
    },
    payments: { type: 'csv', location: 'data/payments.csv', primary_key: 'payment_id', freshness: {} },
    feed: {
      type: 'csv',
      location: 'feed.csv',
      disposition: 'append',
      incremental: {
        cursor_column: 'updated_at',
        initial_value: '2026-01-01T00:00:00Z',
        end_value: 100,
        lag: 3600,
        on_cursor_value_missing: 'include',
        row_order: 'asc',
        primary_key: ['id'],
      },
    },
    feed2: {
      type: 'csv',
      location: 'feed2.csv',
      disposition: 'merge',
      primary_key: 'id',
      incremental: { cursor_column: 'id', initial_value: 0, primary_key: 'id' },
    },
  },
  build: { threads: 8, fail_fast: true },
  'model-paths': 'models',
  'seed-paths': ['seeds', 'more'],
  'test-paths': [],
  'macro-paths': ['macros'],
  'analysis-paths': ['analyses'],
  'snapshot-paths': ['snapshots'],
  'target-path': 'target',
  'clean-targets': ['target'],
  vars: { start: '2026-01-01', nested: { a: [1, 2] } },
  models: { shop: { '+materialized': 'view' } },
  seeds: {},
  tests: { '+severity': 'warn' },
  data_tests: {},
};
const minimal = { name: 'm' };
const partial = { name: 'p', warehouse: { schema: 'w' }, metadata: {}, build: { threads: 2 }, sources: {} };

/** Values of every kind, each tried at every position of a valid config. */
const ODD: unknown[] = [
  null,
  '',
  'x',
  'replace',
  '30s',
  'not a duration',
  0,
  -1,
  1,
  1.5,
  2 ** 60,
  Number.POSITIVE_INFINITY,
  Number.NaN,
  true,
  [],
  ['a'],
  [1],
  {},
  { count: 1, period: 'day' },
  { unknown: 1 },
];

type Json = Record<string, unknown>;

/** Paths (key lists) of every value inside `v`. */
function paths(v: unknown, at: string[] = []): string[][] {
  if (v === null || typeof v !== 'object') return [at];
  const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v);
  return [at, ...entries.flatMap(([k, x]) => paths(x, [...at, k]))];
}

/** A deep copy of `v` with the value at `path` replaced (or deleted when `value` is `DELETE`). */
const DELETE = Symbol('delete');
function withValue(v: unknown, path: string[], value: unknown): unknown {
  const copy = structuredClone(v) as Json;
  if (path.length === 0) return value;
  let parent: Json = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Json;
  const last = path.at(-1) as string;
  if (value === DELETE) delete parent[last];
  else parent[last] = value;
  return copy;
}

/** The quick check either says nothing or says exactly what the schema says. */
function expectAgreement(input: unknown): 'quick' | 'deferred' {
  const quick = quickConfig(input);
  const schema = configSchema.safeParse(input);
  if (quick === undefined) return 'deferred';
  expect(schema.success, JSON.stringify(input)).toBe(true);
  expect(quick).toStrictEqual(schema.data);
  expect(JSON.stringify(quick)).toBe(JSON.stringify(schema.data));
  return 'quick';
}

describe('quickConfig (the zod-free check of dataflow.yml)', () => {
  it('returns what the schema returns for valid configs of every key it knows', () => {
    for (const config of [rich, minimal, partial]) {
      expect(quickConfig(config), JSON.stringify(config)).toBeDefined();
      expect(expectAgreement(config)).toBe('quick');
      expect(quickConfig(config)).toStrictEqual(validateConfig(config, 'dataflow.yml'));
    }
  });

  // Thousands of schema parses: seconds on a busy machine, hence the generous timeout.
  it('agrees with the schema on every value replaced, key deleted or key added', { timeout: 600_000 }, () => {
    let quick = 0;
    let deferred = 0;
    for (const config of [rich, partial]) {
      for (const path of paths(config)) {
        const variants = [...ODD.map((odd) => withValue(config, path, odd)), withValue(config, path, DELETE)];
        const at = path.reduce<unknown>((v, k) => (v as Json)[k], config);
        const isMapping = at !== null && typeof at === 'object' && !Array.isArray(at);
        const unknownKey = isMapping ? [withValue(config, [...path, 'zz_unknown'], 1)] : [];
        for (const input of [...variants, ...unknownKey]) {
          if (expectAgreement(input) === 'quick') quick++;
          else deferred++;
        }
      }
    }
    // Both sides are exercised: many variants stay valid, many are left to the schema.
    expect(quick).toBeGreaterThan(100);
    expect(deferred).toBeGreaterThan(1000);
  });

  it('leaves API sources and lineage to the schema', () => {
    expect(
      quickConfig({ name: 'x', sources: { rates: { type: 'api', url: 'http://h/v1', records: 'data' } } }),
    ).toBeUndefined();
    expect(quickConfig({ name: 'x', lineage: { transport: 'console' } })).toBeUndefined();
  });

  it('leaves every problem to the schema, which words the error', () => {
    for (const bad of [
      { name: '' },
      { name: 'x', sources: { 'bad-name': { type: 'csv', location: 'a.csv' } } },
      { name: 'x', sources: { a: { type: 'csv', location: 'a.csv', disposition: 'upsert' } } },
      { name: 'x', warehouse: { pool_size: 0 } },
      { name: 'x', warehouse: { lock_timeout: 'soon' } },
      { name: 'x', sources: { a: { type: 'csv', location: 'a.csv', primary_kye: ['id'] } } },
      { name: 'x', sources: { a: { type: 'csv', location: 'a.csv', columns: { id: 'int4' } } } },
      JSON.parse('{"name":"x","__proto__":{"polluted":true}}'),
      { name: 'x', build: { threads: 1.5 } },
    ]) {
      expect(quickConfig(bad), JSON.stringify(bad)).toBeUndefined();
      expect(() => validateConfig(bad, 'dataflow.yml')).toThrow(/^dataflow\.yml: /);
    }
  });
});
