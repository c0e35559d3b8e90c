import { z } from 'zod';
import { type CsvField, QUOTED_EMPTY } from './csv-format.js';
import type { CsvContext } from './csv-header.js';
import { boundaryKey, CursorWindow, type CursorWindowOptions } from './cursor-window.js';
import { IngestError } from './errors.js';
import type { CursorState } from './manifest.js';

/**
 * An append-only CSV feed read by a cursor column: rows at or below the remembered last value
 * are skipped (unless they are new at the boundary), and `manifest.cursor` records the range.
 */
export interface CsvIncrementalOptions extends CursorWindowOptions {
  /** The header name of the cursor column. */
  cursorColumn: string;
}

/** Which rows of a CSV land: called with each valid record and its 1-based line. */
export type CsvRowFilter = (fields: readonly CsvField[], line: number) => boolean;

const cursorValue = z.union([z.string().min(1), z.number().finite()]);
const name = z.string().min(1);
const csvIncrementalSchema = z.strictObject({
  cursorColumn: name,
  initialValue: cursorValue,
  endValue: cursorValue.optional(),
  lag: z.number().finite().nonnegative().optional(),
  onCursorValueMissing: z.enum(['raise', 'include', 'exclude']).optional(),
  rowOrder: z.enum(['asc', 'desc']).optional(),
  primaryKey: z.array(name).min(1).optional(),
});

const text = (f: CsvField | undefined): string => (f === undefined || f === QUOTED_EMPTY ? '' : f);

function columnIndex(header: readonly string[], column: string, ctx: CsvContext): number {
  const i = header.indexOf(column);
  if (i < 0) {
    throw new IngestError(
      'BAD_HEADER',
      `${ctx.source}: header of ${ctx.location} has no column ${JSON.stringify(column)} (incremental)`,
      { ...ctx, column },
    );
  }
  return i;
}

/**
 * The cursor window of an incremental CSV run and the row filter it implies, built once the
 * header is known. A row's boundary key is the JSON of its primary-key fields, or a hash of the
 * whole row. INVALID_OPTIONS for options no run could use.
 *
 * @example
 * const { window, filterFor } = csvCursor({ cursorColumn: 'seq', initialValue: 0 }, state, ctx);
 * const keep = filterFor(header);
 */
export function csvCursor(
  options: CsvIncrementalOptions,
  state: CursorState | undefined,
  ctx: CsvContext,
): { window: CursorWindow; filterFor: (header: readonly string[]) => CsvRowFilter } {
  const parsed = csvIncrementalSchema.safeParse(options);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new IngestError('INVALID_OPTIONS', `${ctx.source}: incremental: ${issues}`, { source: ctx.source });
  }
  const o = parsed.data as CsvIncrementalOptions;
  const window = new CursorWindow(o.cursorColumn, o, state);
  const filterFor = (header: readonly string[]): CsvRowFilter => {
    const cursorAt = columnIndex(header, o.cursorColumn, ctx);
    const keyAt = o.primaryKey?.map((c) => columnIndex(header, c, ctx));
    return (fields, line) =>
      window.accept(
        text(fields[cursorAt]),
        () =>
          boundaryKey(
            keyAt?.map((i) => text(fields[i])),
            fields.map(text),
          ),
        {
          text: `${ctx.source}: line ${line} of ${ctx.location}`,
          context: { ...ctx, line, column: o.cursorColumn },
          code: 'BAD_VALUE',
        },
      );
  };
  return { window, filterFor };
}
