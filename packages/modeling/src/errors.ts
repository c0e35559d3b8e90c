import { isRetryablePgError } from '@dataflow/pg';
/** Stable error codes of `@dataflow/modeling`. */
export type ModelingErrorCode =
  /** No `dataflow.yml` / `dbt_project.yml` in the project directory, or it cannot be read. */
  | 'PROJECT_NOT_FOUND'
  /** The project file is not valid YAML or misses required keys. */
  | 'PROJECT_CONFIG_INVALID'
  /** {@link assertCompiled}: the compile reported error diagnostics. */
  | 'COMPILE_FAILED'
  /** An incremental batch has rows with a NULL in `unique_key`. */
  | 'NULL_UNIQUE_KEY'
  /** An incremental batch repeats `unique_key` values (merge / delete+insert). */
  | 'DUPLICATE_UNIQUE_KEY'
  /** Error-severity tests failed against the temp relation; nothing was published. */
  | 'AUDIT_FAILED'
  /** An incremental model's columns differ from its table and `on_schema_change` is `fail`. */
  | 'SCHEMA_CHANGED'
  /** A snapshot cannot run: its source query or existing table does not fit its configuration. */
  | 'SNAPSHOT_INVALID'
  /** A unit test cannot run: its fixtures do not fit the model (unknown column, bad CSV, missing input). */
  | 'UNIT_TEST_INVALID'
  /** A `select` / `exclude` spec uses a selector method that does not exist (`bogus:x`). */
  | 'INVALID_SELECTOR'
  /** `--state DIR` / a previous `run_results.json`: missing, unreadable or not the expected JSON. */
  | 'STATE_INVALID'
  /** `installPackages`: a requirements file is malformed, or a package cannot be resolved, fetched or unpacked. */
  | 'DEPS_FAILED'
  /** The build's AbortSignal fired. */
  | 'ABORTED'
  /** A model's materialization or incremental strategy is one dataflow does not build (see `ModelConfig.unsupported`). */
  | 'UNSUPPORTED_CONFIG'
  /** A `pre-hook`, `post-hook`, `on-run-start` or `on-run-end` statement failed. */
  | 'HOOK_FAILED';

/** Options of {@link ModelingError}. */
export interface ModelingErrorOptions {
  retryable?: boolean;
  node?: string;
  file?: string;
  cause?: unknown;
}

/**
 * True when a driver error looks transient (connection loss, cancel, lock timeout, deadlock,
 * resources): `@dataflow/pg`'s one SQLSTATE table.
 *
 * @example
 * isRetryableCause({ code: '40P01' }); // true (deadlock)
 * isRetryableCause({ code: '23505' }); // false (unique violation)
 */
export function isRetryableCause(cause: unknown): boolean {
  return isRetryablePgError(cause);
}

/**
 * The one error class of `@dataflow/modeling`. The `code` is a literal union; messages never
 * contain row values except the unique-key values of offending rows for NULL_UNIQUE_KEY /
 * DUPLICATE_UNIQUE_KEY, which are the point of those errors.
 *
 * @example
 * try { await build(pool, graph, { runId }); } catch (e) { if (e instanceof ModelingError && e.code === 'ABORTED') ... }
 */
export class ModelingError extends Error {
  override readonly name = 'ModelingError';
  readonly code: ModelingErrorCode;
  readonly retryable: boolean;
  readonly node: string | undefined;
  readonly file: string | undefined;

  constructor(code: ModelingErrorCode, message: string, options: ModelingErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? isRetryableCause(options.cause);
    this.node = options.node;
    this.file = options.file;
  }
}

/**
 * Whether `error` is a {@link ModelingError} (with that `code`, when given): a typed narrowing instead
 * of a cast to `{ code }`.
 *
 * @example
 * if (isModelingError(error, 'INVALID_SELECTOR')) process.exitCode = 2;
 */
export function isModelingError(error: unknown, code?: ModelingErrorCode): error is ModelingError {
  return error instanceof ModelingError && (code === undefined || error.code === code);
}
