export {
  captureDependentViews,
  DEPENDENT_VIEW_NAMES_SQL,
  DEPENDENT_VIEWS_SQL,
  type DependentView,
  dropDependentViewsSql,
  recreateDependentViewsSql,
  type ViewGrant,
} from './dependent-views.js';
export { isPgError, PgError, type PgErrorCode } from './errors.js';
export {
  identifierBytes,
  MAX_IDENTIFIER_BYTES,
  qualify,
  quoteIdent,
  quoteLiteral,
  shortName,
  truncateBytes,
} from './identifiers.js';
export {
  backendPids,
  type CancelBackendsOptions,
  type CreatePoolOptions,
  cancelBackends,
  createPool,
  POOL_DEFAULTS,
} from './pool.js';
export {
  parseRunRelationName,
  RUN_RELATION_PATTERN,
  type RunRelationName,
  runRelationName,
  runToken,
  type SweepOptions,
  type SweepResult,
  sweepDeadRunRelations,
} from './run-relations.js';
export {
  classifyPgError,
  isConnectionLost,
  isDataError,
  isRetryablePgError,
  type PgFailure,
  type PgFailureFamily,
  sqlStateOf,
} from './sqlstate.js';
export {
  type ClientSource,
  inSavepoint,
  inTransaction,
  type TransactionOptions,
  type WithClientOptions,
  withClient,
} from './transaction.js';
