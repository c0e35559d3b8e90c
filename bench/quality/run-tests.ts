/**
 * Benchmark: runs the core generic tests over a generated table of ROWS rows on a throwaway PostgreSQL,
 * once with no failures and once with ~10% failing rows, and prints time per test and peak RSS.
 * The point: failures are counted in PostgreSQL and samples are capped, so client memory stays flat.
 *
 *   ROWS=2000000 node --conditions=source --import tsx bench/quality/run-tests.ts
 *   (DATAFLOW_TEST_DATABASE_URL=postgres://... to use an existing server)
 */

import {
  type CompiledTest,
  compileGenericTest,
  type GenericTestInvocation,
  runTests,
} from '@dataflow/quality';
import { startPostgresServer } from '@dataflow/testkit';
import pg from 'pg';

const ROWS = Number(process.env.ROWS ?? 1_000_000);

async function main(): Promise<void> {
  const server = process.env.DATAFLOW_TEST_DATABASE_URL ? undefined : await startPostgresServer();
  const url = process.env.DATAFLOW_TEST_DATABASE_URL ?? (server?.url as string);
  const schema = `bench_quality_${process.pid}`;
  const admin = new pg.Pool({ connectionString: url, max: 1 });
  admin.on('error', () => undefined);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => undefined);
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 20);
  try {
    await admin.query(`create schema ${schema}`);
    const rel = (name: string) => `"${schema}"."${name}"`;
    await admin.query(
      `create table ${rel('customers')} as select g as id from generate_series(1, ${ROWS / 10}) g`,
    );
    const build = async (failRatio: number) => {
      await admin.query(`drop table if exists ${rel('orders')}`);
      // failRatio of rows get a NULL amount, a duplicate id, a bad status and an unknown customer.
      await admin.query(`
        create table ${rel('orders')} as
        select case when random() < ${failRatio} then g - 1 else g end as id,
               (g % ${ROWS / 10}) + 1 + case when random() < ${failRatio} then ${ROWS} else 0 end as customer_id,
               case when random() < ${failRatio} then 'bogus_' || (g % 1000) else (array['placed','shipped','completed'])[g % 3 + 1] end as status,
               case when random() < ${failRatio} then null else g % 500 end as amount
        from generate_series(1, ${ROWS}) g`);
      await admin.query(`analyze ${rel('orders')}`);
    };
    const invocations: GenericTestInvocation[] = [
      { test: 'not_null', model: 'orders', column: 'amount', args: {} },
      { test: 'unique', model: 'orders', column: 'id', args: {} },
      {
        test: 'accepted_values',
        model: 'orders',
        column: 'status',
        args: { values: ['placed', 'shipped', 'completed'] },
      },
      {
        test: 'relationships',
        model: 'orders',
        column: 'customer_id',
        args: { to: 'customers', field: 'id' },
      },
      { test: 'accepted_range', model: 'orders', column: 'amount', args: { min_value: 0, max_value: 499 } },
    ];
    const tests: CompiledTest[] = invocations.map((inv) =>
      compileGenericTest(inv, { relation: rel('orders'), resolve: (name) => rel(name) }),
    );
    for (const failRatio of [0, 0.1]) {
      await build(failRatio);
      const started = performance.now();
      const results = await runTests(pool, tests, { concurrency: 1 });
      const wall = performance.now() - started;
      console.log(`rows=${ROWS} failRatio=${failRatio} total=${wall.toFixed(0)} ms`);
      for (const r of results) {
        console.log(
          `  ${r.name.padEnd(58)} ${r.status.padEnd(5)} failures=${String(r.failures).padStart(8)} sample=${r.sample.length} ${r.durationMs.toFixed(0)} ms`,
        );
      }
    }
    console.log(`peak RSS ${(peakRss / 1024 / 1024).toFixed(0)} MiB`);
  } finally {
    clearInterval(sampler);
    await admin.query(`drop schema if exists ${schema} cascade`).catch(() => undefined);
    await admin.end();
    await pool.end();
    await server?.stop();
  }
}

await main();
