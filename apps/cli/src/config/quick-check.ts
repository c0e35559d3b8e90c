import { COLUMN_TYPES } from '@dataflow/ingest/lake';
import { parseDurationMs } from '../duration.js';
import type { CsvSourceConfig, ProjectConfig } from './schema.js';

// The zod schema (`schema.ts`) is the definition of `dataflow.yml` and the author of every error
// message, but importing zod costs every process a few hundred milliseconds of start-up, paid by
// each `dataflow load` Airflow runs (issue 13). This is a hand-written check of the common subset
// (CSV sources, no `lineage`): it returns exactly what the schema would
// return, or `undefined` as soon as it sees anything else (a problem, an API source, a key it does
// not know), and the caller then validates with zod. A differential test holds it to the schema:
// whatever it accepts, zod accepts with the same result.

/** Thrown inside this module when the input is not in the subset; never escapes it. */
class NotInSubset extends Error {}

type Plain = Record<string, unknown>;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DISPOSITIONS = ['append', 'replace', 'replace_partition', 'merge'] as const;
// In the schema's order (the output keeps it): lists, except `target-path` (a string) before the last.
const TOP_LEVEL_LISTS = [
  'model-paths',
  'seed-paths',
  'test-paths',
  'macro-paths',
  'analysis-paths',
  'snapshot-paths',
] as const;
const TOP_LEVEL_RECORDS = ['vars', 'models', 'seeds', 'tests', 'data_tests'] as const;

function fail(): never {
  throw new NotInSubset();
}

function mapping(v: unknown): Plain {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail();
  if (Object.getPrototypeOf(v) !== Object.prototype) fail();
  if (Object.hasOwn(v, '__proto__')) fail();
  return v as Plain;
}

/** A strict object: only `keys`, none of them explicitly undefined. */
function strict(v: unknown, keys: readonly string[]): Plain {
  const o = mapping(v);
  for (const [k, value] of Object.entries(o)) if (!keys.includes(k) || value === undefined) fail();
  return o;
}

const string = (v: unknown, min = 0): string => (typeof v === 'string' && v.length >= min ? v : fail());
const identifier = (v: unknown): string => (IDENTIFIER.test(string(v)) ? (v as string) : fail());
const boolean = (v: unknown): boolean => (typeof v === 'boolean' ? v : fail());
const finite = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : fail());
const integer = (v: unknown, min: number): number =>
  Number.isSafeInteger(finite(v)) && (v as number) >= min ? (v as number) : fail();
const oneOf = <T extends string>(v: unknown, values: readonly T[]): T =>
  values.includes(v as T) ? (v as T) : fail();
// Array.from, not map: a hole in a sparse array is an undefined item, which the schema rejects.
const stringList = (v: unknown): string[] =>
  Array.isArray(v) ? Array.from(v, (s) => string(s)) : [string(v)];
const record = <T>(v: unknown, value: (x: unknown) => T, key: (k: string) => unknown = () => 0) => {
  const out: Record<string, T> = {};
  for (const [k, x] of Object.entries(mapping(v))) {
    key(k);
    out[k] = value(x);
  }
  return out;
};
const duration = (v: unknown): number =>
  typeof v === 'number' || typeof v === 'string' ? (parseDurationMs(v) ?? fail()) : fail();

/** Copies the optional keys that are present, each through its check, in the given order. */
function optional(o: Plain, checks: Record<string, (v: unknown) => unknown>): Plain {
  const out: Plain = {};
  for (const [k, check] of Object.entries(checks)) if (k in o) out[k] = check(o[k]);
  return out;
}

function freshnessWindow(v: unknown) {
  const o = strict(v, ['count', 'period']);
  return { count: integer(o.count, 1), period: oneOf(o.period, ['minute', 'hour', 'day'] as const) };
}

const cursorValue = (v: unknown): string | number => (typeof v === 'string' ? string(v, 1) : finite(v));

/** `incremental:` of a CSV source (`incremental-schema.ts`). */
function csvIncremental(v: unknown) {
  const o = strict(v, [
    'cursor_column',
    'initial_value',
    'end_value',
    'lag',
    'on_cursor_value_missing',
    'row_order',
    'primary_key',
  ]);
  return {
    cursor_column: string(o.cursor_column, 1),
    initial_value: cursorValue(o.initial_value),
    ...optional(o, {
      end_value: cursorValue,
      lag: (x) => (finite(x) >= 0 ? x : fail()),
      on_cursor_value_missing: (x) => oneOf(x, ['raise', 'include', 'exclude'] as const),
      row_order: (x) => oneOf(x, ['asc', 'desc'] as const),
      primary_key: (x) => {
        const keys = stringList(x).map((k) => string(k, 1));
        return keys.length > 0 ? keys : fail();
      },
    }),
  };
}

const LOAD_KEYS = [
  'freshness',
  'loaded_at_field',
  'table',
  'primary_key',
  'disposition',
  'schema_evolution',
  'max_rejects',
  'columns',
];
const CSV_KEYS = [
  'type',
  'location',
  'gzip',
  'part_bytes',
  'delimiter',
  'on_bad_row',
  'timeout_ms',
  'headers',
  'incremental',
  ...LOAD_KEYS,
];

function csvSource(v: unknown): CsvSourceConfig {
  const o = strict(v, CSV_KEYS);
  if (o.type !== 'csv') fail();
  return {
    type: 'csv',
    location: string(o.location, 1),
    ...optional(o, {
      gzip: boolean,
      part_bytes: (x) => integer(x, 1),
      delimiter: (x) => (string(x).length === 1 ? x : fail()),
      on_bad_row: (x) => oneOf(x, ['fail', 'reject'] as const),
      timeout_ms: (x) => integer(x, 1),
      headers: (x) => record(x, (h) => string(h)),
      incremental: csvIncremental,
      freshness: (x) => {
        const f = strict(x, ['warn_after', 'error_after', 'filter']);
        return optional(f, {
          warn_after: freshnessWindow,
          error_after: freshnessWindow,
          filter: (s) => string(s, 1),
        });
      },
      loaded_at_field: (x) => string(x, 1),
      table: identifier,
      primary_key: stringList,
    }),
    disposition: 'disposition' in o ? oneOf(o.disposition, DISPOSITIONS) : 'replace_partition',
    ...optional(o, {
      schema_evolution: (x) => oneOf(x, ['evolve', 'freeze'] as const),
      max_rejects: (x) => integer(x, 0),
      columns: (x) => record(x, (t) => oneOf(t, COLUMN_TYPES)),
    }),
  } as CsvSourceConfig;
}

function warehouse(v: unknown): ProjectConfig['warehouse'] {
  const o = strict(v, ['url', 'schema', 'pool_size', 'connect_timeout', 'statement_timeout', 'lock_timeout']);
  return {
    ...optional(o, { url: (x) => string(x, 1) }),
    schema: 'schema' in o ? identifier(o.schema) : 'public',
    pool_size: 'pool_size' in o ? integer(o.pool_size, 1) : 8,
    ...optional(o, { connect_timeout: duration, statement_timeout: duration, lock_timeout: duration }),
  } as ProjectConfig['warehouse'];
}

function lake(v: unknown): ProjectConfig['lake'] {
  const o = strict(v, ['url', 'endpoint', 'region', 'access_key_id', 'secret_access_key', 'checksum']);
  return optional(o, {
    url: (x) => string(x, 1),
    endpoint: (x) => string(x, 1),
    region: string,
    access_key_id: string,
    secret_access_key: string,
    checksum: (x) => oneOf(x, ['when_required', 'when_supported'] as const),
  }) as ProjectConfig['lake'];
}

function subset(data: unknown): ProjectConfig {
  const o = strict(data, [
    'name',
    'version',
    'profile',
    'config-version',
    'warehouse',
    'metadata',
    'lake',
    'sources',
    'build',
    ...TOP_LEVEL_LISTS,
    'target-path',
    'clean-targets',
    ...TOP_LEVEL_RECORDS,
  ]);
  const metadata = 'metadata' in o ? strict(o.metadata, ['url', 'schema']) : undefined;
  const build = 'build' in o ? strict(o.build, ['threads', 'fail_fast']) : undefined;
  const lists = Object.fromEntries(TOP_LEVEL_LISTS.map((k) => [k, stringList]));
  const records = Object.fromEntries(TOP_LEVEL_RECORDS.map((k) => [k, (x: unknown) => record(x, (y) => y)]));
  return {
    name: string(o.name, 1),
    ...optional(o, {
      version: (x) => (typeof x === 'string' ? x : finite(x)),
      profile: string,
      'config-version': finite,
    }),
    warehouse: 'warehouse' in o ? warehouse(o.warehouse) : { schema: 'public', pool_size: 8 },
    metadata: metadata
      ? {
          ...optional(metadata, { url: (x) => string(x, 1) }),
          schema: 'schema' in metadata ? identifier(metadata.schema) : 'dataflow',
        }
      : { schema: 'dataflow' },
    lake: 'lake' in o ? lake(o.lake) : {},
    sources: 'sources' in o ? record(o.sources, csvSource, identifier) : {},
    build: build
      ? {
          threads: 'threads' in build ? integer(build.threads, 1) : 4,
          fail_fast: 'fail_fast' in build ? boolean(build.fail_fast) : false,
        }
      : { threads: 4, fail_fast: false },
    ...optional(o, { ...lists, 'target-path': string, 'clean-targets': stringList, ...records }),
  } as ProjectConfig;
}

/**
 * The validated config when `data` is in the common subset, exactly as `configSchema` would
 * return it; `undefined` otherwise (validate with the schema then, which also words the error).
 *
 * @example
 * quickConfig({ name: 'shop' }); // { name: 'shop', warehouse: { schema: 'public', pool_size: 8 }, … }
 * quickConfig({ name: 'shop', lineage: { transport: 'console' } }); // undefined
 */
export function quickConfig(data: unknown): ProjectConfig | undefined {
  try {
    return subset(data);
  } catch (error) {
    if (error instanceof NotInSubset) return undefined;
    throw error;
  }
}
