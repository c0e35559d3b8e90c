import { type CreatePoolOptions, POOL_DEFAULTS } from '@dataflow/pg';

/** The timeouts as configured (milliseconds), before environment overrides. */
export interface WarehouseTimeouts {
  connect_timeout?: number | undefined;
  statement_timeout?: number | undefined;
  lock_timeout?: number | undefined;
}

/** Environment variables that override the `warehouse:` timeouts (e.g. per Airflow task); validated like the file. */
export const TIMEOUT_ENV = {
  connect_timeout: 'DATAFLOW_CONNECT_TIMEOUT',
  statement_timeout: 'DATAFLOW_STATEMENT_TIMEOUT',
  lock_timeout: 'DATAFLOW_LOCK_TIMEOUT',
} as const;

/**
 * The `createPool` timeouts of a project: `dataflow.yml` (environment overrides already applied
 * by the config loader) over the defaults of `@dataflow/pg`.
 *
 * @example
 * createPool({ connectionString: url, max: 8, ...poolTimeouts(config.warehouse) });
 */
export function poolTimeouts(
  configured: WarehouseTimeouts,
): Pick<CreatePoolOptions, 'connectTimeoutMs' | 'statementTimeoutMs' | 'lockTimeoutMs'> {
  return {
    connectTimeoutMs: configured.connect_timeout ?? POOL_DEFAULTS.connectTimeoutMs,
    statementTimeoutMs: configured.statement_timeout ?? POOL_DEFAULTS.statementTimeoutMs,
    lockTimeoutMs: configured.lock_timeout ?? POOL_DEFAULTS.lockTimeoutMs,
  };
}
