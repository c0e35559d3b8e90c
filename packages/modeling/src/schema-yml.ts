import type { TestSpec } from './define.js';
import { readYaml, yamlErrorLine } from './read-yaml.js';
import { parseYmlSnapshots, type YmlSnapshot } from './snapshot/parse.js';
import { type FixtureReader, parseUnitTests, type UnitTestDeclaration } from './unit-test/parse.js';

/** A test invocation as written in schema.yml (or a TS model), before compilation. */
export interface TestDeclaration {
  test: string;
  args: Record<string, unknown>;
  config: Record<string, unknown>;
  column?: string;
}

export interface YmlModel {
  name: string;
  file: string;
  description?: string;
  config: Record<string, unknown>;
  columns: Record<string, { description?: string }>;
  tests: TestDeclaration[];
}

/**
 * A source table as declared in schema.yml. Location fields are present only when the yml states
 * them (`database` / `schema` on the source, `identifier` on the table): see {@link resolveSourceLocation}.
 */
export interface YmlSourceTable {
  sourceName: string;
  name: string;
  database?: string;
  schema?: string;
  identifier?: string;
  file: string;
  description?: string;
  columns: Record<string, { description?: string }>;
  /** dbt `freshness:` (table level, else source level), kept as written. */
  freshness?: Record<string, unknown>;
  loadedAtField?: string;
  tests: TestDeclaration[];
}

/** Where a source table lives. `database` only when declared (PostgreSQL then gets a three-part name). */
export interface SourceLocation {
  database?: string;
  schema: string;
  identifier: string;
}

/**
 * Location of a source table, field by field: what schema.yml states explicitly wins, then the
 * location the caller gives (`CompileOptions.sources`, e.g. the table the CLI loaded), then dbt's
 * defaults (schema = source name, identifier = table name). Pure.
 *
 * @example
 * resolveSourceLocation({ sourceName: 'raw', name: 'orders' }, { schema: 'analytics', identifier: 'raw_orders' });
 * // { schema: 'analytics', identifier: 'raw_orders' }
 * resolveSourceLocation({ sourceName: 'raw', name: 'orders', schema: 'landing' }, { schema: 'analytics', identifier: 'raw_orders' });
 * // { schema: 'landing', identifier: 'raw_orders' }
 */
export function resolveSourceLocation(
  declared: { sourceName: string; name: string; database?: string; schema?: string; identifier?: string },
  given?: { schema: string; identifier: string },
): SourceLocation {
  return {
    ...(declared.database !== undefined ? { database: declared.database } : {}),
    schema: declared.schema ?? given?.schema ?? declared.sourceName,
    identifier: declared.identifier ?? given?.identifier ?? declared.name,
  };
}

/** dbt resources that a properties file may declare and dataflow parses but does not run. */
export const NOT_RUN_KINDS = [
  'semantic_models',
  'metrics',
  'saved_queries',
  'exposures',
  'groups',
  'versions',
] as const;
export type NotRunKind = (typeof NOT_RUN_KINDS)[number];

export interface SchemaYml {
  models: YmlModel[];
  seeds: YmlModel[];
  sources: YmlSourceTable[];
  /** `snapshots:` entries: YAML-defined snapshots (with `relation`) or properties of snapshot blocks. */
  snapshots: Array<YmlSnapshot & { tests: TestDeclaration[] }>;
  /** `unit_tests:` (dbt ≥ 1.8). */
  unitTests: UnitTestDeclaration[];
  /** Names of declared resources of kinds dataflow does not run (`versions`: `<model>.v<n>`). */
  notRun: Partial<Record<NotRunKind, string[]>>;
  problems: Array<{ message: string; file: string; line?: number }>;
}

// Keys dbt accepts next to a test's arguments (pre-1.10 style) that are really config.
const TEST_CONFIG_KEYS = new Set([
  'severity',
  'warn_if',
  'error_if',
  'where',
  'limit',
  'name',
  'store_failures',
  'store_failures_limit',
  'tags',
  'enabled',
]);

const isRecord = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * Normalises one test entry: `unique`, `{ accepted_values: { values: [...], config: {...} } }`,
 * dbt 1.10's `{ accepted_values: { arguments: { values: [...] }, config: {...} } }`, and the
 * legacy form with config keys (`severity`) next to the arguments. A package prefix (`dbt_utils.`)
 * is kept, as dbt keeps it in the test's name (`dbt_utils_equality_…`).
 */
export function parseTestSpec(spec: TestSpec, column?: string): TestDeclaration | string {
  if (typeof spec === 'string') return { test: spec, args: {}, config: {}, ...(column ? { column } : {}) };
  if (!isRecord(spec)) return 'a test must be a name or a mapping';
  const keys = Object.keys(spec);
  if (keys.length !== 1)
    return `a test mapping must have exactly one key (the test name), got ${keys.join(', ') || 'none'}`;
  const name = keys[0] as string;
  const body = spec[name] ?? {};
  if (!isRecord(body)) return `test ${name}: arguments must be a mapping`;
  const config: Record<string, unknown> = isRecord(body.config) ? { ...body.config } : {};
  let args: Record<string, unknown>;
  if (isRecord(body.arguments)) {
    args = { ...body.arguments };
  } else {
    args = {};
    for (const [k, v] of Object.entries(body)) {
      if (k === 'config') continue;
      if (TEST_CONFIG_KEYS.has(k)) config[k] = v;
      else args[k] = v;
    }
  }
  if (isRecord(body.arguments)) {
    for (const [k, v] of Object.entries(body)) if (k !== 'arguments' && k !== 'config') config[k] = v;
  }
  if (typeof args.column_name === 'string' && !column) {
    column = args.column_name;
    delete args.column_name;
  }
  return { test: name, args, config, ...(column ? { column } : {}) };
}

/** Tests of a model / seed / source table entry: `tests:`/`data_tests:` at entry level and per column. */
export function collectTests(
  entry: { tests?: unknown; data_tests?: unknown; columns?: unknown },
  onProblem: (message: string) => void,
): { tests: TestDeclaration[]; columns: Record<string, { description?: string }> } {
  const tests: TestDeclaration[] = [];
  const columns: Record<string, { description?: string }> = {};
  const add = (list: unknown, column?: string) => {
    if (list === undefined || list === null) return;
    if (!Array.isArray(list)) return onProblem(`tests of ${column ?? 'entry'} must be a list`);
    for (const spec of list) {
      const parsed = parseTestSpec(spec as TestSpec, column);
      if (typeof parsed === 'string') onProblem(parsed);
      else tests.push(parsed);
    }
  };
  add(entry.tests);
  add(entry.data_tests);
  const cols = entry.columns;
  const colEntries: Array<[string, Record<string, unknown>]> = Array.isArray(cols)
    ? cols.filter(isRecord).map((c) => [String(c.name), c])
    : isRecord(cols)
      ? Object.entries(cols).map(([k, v]) => [k, isRecord(v) ? v : {}])
      : [];
  for (const [name, col] of colEntries) {
    columns[name] = typeof col.description === 'string' ? { description: col.description } : {};
    add(col.tests, name);
    add(col.data_tests, name);
  }
  return { tests, columns };
}

/**
 * Parses one properties file (`schema.yml`): models, seeds, sources, snapshots and unit tests.
 * Problems are returned, not thrown. `readFixture` resolves unit tests' `fixture:` files.
 */
export function parseSchemaYml(text: string, file: string, readFixture?: FixtureReader): SchemaYml {
  const out: SchemaYml = {
    models: [],
    seeds: [],
    sources: [],
    snapshots: [],
    unitTests: [],
    notRun: {},
    problems: [],
  };
  let doc: unknown;
  try {
    doc = readYaml(text);
  } catch (error) {
    const line = yamlErrorLine(error);
    out.problems.push({
      message: `invalid YAML: ${(error as Error).message.split('\n')[0]}`,
      file,
      ...(line ? { line } : {}),
    });
    return out;
  }
  if (!isRecord(doc)) return out;
  collectNotRun(doc, out.notRun);
  for (const kind of ['models', 'seeds'] as const) {
    const list = doc[kind];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) {
      out.problems.push({ message: `${kind}: must be a list`, file });
      continue;
    }
    for (const entry of list) {
      if (!isRecord(entry) || typeof entry.name !== 'string') {
        out.problems.push({ message: `${kind}: every entry needs a name`, file });
        continue;
      }
      const { tests, columns } = collectTests(entry, (m) =>
        out.problems.push({ message: `${entry.name}: ${m}`, file }),
      );
      out[kind].push({
        name: entry.name,
        file,
        ...(typeof entry.description === 'string' ? { description: entry.description } : {}),
        config: withPropertyConfig(entry),
        columns,
        tests,
      });
    }
  }
  parseSnapshotsAndUnitTests(doc, file, out, readFixture);
  const sources = doc.sources;
  if (Array.isArray(sources)) {
    for (const src of sources) {
      if (!isRecord(src) || typeof src.name !== 'string') {
        out.problems.push({ message: 'sources: every source needs a name', file });
        continue;
      }
      const location = (entry: Record<string, unknown>, key: 'database' | 'schema' | 'identifier') => {
        const v = entry[key];
        if (v === undefined || v === null) return {};
        if (typeof v === 'string' && v !== '') return { [key]: v };
        const where = entry === src ? src.name : `${src.name}.${String(entry.name)}`;
        out.problems.push({ message: `source ${where}: ${key} must be a non-empty string`, file });
        return {};
      };
      const sourceLocation = { ...location(src, 'database'), ...location(src, 'schema') };
      // dbt ≥ 1.9 also takes freshness and loaded_at_field under `config:`; that form wins.
      const srcConfig = isRecord(src.config) ? src.config : {};
      const sourceFreshnessRaw = srcConfig.freshness !== undefined ? srcConfig.freshness : src.freshness;
      const sourceFreshness = isRecord(sourceFreshnessRaw) ? sourceFreshnessRaw : undefined;
      for (const table of Array.isArray(src.tables) ? src.tables : []) {
        if (!isRecord(table) || typeof table.name !== 'string') {
          out.problems.push({ message: `source ${src.name}: every table needs a name`, file });
          continue;
        }
        const { tests, columns } = collectTests(table, (m) =>
          out.problems.push({ message: `${src.name}.${table.name}: ${m}`, file }),
        );
        // `freshness: null` on a table switches the source-level freshness off, like dbt.
        const tableConfig = isRecord(table.config) ? table.config : {};
        const tableFreshness = tableConfig.freshness !== undefined ? tableConfig.freshness : table.freshness;
        const freshness =
          tableFreshness === null ? undefined : isRecord(tableFreshness) ? tableFreshness : sourceFreshness;
        const loadedAt =
          tableConfig.loaded_at_field ??
          table.loaded_at_field ??
          srcConfig.loaded_at_field ??
          src.loaded_at_field;
        out.sources.push({
          sourceName: src.name,
          name: table.name,
          ...sourceLocation,
          ...location(table, 'identifier'),
          file,
          ...(typeof table.description === 'string' ? { description: table.description } : {}),
          columns,
          ...(freshness ? { freshness } : {}),
          ...(typeof loadedAt === 'string' ? { loadedAtField: loadedAt } : {}),
          tests,
        });
      }
    }
  }
  return out;
}

function parseSnapshotsAndUnitTests(
  doc: Record<string, unknown>,
  file: string,
  out: SchemaYml,
  readFixture?: FixtureReader,
): void {
  const snapshots = parseYmlSnapshots(doc.snapshots, file);
  const entries = Array.isArray(doc.snapshots) ? doc.snapshots.filter(isRecord) : [];
  for (const snapshot of snapshots.snapshots) {
    const entry = entries.find((e) => e.name === snapshot.name) ?? {};
    const { tests } = collectTests(entry, (m) =>
      out.problems.push({ message: `${snapshot.name}: ${m}`, file }),
    );
    out.snapshots.push({ ...snapshot, tests });
  }
  const unitTests = parseUnitTests(doc.unit_tests, file, readFixture);
  out.unitTests.push(...unitTests.unitTests);
  for (const message of [...snapshots.problems, ...unitTests.problems]) out.problems.push({ message, file });
}

/** Records the names of resources dataflow does not run, so the compile can say so once per kind. */
function collectNotRun(doc: Record<string, unknown>, into: SchemaYml['notRun']): void {
  const add = (kind: NotRunKind, name: string) => {
    const names = into[kind] ?? [];
    names.push(name);
    into[kind] = names;
  };
  for (const kind of NOT_RUN_KINDS) {
    const list = doc[kind];
    if (kind === 'versions' || !Array.isArray(list)) continue;
    for (const entry of list) add(kind, isRecord(entry) && typeof entry.name === 'string' ? entry.name : '?');
  }
  for (const model of Array.isArray(doc.models) ? doc.models : []) {
    if (!isRecord(model) || !Array.isArray(model.versions)) continue;
    for (const v of model.versions)
      add('versions', `${String(model.name)}.v${isRecord(v) ? String(v.v) : '?'}`);
  }
}

/**
 * A model's or seed's schema.yml `config:` with the properties dbt also takes beside it (`meta:`,
 * `docs:`); `config:` wins, as in dbt.
 */
function withPropertyConfig(entry: Record<string, unknown>): Record<string, unknown> {
  const config = isRecord(entry.config) ? entry.config : {};
  const beside: Record<string, unknown> = {};
  if (isRecord(entry.meta)) beside.meta = entry.meta;
  if (isRecord(entry.docs)) beside.docs = entry.docs;
  if (Object.keys(beside).length === 0) return config;
  return {
    ...beside,
    ...config,
    ...(isRecord(config.meta) && isRecord(beside.meta) ? { meta: { ...beside.meta, ...config.meta } } : {}),
  };
}
