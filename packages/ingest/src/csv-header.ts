import type { ColumnType } from './column-types.js';
import { IngestError } from './errors.js';

/** Where a CSV comes from, for messages. */
export interface CsvContext {
  source: string;
  /** Redacted display location. */
  location: string;
}

/** The check of one declared non-text column. */
export interface TypeCheck {
  index: number;
  name: string;
  type: ColumnType;
}

/**
 * Checks a header (BAD_HEADER for an empty or duplicate name, or a declared column that is
 * missing) and returns the type checks of the declared non-text columns, in declaration order.
 *
 * @example
 * checkHeader(['id', 'day'], { day: 'date' }, ctx); // [{ index: 1, name: 'day', type: 'date' }]
 */
export function checkHeader(
  names: string[],
  declared: Record<string, ColumnType>,
  ctx: CsvContext,
): TypeCheck[] {
  const { source, location } = ctx;
  const seen = new Set<string>();
  for (const name of names) {
    if (name.trim() === '' || seen.has(name)) {
      throw new IngestError(
        'BAD_HEADER',
        `${source}: header of ${location} has an empty or duplicate column name`,
        {
          source,
          location,
          column: name,
        },
      );
    }
    seen.add(name);
  }
  const found: TypeCheck[] = [];
  for (const [name, type] of Object.entries(declared)) {
    const index = names.indexOf(name);
    if (index < 0) {
      throw new IngestError(
        'BAD_HEADER',
        `${source}: declared column ${name} is not in the header of ${location}`,
        {
          source,
          location,
          column: name,
        },
      );
    }
    if (type !== 'text' && type !== 'varchar') found.push({ index, name, type });
  }
  return found;
}

/** The BAD_VALUE error of a value that does not parse as its declared type. */
export function badValue(check: TypeCheck, line: number, ctx: CsvContext): IngestError {
  return new IngestError(
    'BAD_VALUE',
    `${ctx.source}: line ${line} of ${ctx.location}: column ${check.name} is not a valid ${check.type}`,
    { ...ctx, line, column: check.name },
  );
}

/** PostgreSQL cannot store NUL in text (22021), so a NUL byte is refused where it is read. */
export function nulByte(column: string | undefined, line: number, ctx: CsvContext): IngestError {
  return new IngestError(
    'BAD_VALUE',
    `${ctx.source}: line ${line} of ${ctx.location}: column ${column ?? '?'} contains a NUL byte (PostgreSQL text cannot store it)`,
    { ...ctx, line, ...(column !== undefined ? { column } : {}) },
  );
}

/** An empty file, or one whose only content is blank lines. */
export function emptyFile(ctx: CsvContext): IngestError {
  return new IngestError('EMPTY_FILE', `${ctx.source}: ${ctx.location} has no header row`, { ...ctx });
}
