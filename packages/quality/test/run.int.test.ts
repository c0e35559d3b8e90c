import { testServices, useTestDatabase } from '@dataflow/testkit';
import pg from 'pg';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type CompiledTest,
  compileGenericTest,
  compileSingularTest,
  createTestRegistry,
  type GenericTestInvocation,
  QualityError,
  type RelationResolver,
  runTest,
  runTests,
  summarize,
  type TestConfig,
} from '../src/index.js';

const db = useTestDatabase();

const q = (name: string) => `"${db.schema}"."${name}"`;
const resolver = (relation: string): RelationResolver => ({
  relation: q(relation),
  resolve: (ref) => q(/^ref\('([^']+)'\)$/.exec(ref)?.[1] ?? ref),
});

function generic(
  test: string,
  column: string | undefined,
  args: Record<string, unknown> = {},
  config?: TestConfig,
  relation = 'orders',
): CompiledTest {
  const inv: GenericTestInvocation = { test, model: relation, args };
  if (column !== undefined) inv.column = column;
  if (config !== undefined) inv.config = config;
  return compileGenericTest(inv, resolver(relation));
}

beforeAll(async () => {
  // Built so that each test fails an exact, known number of times (comments give the counts).
  await db.pool.query(`
    create table customers (id int);
    insert into customers values (1), (2), (3), (null);
    create table orders (id int, customer_id int, status text, amount numeric(10,2), ordered_on date);
    insert into orders values
      (1,    1,    'placed',  10, '2018-01-01'),
      (2,    1,    'shipped', 20, '2018-01-02'),
      (3,    2,    'bogus',   -5, '2018-01-03'),
      (4,    99,   'bogus',   null, '2018-01-04'),
      (5,    null, null,      30, '2018-01-05'),
      (5,    98,   'weird',   40, '2018-01-06'),
      (6,    2,    'placed',  50, '2018-01-07'),
      (6,    3,    'placed',  70, '2018-01-08'),
      (null, 3,    'placed',  60, '2018-01-09'),
      (null, 3,    'placed',  61, '2018-01-10');
    create table events (loaded_at timestamptz);
    create table empty_events (loaded_at timestamptz);
  `);
});

describe('failure counts match dbt semantics', () => {
  it.each<[string, CompiledTest | (() => CompiledTest), number]>([
    // two NULL ids
    ['not_null', () => generic('not_null', 'id'), 2],
    // ids 5 and 6 are duplicated; the two NULL ids are ignored
    ['unique ignores NULLs', () => generic('unique', 'id'), 2],
    // distinct bad values 'bogus' (twice) and 'weird'; NULL status ignored
    [
      'accepted_values ignores NULLs',
      () => generic('accepted_values', 'status', { values: ['placed', 'shipped'] }),
      2,
    ],
    // customer 99 and 98 missing; NULL customer ignored; NULL parent id never matches
    [
      'relationships ignores NULLs',
      () => generic('relationships', 'customer_id', { to: "ref('customers')", field: 'id' }),
      2,
    ],
    // -5 only; NULL amount is not a failure
    [
      'expression_is_true with column',
      () => generic('expression_is_true', 'amount', { expression: '>= 0' }),
      1,
    ],
    // -5 (id 3) and both id-6 rows; rows where the expression is NULL are not failures
    [
      'expression_is_true on the row',
      () => generic('dbt_utils.expression_is_true', undefined, { expression: 'amount >= 0 and id < 6' }),
      3,
    ],
    // (3, placed) three times
    [
      'unique_combination_of_columns',
      () =>
        generic('unique_combination_of_columns', undefined, {
          combination_of_columns: ['customer_id', 'status'],
        }),
      1,
    ],
    // -5, 60, 61, 70
    [
      'accepted_range inclusive',
      () => generic('accepted_range', 'amount', { min_value: 0, max_value: 50 }),
      4,
    ],
    // plus 50
    [
      'accepted_range exclusive',
      () => generic('accepted_range', 'amount', { min_value: -5, max_value: 50, inclusive: false }),
      5,
    ],
    [
      'accepted_range with a SQL bound',
      () => generic('accepted_range', 'ordered_on', { max_value: "'2018-01-08'::date" }),
      2,
    ],
    ['row_count out of range', () => generic('row_count', undefined, { min_value: 1, max_value: 5 }), 1],
    ['row_count in range', () => generic('row_count', undefined, { min_value: 10, max_value: 10 }), 0],
    // `where` wraps the relation: of the NULL ids only amount 60 is kept
    ['where filters the tested relation', () => generic('not_null', 'id', {}, { where: 'amount < 61' }), 1],
    [
      'limit caps the failing rows',
      () => generic('accepted_range', 'amount', { min_value: 0, max_value: 50 }, { limit: 2 }),
      2,
    ],
    [
      'singular test',
      () => compileSingularTest({ name: 'negative', sql: `select * from ${q('orders')} where amount < 0;` }),
      1,
    ],
  ])('%s', async (_label, make, failures) => {
    const test = typeof make === 'function' ? make() : make;
    const result = await runTest(db.pool, test);
    expect(result.failures).toBe(failures);
    expect(result.status).toBe(failures === 0 ? 'pass' : 'fail');
    expect(result.sample.length).toBe(Math.min(failures, test.config.failCalc ? 2 : 20));
    expect(result.sql).toBe(test.sql);
    expect(result.durationMs).toBeGreaterThan(0);
    expect(Date.parse(result.startedAt)).not.toBeNaN();
  });
});

describe('samples', () => {
  it('holds failing rows, key columns first, JSON-safe values', async () => {
    const result = await runTest(db.pool, generic('not_null', 'id'));
    expect(result.sample).toEqual([
      { id: null, customer_id: 3, status: 'placed', amount: '60.00', ordered_on: expect.any(String) },
      { id: null, customer_id: 3, status: 'placed', amount: '61.00', ordered_on: expect.any(String) },
    ]);
    expect(Object.keys(result.sample[0] ?? {})[0]).toBe('id');
    expect(new Date(result.sample[0]?.ordered_on as string).toISOString()).toBe(result.sample[0]?.ordered_on);
    expect(JSON.parse(JSON.stringify(result.sample))).toEqual(result.sample);
  });

  it('unique sample has the duplicated values and their counts (bigint as string)', async () => {
    const result = await runTest(db.pool, generic('unique', 'id'));
    const sorted = [...result.sample].sort((a, b) => Number(a.unique_field) - Number(b.unique_field));
    expect(sorted).toEqual([
      { unique_field: 5, n_records: '2' },
      { unique_field: 6, n_records: '2' },
    ]);
  });

  it('is capped by storeFailuresLimit while failures keep the full count', async () => {
    const one = await runTest(
      db.pool,
      generic('accepted_range', 'amount', { min_value: 0, max_value: 50 }, { storeFailuresLimit: 1 }),
    );
    expect(one.failures).toBe(4);
    expect(one.sample).toHaveLength(1);
    const none = await runTest(
      db.pool,
      generic('accepted_range', 'amount', { min_value: 0, max_value: 50 }, { storeFailuresLimit: 0 }),
    );
    expect(none.failures).toBe(4);
    expect(none.sample).toEqual([]);
  });
});

describe('severity and thresholds', () => {
  // unique(id) has 2 failures
  it.each<[TestConfig, string, string | undefined]>([
    [{}, 'fail', 'Got 2 results, configured to fail if != 0'],
    [{ severity: 'warn' }, 'warn', 'Got 2 results, configured to warn if != 0'],
    [{ errorIf: '>2', warnIf: '>1' }, 'warn', 'Got 2 results, configured to warn if > 1'],
    [{ errorIf: '>=2' }, 'fail', 'Got 2 results, configured to fail if >= 2'],
    [{ errorIf: '>5', warnIf: '>5' }, 'pass', undefined],
    [{ severity: 'warn', errorIf: '>0', warnIf: '>10' }, 'pass', undefined],
  ])('%j → %s', async (config, status, message) => {
    const result = await runTest(db.pool, generic('unique', 'id', {}, config));
    expect(result.status).toBe(status);
    expect(result.failures).toBe(2);
    expect(result.severity).toBe(config.severity ?? 'error');
    expect(result.message).toBe(message);
  });
});

describe('freshness', () => {
  const fresh = (relation: string, args: Record<string, unknown>, config?: TestConfig) =>
    generic('freshness', 'loaded_at', args, config, relation);
  const both = { warn_after: { count: 24, period: 'hour' }, error_after: { count: 2, period: 'day' } };

  it.each<[string, string, string]>([
    ['1 hour old', `now() - interval '1 hour'`, 'pass'],
    ['30 hours old', `now() - interval '30 hours'`, 'warn'],
    ['3 days old', `now() - interval '3 days'`, 'fail'],
  ])('%s → %s', async (_label, loadedAt, status) => {
    await db.pool.query(
      `truncate events; insert into events values (${loadedAt}), (now() - interval '10 days')`,
    );
    const result = await runTest(db.pool, fresh('events', both));
    expect(result.status).toBe(status);
    expect(result.failures).toBe(status === 'pass' ? 0 : 1);
    if (status !== 'pass') {
      expect(result.sample[0]).toMatchObject({ freshness_status: status === 'fail' ? 'error' : 'warn' });
      expect(Number(result.sample[0]?.age_seconds)).toBeGreaterThan(29 * 3600);
    }
  });

  it('an empty table is stale at the error level', async () => {
    const result = await runTest(db.pool, fresh('empty_events', both));
    expect(result).toMatchObject({ status: 'fail', failures: 1 });
    expect(result.sample[0]).toMatchObject({ max_loaded_at: null, freshness_status: 'error' });
  });

  it('warn_after only never fails; error_after only fails; severity warn downgrades', async () => {
    await db.pool.query(`truncate events; insert into events values (now() - interval '3 days')`);
    expect((await runTest(db.pool, fresh('events', { warn_after: both.warn_after }))).status).toBe('warn');
    expect((await runTest(db.pool, fresh('events', { error_after: both.error_after }))).status).toBe('fail');
    expect((await runTest(db.pool, fresh('events', both, { severity: 'warn' }))).status).toBe('warn');
  });
});

describe('errors in test SQL', () => {
  it('a missing relation gives status error with SQLSTATE 42P01, not a throw', async () => {
    const test = compileSingularTest({ name: 'missing', sql: 'select * from no_such_table' });
    const result = await runTest(db.pool, test);
    expect(result).toMatchObject({ status: 'error', failures: 0, sample: [], sqlstate: '42P01' });
    expect(result.message).toMatch(/^SQLSTATE 42P01: relation "no_such_table" does not exist/);
    expect(summarize([result]).hasErrors).toBe(true);
  });

  it('a runtime error (division by zero) gives status error 22012 and the pool stays usable', async () => {
    const test = compileSingularTest({
      name: 'div',
      sql: 'select 1 / (count(*) - count(*)) as x from orders',
    });
    for (let i = 0; i < 10; i++) {
      expect(await runTest(db.pool, test)).toMatchObject({ status: 'error', sqlstate: '22012' });
    }
    expect(db.pool.waitingCount).toBe(0);
    expect((await db.pool.query('select count(*)::int as n from orders')).rows[0]).toEqual({ n: 10 });
  });

  it('statementTimeoutMs turns a slow test into status error 57014', async () => {
    const test = compileSingularTest({ name: 'slow', sql: 'select pg_sleep(5) as x' });
    const started = Date.now();
    const result = await runTest(db.pool, test, { statementTimeoutMs: 100 });
    expect(result).toMatchObject({ status: 'error', sqlstate: '57014' });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('test SQL runs read-only', async () => {
    const test = compileSingularTest({ name: 'writes', sql: "select nextval('orders_seq') as x" });
    await db.pool.query('create sequence orders_seq');
    expect(await runTest(db.pool, test)).toMatchObject({ status: 'error', sqlstate: '25006' });
  });

  it('after an error no pooled session is left inside a transaction', async () => {
    const applicationName = `quality_rollback_${process.pid}`;
    const pool = new pg.Pool({
      connectionString: db.connectionString(),
      application_name: applicationName,
      max: 2,
    });
    try {
      const broken = compileSingularTest({ name: 'div', sql: 'select 1 / 0 as x' });
      const results = await runTests(pool, [broken, broken, broken, generic('not_null', 'id')], {
        concurrency: 2,
      });
      expect(results.map((r) => r.status)).toEqual(['error', 'error', 'error', 'fail']);
      const { rows } = await db.pool.query(
        `select state from pg_stat_activity where application_name = $1 order by state`,
        [applicationName],
      );
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((r) => r.state === 'idle')).toBe(true);
    } finally {
      await pool.end();
    }
  });

  it('a connection killed mid-test throws CONNECTION_FAILED and the pool drops that client', async () => {
    const applicationName = `quality_killed_${process.pid}`;
    const pool = new pg.Pool({
      connectionString: db.connectionString(),
      application_name: applicationName,
      max: 1,
    });
    pool.on('error', () => undefined);
    try {
      const slow = compileSingularTest({ name: 'slow', sql: 'select pg_sleep(10) as x' });
      const pending = runTest(pool, slow).catch((e: unknown) => e);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await db.pool.query(
        `select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1`,
        [applicationName],
      );
      const error = await pending;
      expect(error).toBeInstanceOf(QualityError);
      expect(error).toMatchObject({
        code: 'CONNECTION_FAILED',
        retryable: true,
        test: 'slow',
        sqlstate: '57P01',
      });
      expect(pool.totalCount).toBe(0);
      expect(await runTest(pool, generic('not_null', 'id'))).toMatchObject({ status: 'fail', failures: 2 });
    } finally {
      await pool.end();
    }
  });

  it('an unreachable database throws CONNECTION_FAILED (retryable)', async () => {
    const url = new URL(testServices().databaseUrl);
    url.port = '1';
    const pool = new pg.Pool({ connectionString: url.toString(), connectionTimeoutMillis: 2000 });
    try {
      const error = await runTest(pool, generic('not_null', 'id')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(QualityError);
      expect(error).toMatchObject({ code: 'CONNECTION_FAILED', retryable: true, test: 'not_null_orders_id' });
    } finally {
      await pool.end();
    }
  });
});

describe('sessions owned by the caller (write-audit-publish)', () => {
  it('runs on a client inside its transaction against a temp relation, and a failing test SQL does not abort the transaction', async () => {
    const client = await db.pool.connect();
    try {
      await client.query('begin');
      await client.query(`create temp table orders__audit as select * from orders where id is not null`);
      const ctx: RelationResolver = { relation: 'pg_temp."orders__audit"', resolve: (ref) => ref };
      const uniqueTest = compileGenericTest({ test: 'unique', model: 'orders', column: 'id', args: {} }, ctx);
      const notNull = compileGenericTest({ test: 'not_null', model: 'orders', column: 'id', args: {} }, ctx);
      const broken = compileSingularTest({ name: 'broken', sql: 'select * from nope' });
      expect(await runTest(client, uniqueTest, { statementTimeoutMs: 5000 })).toMatchObject({
        status: 'fail',
        failures: 2,
      });
      expect(await runTest(client, broken)).toMatchObject({ status: 'error', sqlstate: '42P01' });
      expect(await runTest(client, notNull)).toMatchObject({ status: 'pass', failures: 0 });
      expect(client.getTransactionStatus()).toBe('T');
      // the caller's statement_timeout is left as it was
      expect((await client.query(`select current_setting('statement_timeout') as v`)).rows[0]).toEqual({
        v: '0',
      });
      expect((await client.query('select count(*)::int as n from orders__audit')).rows[0]).toEqual({ n: 8 });
      await client.query('rollback');
    } finally {
      client.release();
    }
  });

  it('on a client whose transaction already failed it reports status error 25P02 and leaves the state alone', async () => {
    const client = await db.pool.connect();
    try {
      await client.query('begin');
      await client.query('select 1 / 0').catch(() => undefined);
      // node-postgres rejects on ErrorResponse and updates the status on the ReadyForQuery that
      // follows, which a loaded machine can deliver in a later chunk: wait for it, do not sample.
      await vi.waitFor(() => expect(client.getTransactionStatus()).toBe('E'));
      expect(await runTest(client, generic('not_null', 'id'))).toMatchObject({
        status: 'error',
        sqlstate: '25P02',
      });
      await vi.waitFor(() => expect(client.getTransactionStatus()).toBe('E'));
    } finally {
      // Never hand the shared pool a client in a failed transaction (it poisons later tests).
      await client.query('rollback').catch(() => undefined);
      client.release();
    }
  });

  it('on an idle client it leaves no transaction open and restores statement_timeout', async () => {
    const client = new pg.Client({ connectionString: db.connectionString() });
    await client.connect();
    try {
      expect(await runTest(client, generic('not_null', 'id'), { statementTimeoutMs: 1234 })).toMatchObject({
        failures: 2,
      });
      expect(client.getTransactionStatus()).toBe('I');
      expect((await client.query(`select current_setting('statement_timeout') as v`)).rows[0]).toEqual({
        v: '0',
      });
    } finally {
      await client.end();
    }
  });
});

describe('abort', () => {
  it('an already aborted signal rejects with ABORTED before touching the database', async () => {
    const error = await runTest(db.pool, generic('not_null', 'id'), { signal: AbortSignal.abort() }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'ABORTED', test: 'not_null_orders_id' });
  });

  it('aborting cancels the running statement and releases the connection', async () => {
    const test = compileSingularTest({ name: 'slow', sql: 'select pg_sleep(10) as x' });
    const started = Date.now();
    const error = await runTest(db.pool, test, { signal: AbortSignal.timeout(200) }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ABORTED' });
    expect(Date.now() - started).toBeLessThan(5000);
    const sleeping = await db.pool.query(
      `select count(*)::int as n from pg_stat_activity where query like '%pg_sleep(10)%' and state = 'active' and pid <> pg_backend_pid()`,
    );
    expect(sleeping.rows[0]).toEqual({ n: 0 });
  });
});

describe('runTests', () => {
  it('keeps input order under concurrency and summarizes', async () => {
    const tests = [
      generic('not_null', 'id'),
      generic('unique', 'id', {}, { severity: 'warn' }),
      generic('not_null', 'status', {}, { where: 'status is not null' }),
      compileSingularTest({ name: 'missing', sql: 'select * from nope' }),
      generic('row_count', undefined, { min_value: 1 }),
    ];
    const results = await runTests(db.pool, tests, { concurrency: 3 });
    expect(results.map((r) => [r.name, r.status, r.failures])).toEqual([
      ['not_null_orders_id', 'fail', 2],
      ['unique_orders_id', 'warn', 2],
      ['not_null_orders_status', 'pass', 0],
      ['missing', 'error', 0],
      ['row_count_orders_1', 'pass', 0],
    ]);
    expect(summarize(results)).toEqual({ pass: 2, warn: 1, fail: 1, error: 1, total: 5, hasErrors: true });
  });

  it('runs custom registry tests', async () => {
    const registry = createTestRegistry();
    registry.define(
      'is_even',
      ({ relation, column }) => `select * from ${relation} where "${column}" % 2 <> 0`,
    );
    const test = compileGenericTest(
      { test: 'is_even', model: 'orders', column: 'id', args: {} },
      resolver('orders'),
      registry,
    );
    // ids 1, 3, 5, 5
    expect(await runTest(db.pool, test)).toMatchObject({ status: 'fail', failures: 4 });
  });

  it('stops starting tests after an abort and rejects with ABORTED', async () => {
    const controller = new AbortController();
    const slow = compileSingularTest({ name: 'slow', sql: 'select pg_sleep(10) as x' });
    const pending = runTests(db.pool, [slow, slow, slow, slow], {
      concurrency: 2,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 200);
    const started = Date.now();
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('store_failures', () => {
  const stored = (name: string, kind: 'table' | 'view' = 'table') => ({
    schema: `${db.schema}_dbt_test__audit`,
    identifier: name,
    kind,
  });

  it('replaces the stored relation with the failing rows each run and counts from it; two runs at once both finish', async () => {
    const test = {
      ...generic('accepted_values', 'status', { values: ['placed', 'shipped'] }),
      storeFailuresIn: stored('accepted_values_orders_status'),
    };
    const first = await runTest(db.pool, test);
    expect([first.status, first.failures, first.storedIn]).toEqual([
      'fail',
      2,
      `"${db.schema}_dbt_test__audit"."accepted_values_orders_status"`,
    ]);
    const rows = await db.pool.query(
      `select value_field, n_records::int as n from "${db.schema}_dbt_test__audit"."accepted_values_orders_status" order by 1 nulls first`,
    );
    expect(rows.rows).toEqual([
      { value_field: 'bogus', n: 2 },
      { value_field: 'weird', n: 1 },
    ]);
    // Again, twice at once (Airflow retries overlap): the relation is replaced, never duplicated.
    const [a, b] = await Promise.all([runTest(db.pool, test), runTest(db.pool, test)]);
    expect([a.status, a.failures, b.status, b.failures]).toEqual(['fail', 2, 'fail', 2]);
    const count = await db.pool.query(
      `select count(*)::int as n from "${db.schema}_dbt_test__audit"."accepted_values_orders_status"`,
    );
    expect(count.rows[0].n).toBe(2);
  });

  it('stores as a view, replacing a table of the same name, and keeps an empty relation for a passing test', async () => {
    await runTest(db.pool, { ...generic('not_null', 'id'), storeFailuresIn: stored('nn_orders_id') });
    const asView = await runTest(db.pool, {
      ...generic('not_null', 'id'),
      storeFailuresIn: stored('nn_orders_id', 'view'),
    });
    expect([asView.status, asView.failures]).toEqual(['fail', 2]);
    const kind = await db.pool.query(
      `select c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = 'nn_orders_id'`,
      [`${db.schema}_dbt_test__audit`],
    );
    expect(kind.rows).toEqual([{ relkind: 'v' }]);
    const passing = await runTest(db.pool, {
      ...generic('not_null', 'ordered_on'),
      storeFailuresIn: stored('nn_orders_ordered_on'),
    });
    expect([passing.status, passing.failures]).toEqual(['pass', 0]);
    const empty = await db.pool.query(
      `select count(*)::int as n from "${db.schema}_dbt_test__audit"."nn_orders_ordered_on"`,
    );
    expect(empty.rows[0].n).toBe(0);
  });
});
