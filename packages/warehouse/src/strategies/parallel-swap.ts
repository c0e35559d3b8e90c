import { inTransaction, qualify, quoteIdent } from '@dataflow/pg';
import { throwIfAborted } from '../abort.js';
import { parallelPlan } from '../copy-plan.js';
import { loadFile, runBounded } from '../file-load.js';
import { buildCreateFreshPartitionSql, partitionTableName } from '../partition-sql.js';
import { buildCreateRejectsStagingSql, type LoadStamp } from '../sql.js';
import { fileContext, helperBase, type LoadOutcome, type LoadRun } from './load-run.js';
import { publishFreshPartition } from './swap-publish.js';

/**
 * `replace_partition` / `replace` of a multi-file partition with more than one core: the fresh
 * table (constants as defaults, the bound as a CHECK from the start, so neither COPY nor ATTACH
 * needs a separate validation pass) is created and committed empty under a run relation name
 * (`<table>__df_stg_<runtoken>_<nonce>_new`), so a killed load leaves something the next run's
 * sweep drops; `connections` files are then COPYed into it at once, each on a pool connection
 * of its own (bad rows isolated by bisection there); finally ONE transaction on the lock client
 * renames it to its partition name and swaps it in. All or nothing: any failure (a file, the
 * abort signal, the swap) drops the fresh table and the rejects staging table.
 *
 * @example
 * const { outcomes } = await parallelSwap(run, stamp, 2);
 */
export async function parallelSwap(
  run: LoadRun,
  stamp: LoadStamp,
  connections: number,
): Promise<LoadOutcome> {
  const { client, target, manifest } = run;
  const base = helperBase(target.table, run.runId);
  const fresh = qualify(target.schema, base.name('new'));
  const rejectsStaging = qualify(target.schema, base.name('rej'));
  const finalName = partitionTableName(target.table, stamp.partitionDate, stamp.loadId);
  const created: string[] = [];
  const abort = new AbortController();
  const onAbort = () => abort.abort(run.signal?.reason);
  run.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    created.push(rejectsStaging);
    await client.query(buildCreateRejectsStagingSql(rejectsStaging));
    created.push(fresh);
    await client.query(buildCreateFreshPartitionSql(fresh, target.tableColumns, stamp));
    const ctx = fileContext(run, rejectsStaging, abort.signal);
    const outcomes = await runBounded(
      connections,
      manifest.files.map((entry) => () => loadFile(ctx, entry, parallelPlan(ctx, fresh))),
      abort,
    );
    throwIfAborted(run.signal, `loading ${target.table}`);
    const retired = await inTransaction(client, async () => {
      // The run relation name must not outlive the load: a sweep would drop an attached partition.
      await client.query(`ALTER TABLE ${fresh} RENAME TO ${quoteIdent(finalName)}`);
      return publishFreshPartition(
        run,
        stamp,
        qualify(target.schema, finalName),
        outcomes,
        rejectsStaging,
        abort.signal,
      );
    });
    return { outcomes, loadId: stamp.loadId, retired };
  } finally {
    run.signal?.removeEventListener('abort', onAbort);
    // After a publish the fresh table has its partition name and IF EXISTS finds nothing. Any
    // healthy connection will do: the lock client may be the one that broke.
    await run.pool.query(`DROP TABLE IF EXISTS ${created.join(', ')}`).catch((error: unknown) => {
      run.log.warn({ table: target.qualified, err: error }, 'could not drop the fresh partition table');
    });
  }
}
