import { z } from 'zod';
import { LineageError } from './errors.js';

// Run history as `@dataflow/runlog`'s `getRun` returns it (RunDetail): a run, its jobs, row
// counts and test results. Dates may be Date objects or ISO strings (a JSON round trip).

const time = z.union([z.date(), z.string()]).transform((v, ctx) => {
  const d = v instanceof Date ? v : new Date(v);
  if (Number.isNaN(d.getTime())) {
    ctx.addIssue({ code: 'custom', message: 'expected a date' });
    return z.NEVER;
  }
  return d.toISOString();
});
const count = z.number().nullable().optional();
const text = z.string().nullable().optional();

const jobSchema = z.looseObject({
  step: z.enum(['ingest', 'load', 'seed', 'model', 'test']),
  target: z.string(),
  partition: text,
  status: z.string(),
  startedAt: time,
  endedAt: time.nullable().optional(),
  durationMs: count,
  rowsIn: count,
  rowsOut: count,
  rowsRejected: count,
  errorCode: text,
  errorMessage: text,
});

const testResultSchema = z.looseObject({
  uniqueId: text,
  testName: z.string(),
  status: z.enum(['pass', 'warn', 'fail', 'error', 'skipped']),
  severity: text,
  failures: z.number(),
  sql: text,
  sample: z.array(z.record(z.string(), z.unknown())).default([]),
  sampleTruncated: z.boolean().optional(),
  message: text,
  durationMs: count,
});

const runSchema = z.looseObject({
  runId: z.string(),
  command: z.string(),
  project: text,
  intervalStart: text,
  intervalEnd: text,
  status: z.string(),
  exitCode: count,
  startedAt: time,
  endedAt: time.nullable().optional(),
  durationMs: count,
  rowsIn: z.number().default(0),
  rowsOut: z.number().default(0),
  rowsRejected: z.number().default(0),
  errorCode: text,
  errorMessage: text,
  jobs: z.array(jobSchema).default([]),
  rowCounts: z
    .array(z.looseObject({ dataset: z.string(), partition: text, stage: z.string(), rows: z.number() }))
    .default([]),
  testResults: z.array(testResultSchema).default([]),
});

/** One run of the history, normalised (ISO date strings). */
export type SiteRun = z.infer<typeof runSchema>;
/** One step of a {@link SiteRun}. */
export type SiteJob = z.infer<typeof jobSchema>;
/** One data test outcome of a {@link SiteRun}, with its failing-row sample. */
export type SiteTestResult = z.infer<typeof testResultSchema>;

/**
 * Parses run history rows (runlog `RunDetail`s, or their JSON). Throws `LineageError`
 * `BAD_SITE_INPUT` naming the run index and field.
 *
 * @example
 * const runs = parseRuns(await Promise.all((await runLog.listRuns({ limit: 30 })).map((r) => runLog.getRun(r.runId))));
 */
export function parseRuns(value: unknown): SiteRun[] {
  const parsed = z.array(runSchema).safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new LineageError(
    'BAD_SITE_INPUT',
    `runs.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`,
    {
      cause: parsed.error,
    },
  );
}
