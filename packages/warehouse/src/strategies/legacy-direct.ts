import { inTransaction, qualify } from '@dataflow/pg';
import { throwIfAborted } from '../abort.js';
import { directPlan, type FileOutcome } from '../copy-plan.js';
import { loadFile } from '../file-load.js';
import {
  buildClearStatements,
  buildCreateRejectsStagingSql,
  buildRejectsStatements,
  METADATA_SETTINGS,
} from '../sql.js';
import {
  fileContext,
  finishRejects,
  helperBase,
  type LoadOutcome,
  type LoadRun,
  runStatements,
} from './load-run.js';

/**
 * Tables created by dataflow 0.1 (per-row `_run_id`, `_partition` text, `_source_file`), loaded
 * as that version did: in one transaction, DELETE what the disposition replaces, COPY every
 * file into the target under a savepoint (metadata from column defaults reading
 * transaction-local settings), publish the rejects. Kept unchanged until such tables are
 * recreated; new tables never take this path.
 *
 * @example
 * const { outcomes } = await legacyDirect(run);
 */
export async function legacyDirect(run: LoadRun): Promise<LoadOutcome> {
  const { client, target, resolved } = run;
  const signal = run.signal ?? new AbortController().signal;
  const rejectsStaging = qualify('pg_temp', helperBase(target.table, run.runId).name('rej'));
  const outcomes = await inTransaction(client, async () => {
    const setting = (name: string, value: string) =>
      client.query('SELECT set_config($1, $2, true)', [name, value]);
    await setting(METADATA_SETTINGS._run_id, run.runId);
    await setting(METADATA_SETTINGS._partition, resolved.partition);
    await client.query(buildCreateRejectsStagingSql(rejectsStaging, true));
    await runStatements(
      client,
      buildClearStatements({
        target: target.qualified,
        disposition: resolved.disposition,
        partition: resolved.partition,
      }),
    );
    const ctx = fileContext(run, rejectsStaging, signal);
    const done: FileOutcome[] = [];
    for (const entry of run.manifest.files) {
      throwIfAborted(signal, `loading ${target.table}`);
      // Outside the file's savepoint: a rollback to it must not undo the setting.
      await setting(METADATA_SETTINGS._source_file, entry.key);
      done.push(await loadFile(ctx, entry, directPlan(ctx, client, target.qualified, { freeze: false })));
    }
    const rejects = await finishRejects(run, done, rejectsStaging);
    await runStatements(
      client,
      buildRejectsStatements({
        disposition: resolved.disposition,
        partition: resolved.partition,
        runId: run.runId,
        ...(rejects ? { rejects } : {}),
      }),
    );
    await run.onPublish?.(client);
    return done;
  });
  return { outcomes };
}
