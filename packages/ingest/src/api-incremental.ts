import { z } from 'zod';
import type { RecordCursor } from './api-records.js';
import type { IncrementalOptions } from './api-types.js';
import { CursorWindow } from './cursor-window.js';
import { IngestError } from './errors.js';
import { compilePath } from './json-path.js';
import type { CursorState } from './manifest.js';

const cursorValue = z.union([z.string().min(1), z.number().finite()]);
const name = z.string().min(1);

/** The shape of `IncrementalOptions` (API) checked at the edge of `ingestApi`. */
const incrementalSchema = z.strictObject({
  cursorPath: name,
  param: name,
  initialValue: cursorValue,
  endValue: cursorValue.optional(),
  endParam: name.optional(),
  lag: z.number().finite().nonnegative().optional(),
  onCursorValueMissing: z.enum(['raise', 'include', 'exclude']).optional(),
  rowOrder: z.enum(['asc', 'desc']).optional(),
  primaryKey: z.array(name).min(1).optional(),
});

const stateSchema = z.strictObject({ lastValue: cursorValue, boundaryKeys: z.array(z.string()) });

/** An incremental API run, ready: the record filter and the query parameters of its window. */
export interface PreparedIncremental {
  cursor: RecordCursor;
  /** `param` = the window start, and `endParam` = `endValue` when both are set. */
  params: Record<string, string>;
}

/**
 * Validates the incremental options and the caller's state and builds the run's cursor window:
 * the start (state's last value minus lag, never below `initialValue`) goes out as `param`.
 *
 * @example
 * prepareIncremental('rates', { cursorPath: 'updated_at', param: 'updated_since', initialValue: '2024-01-01' }, undefined).params;
 * // { updated_since: '2024-01-01' }
 */
export function prepareIncremental(
  source: string,
  options: IncrementalOptions,
  state: CursorState | undefined,
): PreparedIncremental {
  const parsed = incrementalSchema.safeParse(options);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new IngestError('INVALID_OPTIONS', `${source}: incremental: ${issues}`, { source });
  }
  if (state !== undefined && !stateSchema.safeParse(state).success) {
    throw new IngestError('INVALID_OPTIONS', `${source}: cursorState needs lastValue and boundaryKeys`, {
      source,
    });
  }
  const o = parsed.data as IncrementalOptions;
  const window = new CursorWindow(o.cursorPath, o, state);
  const params: Record<string, string> = { [o.param]: String(window.from) };
  if (o.endParam !== undefined && o.endValue !== undefined) params[o.endParam] = String(o.endValue);
  return {
    cursor: {
      window,
      path: compilePath(o.cursorPath),
      ...(o.primaryKey ? { primaryKey: o.primaryKey.map(compilePath) } : {}),
    },
    params,
  };
}
