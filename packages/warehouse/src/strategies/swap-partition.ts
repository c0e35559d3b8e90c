import { availableParallelism } from 'node:os';
import { inTransaction, isDataError, qualify } from '@dataflow/pg';
import { throwIfAborted } from '../abort.js';
import { directPlan, type FileOutcome } from '../copy-plan.js';
import { loadFile } from '../file-load.js';
import { buildCreateFreshPartitionSql, partitionTableName } from '../partition-sql.js';
import { RowFormatError } from '../records.js';
import { buildCreateRejectsStagingSql, type LoadStamp } from '../sql.js';
import { chooseSwapCopyMode } from '../swap-copy-mode.js';
import { fileContext, helperBase, type LoadOutcome, type LoadRun } from './load-run.js';
import { parallelSwap } from './parallel-swap.js';
import { publishFreshPartition } from './swap-publish.js';

/**
 * One attempt, in one transaction on the lock client: create the fresh partition table (the
 * load's constants as column defaults, the bound as a CHECK), COPY every file into it, publish
 * the rejects, then swap it in under a bounded `lock_timeout`. `freeze`: each file in one
 * `COPY … FREEZE` (valid because the table was created in this very transaction, no
 * savepoint); a data error aborts the attempt. Otherwise each COPY runs under a savepoint and
 * bad rows are isolated by bisection.
 */
async function attempt(
  run: LoadRun,
  stamp: LoadStamp,
  freeze: boolean,
  signal: AbortSignal,
): Promise<{ outcomes: FileOutcome[]; retired: string[] }> {
  const { client, target } = run;
  const fresh = qualify(target.schema, partitionTableName(target.table, stamp.partitionDate, stamp.loadId));
  const rejectsStaging = qualify('pg_temp', helperBase(target.table, run.runId).name('rej'));
  return inTransaction(client, async () => {
    await client.query(buildCreateFreshPartitionSql(fresh, target.tableColumns, stamp));
    await client.query(buildCreateRejectsStagingSql(rejectsStaging, true));
    const ctx = fileContext(run, rejectsStaging, signal);
    const outcomes: FileOutcome[] = [];
    for (const entry of run.manifest.files) {
      throwIfAborted(signal, `loading ${target.table}`);
      outcomes.push(await loadFile(ctx, entry, directPlan(ctx, client, fresh, { freeze })));
    }
    const retired = await publishFreshPartition(run, stamp, fresh, outcomes, rejectsStaging, signal);
    return { outcomes, retired };
  });
}

/**
 * `replace_partition` and `replace` of a partitioned table: load a fresh table, swap it in. No
 * DELETE, no dead rows, a cost independent of the table's history. A partition of several
 * files with more than one core is COPYed in parallel ({@link parallelSwap}; see
 * `chooseSwapCopyMode` for why). Otherwise the first attempt COPYs with FREEZE on the lock
 * client; only when a file holds bad rows is the load redone row-safe (savepoints,
 * bisection), since FREEZE and savepoints exclude each other.
 *
 * @example
 * const { outcomes } = await swapPartition(run, stamp);
 */
export async function swapPartition(run: LoadRun, stamp: LoadStamp): Promise<LoadOutcome> {
  const copy = chooseSwapCopyMode({
    files: run.manifest.files.length,
    cores: availableParallelism(),
    parallel: run.parallel,
    explicit: run.parallelExplicit,
  });
  run.log.debug({ table: run.target.qualified, ...copy }, 'partition copy mode');
  if (copy.mode === 'parallel') return parallelSwap(run, stamp, copy.connections);
  const signal = run.signal ?? new AbortController().signal;
  try {
    return { ...(await attempt(run, stamp, true, signal)), loadId: stamp.loadId };
  } catch (error) {
    if (!(isDataError(error) || error instanceof RowFormatError)) throw error;
    run.log.warn(
      { table: run.target.qualified, sqlState: (error as { code?: string }).code },
      'COPY FREEZE failed on a data error; reloading with bad-row isolation',
    );
    return { ...(await attempt(run, stamp, false, signal)), loadId: stamp.loadId };
  }
}
