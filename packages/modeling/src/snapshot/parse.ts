/** A `{% snapshot name %}…{% endsnapshot %}` block of a `snapshots/*.sql` file. */
export interface SnapshotBlock {
  name: string;
  /** The template between the tags (its `config(...)` call and the SELECT). */
  body: string;
  /** 1-based line of the opening tag. */
  line: number;
}

const OPEN = /\{%-?\s*snapshot\s+([A-Za-z_][\w]*)\s*-?%\}/g;
const CLOSE = /\{%-?\s*endsnapshot\s*-?%\}/g;

const lineAt = (text: string, index: number) => text.slice(0, index).split('\n').length;

/**
 * Finds the snapshot blocks of one file. Text outside blocks is ignored (as dbt does); a block
 * without its `endsnapshot` and a nested block are problems with their line.
 *
 * @example
 * extractSnapshotBlocks("{% snapshot customers_snapshot %}\n{{ config(unique_key='id') }}\nselect 1\n{% endsnapshot %}");
 * // { blocks: [{ name: 'customers_snapshot', body: "\n{{ config(unique_key='id') }}\nselect 1\n", line: 1 }], problems: [] }
 */
export function extractSnapshotBlocks(text: string): {
  blocks: SnapshotBlock[];
  problems: Array<{ message: string; line: number }>;
} {
  const blocks: SnapshotBlock[] = [];
  const problems: Array<{ message: string; line: number }> = [];
  let from = 0;
  for (;;) {
    OPEN.lastIndex = from;
    const open = OPEN.exec(text);
    if (!open) break;
    const start = open.index + open[0].length;
    CLOSE.lastIndex = start;
    const close = CLOSE.exec(text);
    OPEN.lastIndex = start;
    const nested = OPEN.exec(text);
    const name = open[1] as string;
    if (!close) {
      problems.push({ message: `snapshot ${name} has no {% endsnapshot %}`, line: lineAt(text, open.index) });
      break;
    }
    if (nested && nested.index < close.index) {
      problems.push({
        message: `snapshot ${name} contains another snapshot block`,
        line: lineAt(text, nested.index),
      });
      from = close.index + close[0].length;
      continue;
    }
    blocks.push({ name, body: text.slice(start, close.index), line: lineAt(text, open.index) });
    from = close.index + close[0].length;
  }
  return { blocks, problems };
}

/** A `snapshots:` entry of a properties file: a snapshot of its own (`relation`) or properties of a block. */
export interface YmlSnapshot {
  name: string;
  file: string;
  /** dbt ≥ 1.9: `ref('x')` / `source('a', 'b')`; the snapshot then reads `select * from` it. */
  relation?: string;
  config: Record<string, unknown>;
  description?: string;
  columns: Record<string, { description?: string }>;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * Parses the `snapshots:` list of one properties file.
 *
 * @example
 * parseYmlSnapshots([{ name: 'orders_snapshot', relation: "source('raw', 'orders')", config: { strategy: 'check', unique_key: 'id', check_cols: 'all' } }], 'snapshots/orders.yml');
 * // { snapshots: [{ name: 'orders_snapshot', relation: "source('raw', 'orders')", config: {...}, ... }], problems: [] }
 */
export function parseYmlSnapshots(
  list: unknown,
  file: string,
): { snapshots: YmlSnapshot[]; problems: string[] } {
  const snapshots: YmlSnapshot[] = [];
  const problems: string[] = [];
  if (list === undefined || list === null) return { snapshots, problems };
  if (!Array.isArray(list)) return { snapshots, problems: ['snapshots: must be a list'] };
  for (const entry of list) {
    if (!isRecord(entry) || typeof entry.name !== 'string') {
      problems.push('snapshots: every entry needs a name');
      continue;
    }
    if (entry.relation !== undefined && typeof entry.relation !== 'string') {
      problems.push(`snapshot ${entry.name}: relation must be ref('name') or source('source', 'table')`);
      continue;
    }
    const columns: Record<string, { description?: string }> = {};
    for (const col of Array.isArray(entry.columns) ? entry.columns.filter(isRecord) : [])
      columns[String(col.name)] = typeof col.description === 'string' ? { description: col.description } : {};
    snapshots.push({
      name: entry.name,
      file,
      ...(typeof entry.relation === 'string' ? { relation: entry.relation.trim() } : {}),
      config: isRecord(entry.config) ? { ...entry.config } : {},
      ...(typeof entry.description === 'string' ? { description: entry.description } : {}),
      columns,
    });
  }
  return { snapshots, problems };
}
