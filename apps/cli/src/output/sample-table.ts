const MAX_CELL = 32;

function cell(value: unknown): string {
  const text =
    value === null || value === undefined
      ? 'null'
      : typeof value === 'object'
        ? JSON.stringify(value)
        : String(value);
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > MAX_CELL ? `${flat.slice(0, MAX_CELL - 1)}…` : flat;
}

/**
 * Rows as a small Markdown-style table (the columns of all rows, in first-seen order; long
 * values cut at 32 characters), as dbt shows a test's failing rows. Pure.
 *
 * @example
 * sampleTable([{ id: 1, n: 2 }]);
 * // ['| id | n |', '| -- | - |', '| 1  | 2 |']
 */
export function sampleTable(rows: ReadonlyArray<Record<string, unknown>>): string[] {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  if (columns.length === 0) return [];
  const cells = rows.map((r) => columns.map((c) => cell(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (values: string[]) => `| ${values.map((v, i) => v.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)];
}
