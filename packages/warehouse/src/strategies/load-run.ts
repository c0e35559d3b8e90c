import { randomBytes } from 'node:crypto';
import { qualify, runRelationName } from '@dataflow/pg';
import type pg from 'pg';
import type { FileLoadContext, FileOutcome } from '../copy-plan.js';
import type { LakeStore, Logger, PartitionManifest, ProgressCounter } from '../lake.js';
import type { ResolvedLoad } from '../load-options.js';
import { buildInsertLoadSql } from '../partition-sql.js';
import { checkRejectCount, planRejects, rejectsFileKey, writeRejectsFile } from '../rejects.js';
import { derivedName, type LoadStamp, type PublishPlan, type SqlStatement } from '../sql.js';
import type { Target } from '../target-table.js';

/** Everything a load strategy needs: the load, its target, and the client holding its lock. */
export interface LoadRun {
  pool: pg.Pool;
  /** Holds the partition lock; publish transactions run on it. */
  client: pg.ClientBase;
  store: LakeStore;
  source: string;
  runId: string;
  primaryKey: readonly string[];
  resolved: ResolvedLoad;
  target: Target;
  manifest: PartitionManifest;
  /** Files COPYed at once (staged loads; swaps of several files on more than one core). */
  parallel: number;
  /** The caller set `parallel` (a swap then uses it whatever the cores). */
  parallelExplicit: boolean;
  /** The caller's hook, run last inside every strategy's publish transaction. */
  onPublish?: ((client: pg.ClientBase) => Promise<void>) | undefined;
  signal?: AbortSignal | undefined;
  log: Logger;
  progress?: ProgressCounter;
}

/** What a strategy did: per-file outcomes and where rejects went. */
export interface LoadOutcome {
  outcomes: FileOutcome[];
  /** The load's row in `_dataflow_loads` (not for legacy tables). */
  loadId?: number;
  /** Partitions a committed swap detached and renamed, to drop after the commit. */
  retired?: string[];
}

/** A unique base name for this load's own helper tables. */
export function helperBase(table: string, runId: string): HelperNames {
  // `<table>__df_stg_<runToken(runId)>_<nonce>_<i>`: the run token lets a later run sweep staging
  // tables a killed run left (`@dataflow/pg` sweepDeadRunRelations); the nonce keeps two loads of
  // one table in the same run apart.
  const nonce = randomBytes(3).toString('hex');
  return { name: (suffix: string) => runRelationName(table, 'stg', runId, `${nonce}_${suffix}`) };
}

/** Names of one load's helper relations. */
export interface HelperNames {
  name(suffix: string): string;
}

/**
 * The context each part file loads with.
 *
 * @example
 * loadFile(fileContext(run, rejectsStaging, signal), entry, plan);
 */
export function fileContext(run: LoadRun, rejectsStaging: string, signal: AbortSignal): FileLoadContext {
  return {
    pool: run.pool,
    store: run.store,
    manifest: run.manifest,
    table: run.target.table,
    columns: run.target.columns.map((c) => c.name),
    rejectsStaging,
    signal,
    log: run.log,
    maxRejects: run.resolved.maxRejects,
    rejectedSoFar: { count: 0 },
    ...(run.progress ? { progress: run.progress } : {}),
  };
}

/**
 * Inside the publish transaction, once every file is loaded: enforces `maxRejects`, writes the
 * rejects file when asked, and plans the rejects table's statements.
 *
 * @example
 * const rejects = await finishRejects(run, outcomes, rejectsStaging);
 */
export async function finishRejects(
  run: LoadRun,
  outcomes: readonly FileOutcome[],
  rejectsStaging: string,
): Promise<PublishPlan['rejects']> {
  const { resolved, target } = run;
  const rowsRejected = checkRejectCount(outcomes, resolved.maxRejects, target.table);
  if (resolved.rejects === 'file') {
    if (rowsRejected > 0) {
      await writeRejectsFile(
        run.client,
        run.store,
        rejectsFileKey(run.source, resolved.partition, run.runId),
        rejectsStaging,
      );
    }
    return undefined;
  }
  const name = derivedName(target.table, '__rejects');
  return planRejects(
    run.client,
    { table: name, qualified: qualify(target.schema, name), staging: rejectsStaging, count: rowsRejected },
    resolved.disposition,
  );
}

/** The load's row in `_dataflow_loads`, for the publish transaction. */
export function loadRecordStatement(
  run: LoadRun,
  stamp: LoadStamp,
  outcomes: readonly FileOutcome[],
): SqlStatement {
  return buildInsertLoadSql(run.target.schema, stamp, {
    table: run.target.table,
    source: run.source,
    disposition: run.resolved.disposition,
    runId: run.runId,
    files: run.manifest.files.map((f) => f.key),
    rowsLoaded: outcomes.reduce((n, o) => n + o.loaded, 0),
    rowsRejected: outcomes.reduce((n, o) => n + o.rejected, 0),
  });
}

/** Runs statements in order on `client`. */
export async function runStatements(
  client: pg.ClientBase,
  statements: readonly SqlStatement[],
): Promise<void> {
  for (const statement of statements) await client.query(statement.sql, statement.parameters);
}
