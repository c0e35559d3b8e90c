import { quoteIdent } from '@dataflow/pg';

/** A row of a diff: each compared column as PostgreSQL prints it (NULL stays null). */
export type DiffRow = Record<string, string | null>;

/** How the model's rows differ from the expected ones (multisets: a repeated row counts). */
export interface RowDiff {
  /** The compared columns: those the expectation names, in its order. */
  columns: string[];
  /** Expected rows the model did not produce. */
  missing: DiffRow[];
  /** Rows the model produced that were not expected. */
  unexpected: DiffRow[];
}

/**
 * The two multiset differences between `expected` and `actual` over `columns`, compared as text
 * (both sides already have the model's column types, so equal values print the same, and types
 * without an equality operator such as `json` compare too).
 *
 * @example
 * planRowDiff('pg_temp."e"', 'pg_temp."a"', ['id']).missing;
 * // 'select "id"::text as "id" from pg_temp."e"\nexcept all\nselect "id"::text as "id" from pg_temp."a"\norder by 1\nlimit 1000'
 */
export function planRowDiff(
  expected: string,
  actual: string,
  columns: string[],
  limit = 1000,
): { missing: string; unexpected: string } {
  const list = columns.map((c) => `${quoteIdent(c)}::text as ${quoteIdent(c)}`).join(', ');
  const order = columns.map((_, i) => i + 1).join(', ');
  const minus = (left: string, right: string) =>
    `select ${list} from ${left}\nexcept all\nselect ${list} from ${right}\norder by ${order}\nlimit ${limit}`;
  return { missing: minus(expected, actual), unexpected: minus(actual, expected) };
}

/**
 * The diff as a table, like dbt's: a header row `@@`, then `---` for each expected row the model
 * did not produce and `+++` for each row it produced that was not expected; NULL prints as `null`.
 *
 * @example
 * formatRowDiff({ columns: ['id', 'name'], missing: [{ id: '3', name: 'd' }], unexpected: [{ id: '3', name: 'c' }] });
 * // '@@  | id | name\n--- | 3  | d\n+++ | 3  | c'
 */
export function formatRowDiff(diff: RowDiff): string {
  const lines: string[][] = [
    ['@@', ...diff.columns],
    ...diff.missing.map((row) => ['---', ...diff.columns.map((c) => row[c] ?? 'null')]),
    ...diff.unexpected.map((row) => ['+++', ...diff.columns.map((c) => row[c] ?? 'null')]),
  ];
  const widths = lines[0]?.map((_, i) => Math.max(...lines.map((l) => (l[i] ?? '').length))) ?? [];
  return lines
    .map((l) =>
      l
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join(' | ')
        .trimEnd(),
    )
    .join('\n');
}
