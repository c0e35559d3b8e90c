/** Limits for failing-row samples stored in `test_results.sample`. */
export interface SampleLimits {
  /** Max rows kept. Default 10. */
  maxRows: number;
  /** Max characters kept per string value. Default 200. */
  maxValueChars: number;
  /** Max size of the serialised sample. Default 16 KiB. */
  maxBytes: number;
}

/** The caps {@link capSample} applies unless told otherwise: 10 rows, 200 characters per value, 16 KiB. */
export const DEFAULT_SAMPLE_LIMITS: SampleLimits = { maxRows: 10, maxValueChars: 200, maxBytes: 16 * 1024 };

/**
 * Caps a failing-row sample so one wide or huge test result cannot bloat the run log.
 * Pure; returns the rows kept and whether anything was cut.
 *
 * @example
 * capSample([{ id: 1 }, { id: 2 }], { maxRows: 1 }) // { rows: [{ id: 1 }], truncated: true }
 */
export function capSample(
  sample: readonly unknown[],
  limits: Partial<SampleLimits> = {},
): { rows: Record<string, unknown>[]; truncated: boolean } {
  const { maxRows, maxValueChars, maxBytes } = { ...DEFAULT_SAMPLE_LIMITS, ...limits };
  let truncated = sample.length > maxRows;
  const rows: Record<string, unknown>[] = [];
  let bytes = 2;
  for (const row of sample.slice(0, maxRows)) {
    const capped: Record<string, unknown> = {};
    for (const [k, v] of Object.entries((row ?? {}) as Record<string, unknown>)) {
      let value: unknown = typeof v === 'bigint' ? v.toString() : v;
      if (typeof value === 'string' && value.length > maxValueChars) {
        value = `${value.slice(0, maxValueChars)}…`;
        truncated = true;
      }
      capped[k] = value;
    }
    const size = Buffer.byteLength(JSON.stringify(capped)) + 1;
    if (bytes + size > maxBytes) {
      truncated = true;
      break;
    }
    bytes += size;
    rows.push(capped);
  }
  return { rows, truncated };
}
