import { quoteIdent } from '@dataflow/pg';
import type { Redactor } from './redact.js';
import { capSample, type SampleLimits } from './sample.js';
import type { SqlQuery } from './statuses.js';

/** One data-test result for `RunLog.recordTestResults`; the sample is capped. */
export interface TestResultInput {
  uniqueId?: string | undefined;
  name: string;
  status: 'pass' | 'warn' | 'fail' | 'error' | 'skipped';
  severity?: string | undefined;
  failures?: number | undefined;
  sql?: string | undefined;
  sample?: readonly unknown[] | undefined;
  message?: string | undefined;
  durationMs?: number | undefined;
}

const COLUMNS = [
  ['unique_id', 'text'],
  ['test_name', 'text'],
  ['status', 'text'],
  ['severity', 'text'],
  ['failures', 'bigint'],
  ['sql', 'text'],
  ['sample', 'jsonb'],
  ['sample_truncated', 'boolean'],
  ['message', 'text'],
  ['duration_ms', 'bigint'],
] as const;

/**
 * The one INSERT of a batch of test results (unnest of parallel arrays keeps every value bound),
 * or `undefined` for an empty batch. The test SQL, the message and every sample value are
 * redacted like everything else the run log stores: test SQL can carry an `env_var()` secret.
 * Pure.
 *
 * @example
 * testResultsQuery('dataflow', 'r1', [{ name: 'not_null_id', status: 'pass' }], createRedactor());
 */
export function testResultsQuery(
  schema: string,
  runId: string,
  results: readonly TestResultInput[],
  redactor: Redactor,
  sampleLimits?: Partial<SampleLimits>,
): SqlQuery | undefined {
  if (results.length === 0) return undefined;
  const rows = results.map((r) => {
    const { rows: sample, truncated } = capSample(r.sample ?? [], sampleLimits);
    return [
      r.uniqueId ?? null,
      r.name,
      r.status,
      r.severity ?? null,
      r.failures ?? 0,
      r.sql === undefined ? null : redactor.redact(r.sql),
      JSON.stringify(redactor.redactValue(sample)),
      truncated,
      r.message === undefined ? null : redactor.redact(r.message),
      r.durationMs ?? null,
    ];
  });
  const names = COLUMNS.map(([name]) => name).join(', ');
  const arrays = COLUMNS.map(([, type], i) => `$${i + 2}::${type}[]`).join(', ');
  return {
    text: `insert into ${quoteIdent(schema)}.test_results (run_id, ${names})
select $1, * from unnest(${arrays})`,
    values: [runId, ...COLUMNS.map((_, i) => rows.map((r) => r[i]))],
  };
}
