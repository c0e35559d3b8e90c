import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { useTestDatabase } from '@dataflow/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyInto, WarehouseError } from '../src/index.js';

const db = useTestDatabase();

/** A lazy CSV source of `rows` rows `i,name-i`; counts the bytes it has produced. */
function rowSource(rows: number, options: { failAfter?: number } = {}) {
  let i = 0;
  const state = { produced: 0 };
  const stream = new Readable({
    highWaterMark: 16 * 1024,
    read() {
      if (options.failAfter !== undefined && i >= options.failAfter) {
        this.destroy(new Error('source broke'));
        return;
      }
      if (i >= rows) {
        this.push(null);
        return;
      }
      let chunk = '';
      const end = Math.min(rows, i + 500, options.failAfter ?? Number.POSITIVE_INFINITY);
      for (; i < end; i++) chunk += `${i},name-${i}\n`;
      state.produced += chunk.length;
      this.push(chunk);
    },
  });
  return { stream, state };
}

let pool: pg.Pool;
beforeAll(async () => {
  // A small pool of its own, to observe clients being released or discarded.
  pool = new pg.Pool({ connectionString: db.connectionString(), max: 2 });
  pool.on('error', () => undefined);
  await db.pool.query('CREATE TABLE items (id integer PRIMARY KEY, name text)');
});
afterAll(async () => {
  await pool.end();
});

async function count(): Promise<number> {
  const { rows } = await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM items');
  return Number(rows[0]?.n);
}

describe('copyInto', () => {
  it('copies CSV with a header into the named columns and reports the row count', async () => {
    await db.pool.query('TRUNCATE items');
    const source = Readable.from(['name,id\n', 'a,1\n"b, with comma",2\n', ',3\n']);
    const result = await copyInto(pool, {
      table: 'items',
      schema: db.schema,
      columns: ['name', 'id'],
      header: true,
      source,
    });
    expect(result).toEqual({ rows: 3 });
    const { rows } = await db.pool.query('SELECT id, name FROM items ORDER BY id');
    expect(rows).toEqual([
      { id: 1, name: 'a' },
      { id: 2, name: 'b, with comma' },
      { id: 3, name: null },
    ]);
    expect(pool.idleCount).toBe(pool.totalCount);
  });

  it('copies PostgreSQL text format with a custom NULL string', async () => {
    await db.pool.query('TRUNCATE items');
    const source = Readable.from(['10\tten\n11\t-\n']);
    const result = await copyInto(pool, { table: 'items', format: 'text', nullString: '-', source });
    expect(result.rows).toBe(2);
    const { rows } = await db.pool.query('SELECT id, name FROM items ORDER BY id');
    expect(rows).toEqual([
      { id: 10, name: 'ten' },
      { id: 11, name: null },
    ]);
  });

  it('streams 100k rows under pipeline (one COPY)', async () => {
    await db.pool.query('TRUNCATE items');
    const { stream } = rowSource(100_000);
    expect(await copyInto(pool, { table: 'items', columns: ['id', 'name'], source: stream })).toEqual({
      rows: 100_000,
    });
    expect(await count()).toBe(100_000);
  });

  it('a source that errors mid-way sends CopyFail: nothing committed, pool healthy', async () => {
    await db.pool.query('TRUNCATE items');
    const { stream } = rowSource(100_000, { failAfter: 20_000 });
    const error = await copyInto(pool, { table: 'items', source: stream }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WarehouseError);
    expect((error as WarehouseError).message).not.toContain('name-');
    expect(await count()).toBe(0);
    const { rows } = await pool.query('SELECT 1 AS ok');
    expect(rows).toEqual([{ ok: 1 }]);
    expect(pool.waitingCount).toBe(0);
  });

  it('destroying the source mid-way rolls the COPY back', async () => {
    await db.pool.query('TRUNCATE items');
    const { stream, state } = rowSource(1_000_000);
    const pending = copyInto(pool, { table: 'items', source: stream }).catch((e: unknown) => e);
    while (state.produced < 1_000_000) await sleep(5);
    stream.destroy(new Error('cancelled by caller'));
    const error = await pending;
    expect(error).toMatchObject({ code: 'COPY_FAILED' });
    expect(await count()).toBe(0);
  });

  it('aborting the signal mid-way yields ABORTED and commits nothing', async () => {
    await db.pool.query('TRUNCATE items');
    const { stream, state } = rowSource(1_000_000);
    const controller = new AbortController();
    const pending = copyInto(pool, { table: 'items', source: stream, signal: controller.signal }).catch(
      (e: unknown) => e,
    );
    while (state.produced < 1_000_000) await sleep(5);
    controller.abort();
    const error = await pending;
    expect(error).toMatchObject({ code: 'ABORTED', retryable: false });
    expect(await count()).toBe(0);
    expect((await pool.query('SELECT 2 AS ok')).rows).toEqual([{ ok: 2 }]);
  });

  it('a bad value fails the whole COPY with SQLSTATE and line, without the value in the message', async () => {
    await db.pool.query('TRUNCATE items');
    const source = Readable.from(['1,a\n2,b\nsecret-value,c\n4,d\n']);
    const error = (await copyInto(pool, { table: 'items', source }).catch(
      (e: unknown) => e,
    )) as WarehouseError;
    expect(error).toMatchObject({ code: 'COPY_FAILED', sqlState: '22P02', line: 3, retryable: false });
    expect(error.message).not.toContain('secret-value');
    expect(await count()).toBe(0);
  });

  it('honours backpressure: a blocked COPY stops pulling from the source', async () => {
    await db.pool.query('TRUNCATE items');
    // An uncommitted row with id 50000 makes the COPY wait on that key, mid-stream.
    const blocker = await db.pool.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query("INSERT INTO items VALUES (50000, 'blocker')");
      const { stream, state } = rowSource(1_500_000); // ~23 MB if read eagerly
      const pending = copyInto(pool, { table: 'items', source: stream }).catch((e: unknown) => e);
      await sleep(1500);
      const producedWhileBlocked = state.produced;
      await sleep(500);
      expect(state.produced).toBe(producedWhileBlocked);
      // Only socket and stream buffers worth of data, not the whole source.
      expect(producedWhileBlocked).toBeLessThan(12 * 1024 * 1024);
      await blocker.query('ROLLBACK');
      expect(await pending).toEqual({ rows: 1_500_000 });
    } finally {
      blocker.release();
    }
    expect(await count()).toBe(1_500_000);
  });

  it('rejects a table name over 63 bytes before touching the database', async () => {
    const unreachable = new pg.Pool({ host: '127.0.0.1', port: 1, connectionTimeoutMillis: 500 });
    unreachable.on('error', () => undefined);
    try {
      await expect(
        copyInto(unreachable, { table: 't'.repeat(64), source: Readable.from(['1\n']) }),
      ).rejects.toMatchObject({ code: 'IDENTIFIER_TOO_LONG' });
      expect(unreachable.totalCount).toBe(0);
    } finally {
      await unreachable.end();
    }
  });
});
