/** Status of a CLI invocation (`run_history.status`); `abandoned`: its process died without finishing. */
export type RunStatus = 'running' | 'success' | 'failed' | 'aborted' | 'skipped' | 'abandoned';
/** Status of one step (`job_status.status`). */
export type JobStatus = 'running' | 'success' | 'failed' | 'aborted' | 'skipped' | 'warn' | 'abandoned';

/** A parameterised statement: SQL text with `$n` placeholders and its bound values. */
export interface SqlQuery {
  text: string;
  values: unknown[];
}
