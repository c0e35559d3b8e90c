import { isDataError } from '@dataflow/pg';
import { copyWithBisect } from './bisect.js';
import { copyErrorLine, copyStream } from './copy-into.js';
import {
  type FileLoadContext,
  type FileOutcome,
  type FilePlan,
  maybeSavepoint,
  onClient,
  storedStages,
} from './copy-plan.js';
import { WarehouseError } from './errors.js';
import type { ManifestFile } from './lake.js';
import { RowFormatError } from './records.js';

/** Streams one part file into COPY in one statement: all of it or none of it. */
async function copyWholeFile(ctx: FileLoadContext, entry: ManifestFile, plan: FilePlan): Promise<number> {
  const body = await ctx.store.get(entry.key, { signal: ctx.signal });
  return onClient(ctx, plan, (client) =>
    maybeSavepoint(client, plan, () =>
      copyStream(client, plan.wholeSql, body, {
        transforms: [
          ...storedStages(ctx.manifest, entry, ctx.table, ctx.progress?.addBytes),
          ...plan.transforms(),
        ],
        signal: ctx.signal,
      }),
    ),
  );
}

/**
 * Loads one part file: the fast single COPY (its stored bytes verified against the manifest on
 * the way), falling back to bisection on a data error when the plan allows it. Fails
 * ROW_COUNT_MISMATCH when loaded + rejected differs from the manifest's row count.
 *
 * @example
 * const outcome = await loadFile(ctx, manifest.files[0], stagingPlan(ctx, staging));
 */
export async function loadFile(
  ctx: FileLoadContext,
  entry: ManifestFile,
  plan: FilePlan,
): Promise<FileOutcome> {
  let outcome: FileOutcome;
  try {
    outcome = { file: entry.key, loaded: await copyWholeFile(ctx, entry, plan), rejected: 0 };
  } catch (error) {
    if (!plan.bisect || !(isDataError(error) || error instanceof RowFormatError)) throw error;
    ctx.log.warn(
      { file: entry.key, sqlState: (error as { code?: string }).code, line: copyErrorLine(error) },
      'COPY failed on a data error; isolating bad rows',
    );
    outcome = await copyWithBisect(ctx, entry, plan);
  }
  if (outcome.loaded + outcome.rejected !== entry.rows) {
    throw new WarehouseError(
      'ROW_COUNT_MISMATCH',
      `${entry.key}: manifest says ${entry.rows} rows, read ${outcome.loaded + outcome.rejected}`,
      { table: ctx.table, file: entry.key },
    );
  }
  ctx.progress?.addRows(entry.rows);
  ctx.log.debug({ file: entry.key, loaded: outcome.loaded, rejected: outcome.rejected }, 'file loaded');
  return outcome;
}

/**
 * Runs `tasks` with at most `parallel` in flight; the first failure aborts the rest (through
 * `abort`) and is rethrown after all settle.
 *
 * @example
 * const outcomes = await runBounded(3, files.map((f) => () => loadFile(ctx, f, plan(f))), abort);
 */
export async function runBounded<T>(
  parallel: number,
  tasks: ReadonlyArray<() => Promise<T>>,
  abort: AbortController,
): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < tasks.length) {
      const index = next++;
      try {
        results[index] = await (tasks[index] as () => Promise<T>)();
      } catch (error) {
        if (failure === undefined) {
          failure = { error };
          abort.abort(error);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, tasks.length) }, worker));
  if (failure) throw failure.error;
  return results;
}
