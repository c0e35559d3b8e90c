import type { FileOutcome } from '../copy-plan.js';
import { buildDropStampDefaultsSql } from '../partition-sql.js';
import { swapInPartition, withLockRetry } from '../partition-swap.js';
import { buildRejectsStatements, type LoadStamp } from '../sql.js';
import { finishRejects, type LoadRun, loadRecordStatement, runStatements } from './load-run.js';

/**
 * Inside the publish transaction on the lock client, once every file is in the fresh table
 * `fresh` (qualified, its final partition name): enforces `maxRejects`, drops the load's
 * constant defaults, swaps the table in under a bounded, retried `lock_timeout`, and writes the
 * rejects and the load's row. Both swap paths (FREEZE and parallel COPY) end here. Resolves
 * with the replaced partitions, renamed to retired names, for the caller to drop after COMMIT.
 *
 * @example
 * await inTransaction(run.client, () => publishFreshPartition(run, stamp, fresh, outcomes, rejectsStaging, signal));
 */
export async function publishFreshPartition(
  run: LoadRun,
  stamp: LoadStamp,
  fresh: string,
  outcomes: readonly FileOutcome[],
  rejectsStaging: string,
  signal: AbortSignal,
): Promise<string[]> {
  const { client, target, resolved } = run;
  const rejects = await finishRejects(run, outcomes, rejectsStaging);
  await client.query(buildDropStampDefaultsSql(fresh));
  const timing = {
    attemptMs: resolved.swapLockTimeoutMs,
    totalMs: resolved.lockTimeoutMs,
    signal,
    log: run.log,
  };
  const scope = resolved.disposition === 'replace' ? 'table' : 'partition';
  const retired = await withLockRetry(client, timing, target.qualified, () =>
    swapInPartition(client, target, fresh, stamp, scope, run.runId),
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
  run.log.debug({ table: target.qualified, attached: fresh, retired }, 'partition swapped');
  return retired;
}
