export { isRunlogError, RunlogError, type RunlogErrorCode } from './errors.js';
export {
  type CreateLoggerOptions,
  createLogger,
  type LogDestination,
  type Logger,
  REDACT_PATHS,
  type RunLogger,
} from './logger.js';
export { createRedactor, REDACTED, type Redactor, redactArgs, redactSecrets } from './redact.js';
export {
  type AirflowContext,
  type CreateRunLogOptions,
  createRunLog,
  type FinishJobInput,
  type FinishRunInput,
  type JobRecord,
  type RowCountInput,
  type RowCountRecord,
  type RunDetail,
  type RunLog,
  type RunRecord,
  type StartJobInput,
  type StartRunInput,
  type TestResultInput,
  type TestResultRecord,
} from './run-log.js';
export { capSample, DEFAULT_SAMPLE_LIMITS, type SampleLimits } from './sample.js';
export { type JobStatus, MIGRATIONS, type Migration, quoteIdent, type RunStatus } from './schema.js';
