import { parse } from 'csv-parse/sync';

/** How a unit test's rows are written: YAML mappings, a CSV text with a header, or a SELECT. */
export type FixtureFormat = 'dict' | 'csv' | 'sql';

/** One cell of a fixture row; mappings and lists are kept as their JSON text. */
export type FixtureValue = string | number | boolean | null;

/** Rows of a unit-test input or expectation, normalised at compile time (plain, serialisable). */
export type Fixture =
  | { format: 'dict' | 'csv'; columns: string[]; rows: Array<Record<string, FixtureValue>> }
  | { format: 'sql'; sql: string };

const isRecord = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v);

function cell(value: unknown): FixtureValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value);
}

function fromRecords(
  format: 'dict' | 'csv',
  records: Array<Record<string, unknown>>,
  empty: (v: unknown) => boolean,
): Extract<Fixture, { columns: string[] }> {
  const columns: string[] = [];
  for (const record of records)
    for (const key of Object.keys(record)) if (!columns.includes(key)) columns.push(key);
  const rows = records.map((record) =>
    Object.fromEntries(columns.map((c) => [c, empty(record[c]) ? null : cell(record[c])])),
  );
  return { format, columns, rows };
}

/**
 * Normalises a `given` / `expect` entry (`format`, `rows`) into a {@link Fixture}. `dict` rows are
 * mappings (a column missing from a row is NULL); `csv` rows are a CSV text with a header (an empty
 * cell is NULL); `sql` rows are a SELECT. Returns a problem instead of throwing.
 *
 * @example
 * parseFixture({ format: 'csv', rows: 'id,name\n1,a\n2,' });
 * // { fixture: { format: 'csv', columns: ['id', 'name'], rows: [{ id: '1', name: 'a' }, { id: '2', name: null }] } }
 */
export function parseFixture(entry: Record<string, unknown>): { fixture?: Fixture; problem?: string } {
  const format = entry.format ?? 'dict';
  const rows = entry.rows;
  if (format === 'dict') {
    if (rows === undefined || rows === null) return { fixture: { format, columns: [], rows: [] } };
    if (!Array.isArray(rows) || !rows.every(isRecord))
      return { problem: 'rows in dict format must be a list of mappings such as - { id: 1 }' };
    return { fixture: fromRecords('dict', rows, (v) => v === null || v === undefined) };
  }
  if (format === 'csv') {
    if (typeof rows !== 'string')
      return { problem: 'rows in csv format must be a CSV text with a header line' };
    try {
      const records = parse(rows, { columns: true, skip_empty_lines: true, trim: true }) as Array<
        Record<string, string>
      >;
      const header = parse(rows, { to_line: 1, trim: true }) as string[][];
      const fixture = fromRecords('csv', records, (v) => v === '' || v === undefined);
      return { fixture: { ...fixture, columns: header[0] ?? fixture.columns } };
    } catch (error) {
      return { problem: `rows in csv format: ${(error as Error).message}` };
    }
  }
  if (format === 'sql') {
    if (typeof rows !== 'string' || rows.trim() === '')
      return { problem: 'rows in sql format must be a SELECT statement' };
    return { fixture: { format, sql: rows.trim().replace(/;+\s*$/, '') } };
  }
  return { problem: `format must be dict, csv or sql, got ${JSON.stringify(format)}` };
}

const INTEGER = /^[-+]?\d{1,18}$/;
const NUMERIC = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;
const TIMESTAMPTZ = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[-+]\d{2}(:?\d{2})?)$/;

function kindOf(value: FixtureValue): string {
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'bigint' : 'numeric';
  const text = String(value);
  if (INTEGER.test(text)) return 'bigint';
  if (NUMERIC.test(text)) return 'numeric';
  if (/^(true|false)$/i.test(text)) return 'boolean';
  if (DATE.test(text)) return 'date';
  if (TIMESTAMP.test(text)) return 'timestamp';
  if (TIMESTAMPTZ.test(text)) return 'timestamptz';
  return 'text';
}

/**
 * A column type for fixture values when no real relation tells it: the one kind all non-NULL
 * values share (`bigint` widening to `numeric`), else `text`.
 *
 * @example
 * inferColumnType([1, '2', null]); // 'bigint'
 * inferColumnType(['2024-01-01', 'x']); // 'text'
 */
export function inferColumnType(values: FixtureValue[]): string {
  const kinds = new Set(values.filter((v) => v !== null).map(kindOf));
  if (kinds.size === 0) return 'text';
  if (kinds.size === 1) return [...kinds][0] as string;
  if (kinds.size === 2 && kinds.has('bigint') && kinds.has('numeric')) return 'numeric';
  return 'text';
}
