import type pg from 'pg';
import { PgError } from './errors.js';
import { classifyPgError } from './sqlstate.js';

/** Something that hands out clients: a `pg.Pool`, or anything with the same `connect()`. */
export interface ClientSource {
  connect(): Promise<pg.PoolClient>;
}

/** Options of {@link withClient}. */
export interface WithClientOptions {
  /**
   * `lost` (default): a client is destroyed only when its connection was lost. `any`: destroyed on
   * any failure, for work that may leave the protocol mid-way (an aborted COPY).
   */
  discardOn?: 'lost' | 'any';
}

const ignoreClientError = (): void => undefined;

/**
 * Runs `fn` on one pooled client and releases it in `finally`. A checked-out client that loses
 * its connection emits 'error' (which would crash the process without a listener), so one is
 * attached for the checkout. A client whose connection was lost (or, with `discardOn: 'any'`,
 * any failed client) is released with the error, so the pool destroys it instead of handing it
 * out again.
 *
 * @example
 * const n = await withClient(pool, async (client) => (await client.query('select 1 as n')).rows[0].n);
 */
export async function withClient<T>(
  pool: ClientSource,
  fn: (client: pg.PoolClient) => Promise<T>,
  options: WithClientOptions = {},
): Promise<T> {
  const client = await pool.connect();
  client.on('error', ignoreClientError);
  try {
    const result = await fn(client);
    client.removeListener('error', ignoreClientError);
    client.release();
    return result;
  } catch (error) {
    const discard = options.discardOn === 'any' || classifyPgError(error).connectionLost;
    // A destroyed client may still emit 'error' after release: its listener stays.
    if (!discard) client.removeListener('error', ignoreClientError);
    client.release(discard ? (error instanceof Error ? error : new Error(String(error))) : undefined);
    throw error;
  }
}

export interface TransactionOptions {
  isolation?: 'read committed' | 'repeatable read' | 'serializable';
  readOnly?: boolean;
}

/**
 * BEGIN, `fn`, COMMIT; ROLLBACK on any failure (a failed ROLLBACK never hides the original error).
 *
 * @example
 * await inTransaction(client, async () => {
 *   await client.query('delete from t where day = $1', [day]);
 *   await client.query('insert into t select …');
 * });
 */
export async function inTransaction<T>(
  client: pg.ClientBase,
  fn: () => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const modes = [
    options.isolation ? `isolation level ${options.isolation}` : '',
    options.readOnly ? 'read only' : '',
  ].filter(Boolean);
  await client.query(modes.length > 0 ? `begin ${modes.join(' ')}` : 'begin');
  try {
    const result = await fn();
    await client.query('commit');
    return result;
  } catch (error) {
    // The connection may already be gone; the original error is what the caller needs.
    await client.query('rollback').catch(() => undefined);
    throw error;
  }
}

const SAVEPOINT_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Runs `fn` under a savepoint inside the caller's transaction: on failure the transaction rolls
 * back to the savepoint and stays usable, and the error is rethrown.
 *
 * @example
 * try { await inSavepoint(client, 'file_1', () => copyFile(client)); } catch (e) { if (!isDataError(e)) throw e; }
 */
export async function inSavepoint<T>(client: pg.ClientBase, name: string, fn: () => Promise<T>): Promise<T> {
  if (!SAVEPOINT_NAME.test(name)) {
    throw new PgError(
      'BAD_SAVEPOINT',
      `savepoint name ${JSON.stringify(name)} must be a lower-case SQL word`,
    );
  }
  await client.query(`savepoint ${name}`);
  try {
    const result = await fn();
    await client.query(`release savepoint ${name}`);
    return result;
  } catch (error) {
    if (!classifyPgError(error).connectionLost) {
      await client.query(`rollback to savepoint ${name}`);
      await client.query(`release savepoint ${name}`);
    }
    throw error;
  }
}
