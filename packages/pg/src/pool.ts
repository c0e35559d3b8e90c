import pg from 'pg';

/** Options of {@link createPool}; every timeout in milliseconds, 0 meaning "none". */
export interface CreatePoolOptions {
  connectionString: string;
  /** Connections at most. Default 10. */
  max?: number;
  /** `application_name` shown in `pg_stat_activity`. Default `dataflow`. */
  applicationName?: string;
  /** Give up connecting after this long (a server that accepts but never answers). Default 10 s. */
  connectTimeoutMs?: number;
  /** Server-side `statement_timeout` of every session. Default 6 h. */
  statementTimeoutMs?: number;
  /** Server-side `lock_timeout` (also bounds advisory-lock waits). Default 10 min. */
  lockTimeoutMs?: number;
  /** TCP keepalive, so a peer that vanished is noticed by the kernel. Default on, first probe after 10 s. */
  keepAliveInitialDelayMs?: number;
  /** An idle client losing its connection; without a handler the process would crash. */
  onIdleError?: (error: Error) => void;
}

/** The defaults {@link createPool} applies. */
export const POOL_DEFAULTS = {
  max: 10,
  applicationName: 'dataflow',
  connectTimeoutMs: 10_000,
  statementTimeoutMs: 6 * 60 * 60 * 1000,
  lockTimeoutMs: 10 * 60 * 1000,
  keepAliveInitialDelayMs: 10_000,
} as const;

const clientsOf = new WeakMap<pg.Pool, Set<pg.Client>>();

/**
 * The one way dataflow opens PostgreSQL pools: connect timeout, TCP keepalive, `statement_timeout`
 * and `lock_timeout` set on every session, idle errors handled, and the backend pids of its
 * connections known (see {@link backendPids}) so work can be cancelled from another connection.
 *
 * @example
 * const pool = createPool({ connectionString: process.env.DATABASE_URL ?? '', max: 4, lockTimeoutMs: 30_000 });
 */
export function createPool(options: CreatePoolOptions): pg.Pool {
  const o = { ...POOL_DEFAULTS, ...definedOnly(options) };
  const config: pg.PoolConfig = {
    connectionString: o.connectionString,
    max: o.max,
    application_name: o.applicationName,
    connectionTimeoutMillis: o.connectTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: o.keepAliveInitialDelayMs,
    // node-postgres sends these as startup parameters; 0 leaves the server default.
    statement_timeout: o.statementTimeoutMs,
    lock_timeout: o.lockTimeoutMs,
  };
  const pool = new pg.Pool(config);
  const clients = new Set<pg.Client>();
  clientsOf.set(pool, clients);
  pool.on('connect', (client) => clients.add(client as pg.Client));
  pool.on('remove', (client) => clients.delete(client as pg.Client));
  pool.on('error', (error) => (options.onIdleError ?? (() => undefined))(error));
  return pool;
}

function definedOnly<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/**
 * The server process ids of the connections a pool made with {@link createPool} holds now (idle
 * or busy). Empty for a pool made otherwise.
 *
 * @example
 * await cancelBackends(backendPids(pool), { connectionString });
 */
export function backendPids(pool: pg.Pool): number[] {
  // processID comes from BackendKeyData; @types/pg does not declare it.
  return [...(clientsOf.get(pool) ?? [])].flatMap((c) => {
    const pid = (c as { processID?: unknown }).processID;
    return typeof pid === 'number' ? [pid] : [];
  });
}

/** Options of {@link cancelBackends}. */
export interface CancelBackendsOptions {
  connectionString: string;
  /** Bound on connecting and on the cancel statement. Default 5 s. */
  timeoutMs?: number;
}

/**
 * Cancels whatever statement each backend runs (`pg_cancel_backend`), from a fresh connection of
 * its own: the connections running the work may be stuck in a COPY or a lock wait. Resolves with
 * the pids the server signalled; rejects when the server cannot be reached within the timeout.
 *
 * @example
 * const { cancelled } = await cancelBackends(backendPids(pool), { connectionString, timeoutMs: 3000 });
 */
export async function cancelBackends(
  pids: readonly number[],
  options: CancelBackendsOptions,
): Promise<{ cancelled: number[] }> {
  if (pids.length === 0) return { cancelled: [] };
  const timeoutMs = options.timeoutMs ?? 5000;
  const client = new pg.Client({
    connectionString: options.connectionString,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    application_name: 'dataflow-cancel',
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ pid: number }>(
      'select pid from unnest($1::int[]) as pid where pg_cancel_backend(pid)',
      [pids],
    );
    return { cancelled: rows.map((r) => r.pid) };
  } finally {
    // end() waits for the server's goodbye, which a frozen server never sends.
    const ended = client.end().catch(() => undefined);
    await Promise.race([ended, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }
}
