import type pg from 'pg';

/**
 * Runs `fn` between BEGIN and COMMIT on `client`; ROLLBACK on any failure.
 *
 * @example
 * await inTransaction(client, async () => { await client.query('…'); });
 */
export async function inTransaction<T>(client: pg.ClientBase, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await fn();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    // On a broken connection the rollback fails too; the original error is what matters.
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
