export {
  captureDependentViews,
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
  withClient,
} from './transaction.js';
