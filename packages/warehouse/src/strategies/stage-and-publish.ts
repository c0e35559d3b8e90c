import { inTransaction, qualify } from '@dataflow/pg';
import { throwIfAborted } from '../abort.js';
import { type FileOutcome, stagingPlan } from '../copy-plan.js';
import { loadFile, runBounded } from '../file-load.js';
import { checkMergeKeys } from '../merge-keys.js';
import { ensurePartition, withLockRetry } from '../partition-swap.js';
import {
  buildCreateRejectsStagingSql,
  buildCreateStagingSql,
  buildPublishStatements,
  type LoadStamp,
  type StagedFile,
} from '../sql.js';
import {
  fileContext,
  finishRejects,
  helperBase,
  type LoadOutcome,
  type LoadRun,
  loadRecordStatement,
  runStatements,
} from './load-run.js';

/** The publish transaction: rejects, the partition an append needs, the inserts, the load's row. */
async function publish(
  run: LoadRun,
  stamp: LoadStamp | undefined,
  staged: StagedFile[],
  outcomes: FileOutcome[],
  rejectsStaging: string,
): Promise<void> {
  const { client, target, resolved } = run;
  await inTransaction(client, async () => {
    const rejects = await finishRejects(run, outcomes, rejectsStaging);
    if (stamp && target.layout === 'partitioned') {
      const timing = {
        attemptMs: resolved.swapLockTimeoutMs,
        totalMs: resolved.lockTimeoutMs,
        signal: run.signal,
        log: run.log,
      };
      await withLockRetry(client, timing, target.qualified, () => ensurePartition(client, target, stamp));
    }
    await runStatements(client, [
      ...buildPublishStatements({
        target: target.qualified,
        columns: target.columns.map((c) => c.name),
        files: staged,
        disposition: resolved.disposition,
        partition: resolved.partition,
        runId: run.runId,
        ...(run.primaryKey.length > 0 ? { primaryKey: run.primaryKey } : {}),
        ...(rejects ? { rejects } : {}),
        ...(stamp ? { load: stamp } : {}),
      }),
      ...(stamp ? [loadRecordStatement(run, stamp, outcomes)] : []),
    ]);
    await run.onPublish?.(client);
  });
}

/**
 * `merge` and `append` (and every disposition of a legacy table in staging mode): files are
 * COPYed in parallel, each into its own UNLOGGED staging table on a connection of its own; merge
 * keys are checked; one transaction on the lock client then inserts (merge: upserts) them with
 * the load's metadata. Staging tables are dropped on every path.
 *
 * @example
 * const { outcomes } = await stageAndPublish(run, stamp);
 */
export async function stageAndPublish(run: LoadRun, stamp: LoadStamp | undefined): Promise<LoadOutcome> {
  const { client, target, manifest } = run;
  const base = helperBase(target.table, run.runId);
  const staged: StagedFile[] = manifest.files.map((f, i) => ({
    staging: qualify(target.schema, base.name(String(i))),
    sourceFile: f.key,
  }));
  const rejectsStaging = qualify(target.schema, base.name('rej'));
  const created: string[] = [];
  const abort = new AbortController();
  const onAbort = () => abort.abort(run.signal?.reason);
  run.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await client.query(buildCreateRejectsStagingSql(rejectsStaging));
    created.push(rejectsStaging);
    for (const f of staged) {
      await client.query(buildCreateStagingSql(f.staging, target.columns));
      created.push(f.staging);
    }
    const ctx = fileContext(run, rejectsStaging, abort.signal);
    const outcomes = await runBounded(
      run.parallel,
      manifest.files.map(
        (entry, i) => () => loadFile(ctx, entry, stagingPlan(ctx, (staged[i] as StagedFile).staging)),
      ),
      abort,
    );
    throwIfAborted(run.signal, `loading ${target.table}`);
    // Staging tables are this load's own: the checks need no transaction.
    if (run.resolved.disposition === 'merge') {
      await checkMergeKeys(
        client,
        { store: run.store, manifest, table: target.table, signal: abort.signal },
        staged,
        [...run.primaryKey],
      );
    }
    await publish(run, stamp, staged, outcomes, rejectsStaging);
    return { outcomes, ...(stamp ? { loadId: stamp.loadId } : {}) };
  } finally {
    run.signal?.removeEventListener('abort', onAbort);
    if (created.length > 0) {
      // Any healthy connection will do: the lock client may be the one that broke.
      await run.pool.query(`DROP TABLE IF EXISTS ${created.join(', ')}`).catch((error: unknown) => {
        run.log.warn({ table: target.qualified, err: error }, 'could not drop staging tables');
      });
    }
  }
}
