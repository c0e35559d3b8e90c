/**
 * Benchmark of @dataflow/modeling snapshots.
 *   node --conditions=source --import tsx bench/modeling/snapshot-bench.ts [--rows 200000] [--runs 3]
 *
 * On an embedded PostgreSQL, a source of N rows (id, name, updated_at) is snapshotted with the
 * timestamp strategy (hard_deletes: invalidate): the first run (create), a run after 10 % of the rows
 * changed and 1 % were deleted, and a run with no change. Each is reported in ms and as a ratio to
 * the baseline measured in the same script: `create table … as select * from source` of the same
 * rows (what copying the source once costs). Medians of --runs repetitions, each on fresh tables.
 */
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { resolveSnapshotConfig, runSnapshot, type SnapshotConfig } from '@dataflow/modeling';
import { startPostgresServer } from '@dataflow/testkit';
import pg from 'pg';
import { median } from '../stats.js';

const { values } = parseArgs({
  options: { rows: { type: 'string', default: '200000' }, runs: { type: 'string', default: '3' } },
});
const ROWS = Number(values.rows);
const RUNS = Number(values.runs);
const ms = async (fn: () => Promise<unknown>) => {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
};

const config = resolveSnapshotConfig({
  strategy: 'timestamp',
  unique_key: 'id',
  updated_at: 'updated_at',
  hard_deletes: 'invalidate',
}).config as SnapshotConfig;

async function main() {
  const server = await startPostgresServer();
  const pool = new pg.Pool({ connectionString: server.url, max: 2 });
  pool.on('error', () => undefined);
  const timings = {
    baseline: [] as number[],
    create: [] as number[],
    change: [] as number[],
    same: [] as number[],
  };
  try {
    await pool.query('create schema bench');
    for (let run = 0; run < RUNS; run++) {
      await pool.query('drop table if exists bench.src, bench.copy, bench.snap');
      await pool.query(
        `create table bench.src as select g as id, 'name ' || g as name, timestamp '2024-01-01' + g * interval '1 second' as updated_at from generate_series(1, $1) g`,
        [ROWS],
      );
      await pool.query('analyze bench.src');
      timings.baseline.push(await ms(() => pool.query('create table bench.copy as select * from bench.src')));
      const relation = { schema: 'bench', identifier: 'snap', sql: '"bench"."snap"' };
      const snapshot = (now: string) =>
        ms(async () => {
          const client = await pool.connect();
          try {
            await runSnapshot(
              client,
              { name: 'snap', relation, sql: 'select * from bench.src', config },
              { now },
            );
          } finally {
            client.release();
          }
        });
      timings.create.push(await snapshot('2024-02-01T00:00:00Z'));
      await pool.query(
        `update bench.src set name = name || ' v2', updated_at = updated_at + interval '30 days' where id % 10 = 0`,
      );
      await pool.query('delete from bench.src where id % 100 = 1');
      timings.change.push(await snapshot('2024-02-02T00:00:00Z'));
      timings.same.push(await snapshot('2024-02-03T00:00:00Z'));
    }
    const base = median(timings.baseline);
    console.log(
      `snapshot bench: ${ROWS} rows, ${RUNS} runs (median), ${availableParallelism()} cores, load ${loadavg()[0]?.toFixed(2)}`,
    );
    console.log(`  baseline create table as select: ${base.toFixed(0)} ms`);
    for (const [label, key] of [
      ['first run (create)', 'create'],
      ['10% changed, 1% deleted', 'change'],
      ['no change', 'same'],
    ] as const) {
      const t = median(timings[key]);
      console.log(`  ${label.padEnd(24)} ${t.toFixed(0).padStart(6)} ms  ${(t / base).toFixed(2)}x baseline`);
    }
  } finally {
    await pool.end();
    await server.stop();
  }
}

await main();
