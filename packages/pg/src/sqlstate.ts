/**
 * What went wrong, by SQLSTATE class and Node socket code: the one table every dataflow package
 * consults to decide whether a failure is worth a retry and whether the connection is gone.
 */
export type PgFailureFamily =
  /** 08xxx, 57P01–57P05, socket errors: the server or the network went away. */
  | 'connection'
  /** 57014: the statement was cancelled (statement_timeout, pg_cancel_backend, our own abort). */
  | 'canceled'
  /** 55P03 lock_not_available (lock_timeout / NOWAIT). */
  | 'lock'
  /** 40001 serialization failure, 40P01 deadlock. */
  | 'conflict'
  /** 53xxx: out of memory, disk full, too many connections. */
  | 'resources'
  /** 28xxx: bad password, no such role; 3D000: no such database. */
  | 'authentication'
  /** 22xxx data exceptions and 23xxx integrity violations: the data is at fault. */
  | 'data'
  /** 42xxx syntax errors, undefined objects, privileges. */
  | 'statement'
  | 'other';

export interface PgFailure {
  family: PgFailureFamily;
  /** Worth retrying the same work unchanged (a later attempt may succeed). */
  retryable: boolean;
  /** The connection cannot be used any more: release it with an error, never back to the pool. */
  connectionLost: boolean;
  sqlState?: string;
}

const SQLSTATE = /^[0-9A-Z]{5}$/;

/** Socket-level codes node-postgres surfaces when the network or server is gone. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** Messages node-postgres throws without a code when the socket ends under a query. */
const LOST_CONNECTION_MESSAGE =
  /Connection terminated|connection .*closed|Client has encountered a connection error|timeout expired|Connection ended/i;

/**
 * The SQLSTATE of a PostgreSQL error (node-postgres puts it in `code`), or undefined.
 *
 * @example
 * sqlStateOf({ code: '23505' }); // '23505'
 * sqlStateOf(new Error('x'));    // undefined
 */
export function sqlStateOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  // `EPIPE` has the shape of a SQLSTATE; socket codes are never one.
  return typeof code === 'string' && SQLSTATE.test(code) && !SOCKET_CODES.has(code) ? code : undefined;
}

function familyOfSqlState(state: string): PgFailureFamily {
  if (state.startsWith('08') || /^57P0[1-5]$/.test(state)) return 'connection';
  if (state === '57014') return 'canceled';
  if (state === '55P03') return 'lock';
  if (state === '40001' || state === '40P01') return 'conflict';
  if (state.startsWith('53')) return 'resources';
  if (state.startsWith('28') || state === '3D000') return 'authentication';
  if (state.startsWith('22') || state.startsWith('23')) return 'data';
  if (state.startsWith('42')) return 'statement';
  return 'other';
}

/** Families where the same work may succeed on a later attempt. */
const RETRYABLE: ReadonlySet<PgFailureFamily> = new Set([
  'connection',
  'canceled',
  'lock',
  'conflict',
  'resources',
]);

/**
 * Classifies any error thrown by node-postgres (or its socket) into one family, with the two
 * decisions callers need: retry it? is the connection dead?
 *
 * A cancelled statement (57014) is retryable: it is what `statement_timeout` and an operator's
 * `pg_cancel_backend` produce; callers that cancelled on purpose (abort) check their signal first.
 *
 * @example
 * classifyPgError({ code: '40P01' }); // { family: 'conflict', retryable: true, connectionLost: false, sqlState: '40P01' }
 */
export function classifyPgError(error: unknown): PgFailure {
  const sqlState = sqlStateOf(error);
  if (sqlState !== undefined) {
    const family = familyOfSqlState(sqlState);
    return { family, retryable: RETRYABLE.has(family), connectionLost: family === 'connection', sqlState };
  }
  const code = (error as { code?: unknown } | null | undefined)?.code;
  const message = error instanceof Error ? error.message : '';
  if ((typeof code === 'string' && SOCKET_CODES.has(code)) || LOST_CONNECTION_MESSAGE.test(message)) {
    return { family: 'connection', retryable: true, connectionLost: true };
  }
  return { family: 'other', retryable: false, connectionLost: false };
}

/**
 * True when the same work may succeed if tried again (connection, cancel, lock timeout,
 * serialization/deadlock, resources).
 *
 * @example
 * isRetryablePgError({ code: '55P03' }); // true
 */
export function isRetryablePgError(error: unknown): boolean {
  return classifyPgError(error).retryable;
}

/**
 * True when the connection is gone (server shutdown, network, socket ended).
 *
 * @example
 * isConnectionLost(Object.assign(new Error('x'), { code: 'ECONNRESET' })); // true
 */
export function isConnectionLost(error: unknown): boolean {
  return classifyPgError(error).connectionLost;
}

/**
 * True for rows the data is to blame for: class 22 (bad input syntax, out of range, wrong column
 * count) and class 23 (NOT NULL, CHECK, unique) — the failures worth isolating row by row.
 *
 * @example
 * isDataError({ code: '22P02' }); // true
 */
export function isDataError(error: unknown): boolean {
  return classifyPgError(error).family === 'data';
}
