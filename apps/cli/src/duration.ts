const DURATION = /^(\d+)\s*(ms|s|min|h)$/;
const UNIT_MS = { ms: 1, s: 1000, min: 60_000, h: 3_600_000 } as const;

/**
 * A duration as written in `dataflow.yml` or the environment: milliseconds as a number, or a
 * number with a unit (`500ms`, `30s`, `10min`, `6h`); `0` means "no limit". `undefined` when the
 * text is not one.
 *
 * @example
 * parseDurationMs('10min'); // 600000
 */
export function parseDurationMs(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const m = DURATION.exec(text);
  return m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : undefined;
}
