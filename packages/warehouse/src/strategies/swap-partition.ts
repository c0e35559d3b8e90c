import { inTransaction, isDataError, qualify } from '@dataflow/pg';
import { throwIfAborted } from '../abort.js';
import { directPlan, type FileOutcome } from '../copy-plan.js';
import { loadFile } from '../file-load.js';
import {
  buildCreateFreshPartitionSql,
  buildDropStampDefaultsSql,
  partitionTableName,
} from '../partition-sql.js';
import { swapInPartition, withLockRetry } from '../partition-swap.js';
import { RowFormatError } from '../records.js';
import { buildCreateRejectsStagingSql, buildRejectsStatements, type LoadStamp } from '../sql.js';
import {
  fileContext,
  finishRejects,
  helperBase,
  type LoadOutcome,
  type LoadRun,
  loadRecordStatement,
  runStatements,
} from './load-run.js';

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
): Promise<FileOutcome[]> {
  const { client, target, resolved } = run;
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
    const rejects = await finishRejects(run, outcomes, rejectsStaging);
    await client.query(buildDropStampDefaultsSql(fresh));
    const timing = {
      attemptMs: resolved.swapLockTimeoutMs,
      totalMs: resolved.lockTimeoutMs,
      signal,
      log: run.log,
    };
    const scope = resolved.disposition === 'replace' ? 'table' : 'partition';
    const dropped = await withLockRetry(client, timing, target.qualified, () =>
      swapInPartition(client, target, fresh, stamp, scope),
    );
    await runStatements(client, [
      ...buildRejectsStatements({
        disposition: resolved.disposition,
        partition: resolved.partition,
        runId: run.runId,
        ...(rejects ? { rejects } : {}),
      }),
      loadRecordStatement(run, stamp, outcomes),
    ]);
    await run.onPublish?.(client);
    run.log.debug({ table: target.qualified, attached: fresh, dropped }, 'partition swapped');
    return outcomes;
  });
}

/**
 * `replace_partition` and `replace` of a partitioned table: load a fresh table, swap it in. No
 * DELETE, no dead rows, a cost independent of the table's history. The first attempt COPYs
 * with FREEZE; only when a file holds bad rows is the load redone row-safe (savepoints,
 * bisection), since FREEZE and savepoints exclude each other.
 *
 * @example
 * const { outcomes } = await swapPartition(run, stamp);
 */
export async function swapPartition(run: LoadRun, stamp: LoadStamp): Promise<LoadOutcome> {
  const signal = run.signal ?? new AbortController().signal;
  try {
    return { outcomes: await attempt(run, stamp, true, signal), loadId: stamp.loadId };
  } catch (error) {
    if (!(isDataError(error) || error instanceof RowFormatError)) throw error;
    run.log.warn(
      { table: run.target.qualified, sqlState: (error as { code?: string }).code },
      'COPY FREEZE failed on a data error; reloading with bad-row isolation',
    );
    return { outcomes: await attempt(run, stamp, false, signal), loadId: stamp.loadId };
  }
}
