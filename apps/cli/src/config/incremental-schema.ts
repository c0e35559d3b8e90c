import { z } from 'zod';

// The YAML (snake_case) of a CSV source's `incremental:` (`library-options.ts` maps it to ingest's
// option). The API source's `incremental:`, `nested:` and OAuth2 `auth:` are ingest's (`apiSourceShape`).

const name = z.string().min(1);
const cursorValue = z.union([z.string().min(1), z.number()]);
const keyList = z.union([name, z.array(name).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]));

/** `incremental:` on a CSV source (an append-only feed). */
export const csvIncrementalSchema = z.strictObject({
  cursor_column: name,
  initial_value: cursorValue,
  end_value: cursorValue.optional(),
  /** Re-read this far behind the last value: seconds for timestamps, units for numbers. */
  lag: z.number().nonnegative().optional(),
  on_cursor_value_missing: z.enum(['raise', 'include', 'exclude']).optional(),
  row_order: z.enum(['asc', 'desc']).optional(),
  /** Boundary de-duplication key (default: the source's `primary_key`, else the whole record). */
  primary_key: keyList.optional(),
});
