import type { Palette } from './colors.js';
import { sampleTable } from './sample-table.js';

/** Failing rows shown under a failing test. */
export const SAMPLE_ROWS = 5;

/** A failed (or warning) step, as the end of a text run lists it. */
export interface FailureInput {
  kind: 'test' | 'unit_test' | 'model' | 'seed' | 'snapshot' | 'ingest' | 'load';
  /** `warn`: a warning test; `error`: anything that failed. */
  level: 'error' | 'warn';
  name: string;
  /** The project file that defines it (`models/schema.yml`). */
  file?: string | undefined;
  /** dbt's explanation (`Got 3 results, configured to fail if != 0`) or the error message. */
  message?: string | undefined;
  /** Tests: failing rows, the test's severity, the first failing rows. */
  failures?: number | undefined;
  severity?: string | undefined;
  sample?: ReadonlyArray<Record<string, unknown>> | undefined;
  /** Where the compiled SQL was written (`target/compiled/shop/models/schema.yml/x.sql`). */
  compiledPath?: string | undefined;
}

const KIND: Record<FailureInput['kind'], string> = {
  test: 'test',
  unit_test: 'unit test',
  model: 'model',
  seed: 'seed',
  snapshot: 'snapshot',
  ingest: 'ingest',
  load: 'load',
};

/**
 * What dbt prints for a failing test at the end of a run: the test and its file, the count
 * against its threshold and severity, the first failing rows as a table, and where its compiled
 * SQL is — never a stack trace. Other failures show their message. Pure; lines without `\n`.
 *
 * @example
 * failureBlock({ kind: 'test', level: 'error', name: 'unique_orders_id', failures: 1,
 *   message: 'Got 1 result, configured to fail if != 0', severity: 'error', sample: [{ id: 7 }] }, palette(false));
 */
export function failureBlock(f: FailureInput, colors: Palette): string[] {
  const what =
    f.level === 'warn' ? 'Warning' : f.kind === 'test' || f.kind === 'unit_test' ? 'Failure' : 'Error';
  const paint = f.level === 'warn' ? colors.yellow : colors.red;
  const out = [paint(`${what} in ${KIND[f.kind]} ${f.name}${f.file ? ` (${f.file})` : ''}`)];
  const message = (f.message ?? '').trimEnd();
  const severity = f.severity ? ` (severity ${f.severity})` : '';
  const lines = message ? message.split('\n') : f.failures !== undefined ? [`Got ${f.failures} results`] : [];
  if (lines.length > 0) lines[0] = `${lines[0]}${severity}`;
  out.push(...lines.map((l) => `  ${l}`));
  const sample = f.sample ?? [];
  if (sample.length > 0) {
    const shown = sample.slice(0, SAMPLE_ROWS);
    out.push('', ...sampleTable(shown).map((l) => `  ${l}`));
    const total = f.failures ?? sample.length;
    if (total > shown.length) out.push(colors.dim(`  (first ${shown.length} of ${total} failing rows)`));
  }
  if (f.compiledPath) out.push('', `  compiled code at ${f.compiledPath}`);
  return out;
}
