export { isRunlogError, RunlogError, type RunlogErrorCode } from './errors.js';
export type { FinishJobInput, StartJobInput } from './job-status.js';
export { ABANDONED_MESSAGE, RUN_LOCK_NAMESPACE } from './liveness.js';
export {
  type CreateLoggerOptions,
  createLogger,
  type LogDestination,
  type Logger,
  REDACT_PATHS,
  type RunLogger,
} from './logger.js';
export { MIGRATIONS, type Migration } from './migrations.js';
export type {
  JobRecord,
  RowCountRecord,
  RunDetail,
  RunRecord,
  TestResultRecord,
} from './queries.js';
export { createRedactor, REDACTED, type Redactor, redactArgs, redactSecrets } from './redact.js';
export type { RowCountInput } from './row-counts.js';
export { type CreateRunLogOptions, createRunLog, type FinishRetry, type RunLog } from './run-log.js';
export type { AirflowContext, FinishRunInput, StartRunInput } from './run-rows.js';
export { capSample, DEFAULT_SAMPLE_LIMITS, type SampleLimits } from './sample.js';
export type { JobStatus, RunStatus, SqlQuery } from './statuses.js';
export type { TestResultInput } from './test-results.js';
