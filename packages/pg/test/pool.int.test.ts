import { useTestDatabase } from '@dataflow/testkit';
import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  backendPids,
  cancelBackends,
  createPool,
  POOL_DEFAULTS,
  runRelationName,
  runToken,
  sweepDeadRunRelations,
} from '../src/index.js';

describe('createPool', () => {
  const db = useTestDatabase();
  const pools: pg.Pool[] = [];
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end()));
  });

  it('sets statement_timeout and lock_timeout on every session (defaults and overrides)', async () => {
    const defaults = createPool({ connectionString: db.url, max: 1 });
    const custom = createPool({
      connectionString: db.url,
      max: 1,
      statementTimeoutMs: 1500,
      lockTimeoutMs: 700,
    });
    pools.push(defaults, custom);
    const show = async (pool: pg.Pool) =>
      (
        await pool.query<{ s: string; l: string; a: string }>(
          "select current_setting('statement_timeout') as s, current_setting('lock_timeout') as l, current_setting('application_name') as a",
        )
      ).rows[0];
    expect(await show(defaults)).toEqual({ s: '6h', l: '10min', a: 'dataflow' });
    expect(await show(custom)).toEqual({ s: '1500ms', l: '700ms', a: 'dataflow' });
    expect(POOL_DEFAULTS.connectTimeoutMs).toBe(10_000);
  });

  it('a statement over statement_timeout fails with 57014 instead of running on', async () => {
    const pool = createPool({ connectionString: db.url, max: 1, statementTimeoutMs: 200 });
    pools.push(pool);
    await expect(pool.query('select pg_sleep(30)')).rejects.toMatchObject({ code: '57014' });
  });

  it('cancelBackends cancels a running statement of the pool from another connection', async () => {
    const pool = createPool({ connectionString: db.url, max: 2 });
    pools.push(pool);
    const sleeping = pool.query('select pg_sleep(600)').catch((e: unknown) => e);
    const deadline = Date.now() + 60_000;
    let active = 0;
    while (Date.now() < deadline && active === 0) {
      const pids = backendPids(pool);
      const { rows } = await db.pool.query<{ n: number }>(
        "select count(*)::int as n from pg_stat_activity where pid = any($1::int[]) and query like 'select pg_sleep(600)%' and state = 'active'",
        [pids],
      );
      active = rows[0]?.n ?? 0;
    }
    expect(active).toBe(1);
    // Read the pids before cancelling: a cancelled client may leave the pool before we compare.
    const before = backendPids(pool);
    const { cancelled } = await cancelBackends(before, { connectionString: db.url });
    expect(cancelled).toEqual(before);
    expect(await sleeping).toMatchObject({ code: '57014' });
  });

  it('cancelBackends rejects when the server cannot be reached', async () => {
    await expect(
      cancelBackends([1], { connectionString: 'postgres://x:y@127.0.0.1:1/db', timeoutMs: 2000 }),
    ).rejects.toThrow();
  });
});

describe('sweepDeadRunRelations', () => {
  const db = useTestDatabase();

  it('drops the relations of dead runs only: a live run and unrelated names are kept', async () => {
    const dead = '20260501T000000Z-deaddead';
    const live = '20260501T000000Z-a1a1a1a1';
    const s = db.schema;
    const q = (n: string) => `"${s}"."${n}"`;
    const deadStaging = runRelationName('raw_orders', 'stg', dead, '0');
    const deadTemp = runRelationName('dim_x', 'tmp', dead);
    const deadView = runRelationName('stg_x', 'tmp', dead);
    const liveTemp = runRelationName('dim_x', 'tmp', live);
    await db.pool.query(`create unlogged table ${q(deadStaging)} (id int)`);
    await db.pool.query(`create table ${q(deadTemp)} (id int)`);
    await db.pool.query(`create view ${q(deadView)} as select id from ${q(deadTemp)}`);
    await db.pool.query(`create table ${q(liveTemp)} (id int)`);
    await db.pool.query(`create table ${q('dim_x')} (id int)`);
    const asked: string[] = [];
    const result = await sweepDeadRunRelations(db.pool, {
      schemas: [s],
      isDead: (token) => {
        asked.push(token);
        return token === runToken(dead);
      },
    });
    expect(result.failed).toEqual([]);
    // The view goes first: it depends on a dead table, and nothing is dropped with CASCADE.
    expect(result.dropped[0]).toBe(q(deadView));
    expect([...result.dropped].sort()).toEqual([q(deadView), q(deadStaging), q(deadTemp)].sort());
    expect(result.kept).toEqual([q(liveTemp)]);
    expect(asked.sort()).toEqual([runToken(dead), runToken(live)].sort());
    const { rows } = await db.pool.query<{ relname: string }>(
      'select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 order by 1',
      [s],
    );
    expect(rows.map((r) => r.relname)).toEqual(['dim_x', liveTemp].sort());
  });
});
