import { csvLine } from './csv-format.js';
import { boundaryKey, type CursorWindow } from './cursor-window.js';
import { type NestedMode, shapeRecord } from './flatten.js';
import type { CompiledPath } from './json-path.js';
import type { Unit } from './part-writer.js';
import type { RecordSchemaInferrer } from './record-schema.js';

/** The cursor side of an incremental API run: the window and how to read a record's cursor and key. */
export interface RecordCursor {
  window: CursorWindow;
  path: CompiledPath;
  /** Primary-key paths; absent: the whole record is the key. */
  primaryKey?: CompiledPath[];
}

/** How pages of records become units. */
export interface RecordPlan {
  source: string;
  format: 'csv' | 'ndjson';
  /** The CSV columns; for NDJSON, grows with every new top-level key in first-seen order. */
  columns: string[];
  nested: NestedMode;
  /** Fed every landed record (after flattening): the manifest's schema. */
  schema: RecordSchemaInferrer;
  cursor?: RecordCursor;
}

/** Text of one value in a CSV part: null as empty (NULL), objects/arrays as JSON. */
function csvValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return JSON.stringify(value);
}

/** True when the record is in the run's cursor window (always, without a cursor). */
function inWindow(record: Record<string, unknown>, cursor: RecordCursor | undefined, at: RecordAt): boolean {
  if (cursor === undefined) return true;
  const key = (): string =>
    boundaryKey(
      cursor.primaryKey?.map((p) => p.first(record)),
      record,
    );
  return cursor.window.accept(cursor.path.first(record), key, {
    text: `${at.source}: record ${at.index} of page ${at.page}`,
    context: { source: at.source, page: at.page },
  });
}

interface RecordAt {
  source: string;
  page: number;
  index: number;
}

/**
 * Turns pages of records into units, one line per landed record: records outside the cursor
 * window are dropped, the rest shaped (`nested`), fed to the schema inference and written as
 * CSV of `columns` or NDJSON.
 *
 * @example
 * const units = recordUnits(apiPages(options, stats), { source, format: 'ndjson', columns: [], nested: 'jsonb', schema });
 */
export async function* recordUnits(
  pages: AsyncIterable<Array<Record<string, unknown>>>,
  plan: RecordPlan,
): AsyncGenerator<Unit> {
  const { format, columns } = plan;
  const known = new Set(columns);
  let page = 0;
  for await (const records of pages) {
    page++;
    for (let index = 0; index < records.length; index++) {
      const raw = records[index] as Record<string, unknown>;
      if (!inWindow(raw, plan.cursor, { source: plan.source, page, index })) continue;
      const record = shapeRecord(raw, plan.nested);
      plan.schema.add(record);
      if (format === 'ndjson') {
        for (const key of Object.keys(record)) {
          if (!known.has(key)) {
            known.add(key);
            columns.push(key);
          }
        }
      }
      const line =
        format === 'csv' ? csvLine(columns.map((c) => csvValue(record[c]))) : `${JSON.stringify(record)}\n`;
      yield { data: line, rows: 1, size: line.length };
    }
  }
}
