import type { PreviousResults } from '@dataflow/modeling';
import { z } from 'zod';
import { projectArgFields } from '../arg-schemas.js';
import { type FlagDefs, projectFlags } from '../args.js';
import { CliError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { defineCommand } from '../lifecycle.js';
import type { RunRecordArgs } from '../pipeline/run-record.js';
import type { Session } from '../session.js';

const flags = {
  ...projectFlags,
  state: {
    type: 'string',
    description:
      'Directory of the run_results.json to retry (default: the project target/, else the run log)',
    valueHint: 'DIR',
  },
} as const satisfies FlagDefs;

/**
 * The last pipeline run of this project in the run log, as a run record: for a worker whose
 * `target/` did not survive. `undefined` when there is none.
 */
async function recordFromRunLog(
  session: Session,
): Promise<{ record: RunRecordArgs; results: PreviousResults; runId: string } | undefined> {
  const [
    { isPipelineCommand, PIPELINE_SPECS },
    { parseFlags },
    { COMMANDS },
    { pipelineArgs },
    { runRecordFromLog },
  ] = await Promise.all([
    import('../pipeline/specs.js'),
    import('../args.js'),
    import('../registry.js'),
    import('./pipeline.js'),
    import('../pipeline/run-record-from-log.js'),
  ]);
  const runs = await session.runLog.listRuns({ limit: 200 });
  const last = runs.find(
    (r) =>
      r.runId !== session.runId && r.project === session.project.config.name && isPipelineCommand(r.command),
  );
  if (!last || !isPipelineCommand(last.command)) return undefined;
  const detail = await session.runLog.getRun(last.runId);
  if (!detail) return undefined;
  const command = await COMMANDS[last.command]?.load();
  const at = detail.args.findIndex((a) => !a.startsWith('-'));
  const { flags: raw } = parseFlags(detail.args.slice(at + 1), command?.flags ?? {});
  const args = pipelineArgs(PIPELINE_SPECS[last.command])({ ...raw, _: [] });
  return { ...runRecordFromLog(detail, args), runId: last.runId };
}

/**
 * `dataflow retry`: runs again what did not finish in the last pipeline command, read from its
 * `run_results.json` (else from the run log): the days of a range not finished, else the nodes
 * that errored, failed or were skipped. Nothing to retry exits 0.
 */
export const retryCommand = defineCommand({
  name: 'retry',
  flags,
  examples: [
    'dataflow retry',
    'dataflow run --start 2026-05-01 --end 2026-05-08 || dataflow retry   # the days not finished',
  ],
  args: z.object({ ...projectArgFields, state: z.string().min(1, 'expected a directory').optional() }),
  needs: 'session',
  async run({ session, args }) {
    const [{ join, resolve }, { readRunRecord }, { planRetry }, { runPipeline }, { targetDirOf }] =
      await Promise.all([
        import('node:path'),
        import('../pipeline/run-record-read.js'),
        import('../pipeline/retry-plan.js'),
        import('../pipeline/run-pipeline.js'),
        import('../pipeline/prior-state.js'),
      ]);
    const dir =
      args.state !== undefined ? resolve(session.invocation.cwd, args.state) : targetDirOf(session.project);
    const fromFile = await readRunRecord(dir);
    const fromLog = fromFile || args.state !== undefined ? undefined : await recordFromRunLog(session);
    const previous = fromFile ?? fromLog;
    if (!previous)
      throw new CliError(
        'USAGE',
        `${join(dir, 'run_results.json')}: not found${args.state === undefined ? ' and the run log has no pipeline run of this project' : ''}; nothing to retry`,
      );
    if (fromLog)
      session.logger.info({ retried_run: fromLog.runId }, 'no run_results.json: retrying from the run log');
    const plan = planRetry(previous.record, previous.results);
    if (plan.kind === 'nothing') {
      session.logger.warn({ run_results: dir }, `nothing to retry: ${plan.reason}`);
      return EXIT.OK;
    }
    session.logger.info(
      plan.kind === 'days'
        ? { command: plan.spec.name, days: plan.days }
        : { command: plan.spec.name, nodes: plan.nodes },
      `retrying ${plan.kind === 'days' ? `${plan.days.length} day(s)` : `${plan.nodes.length} node(s)`} of ${plan.spec.name}`,
    );
    await runPipeline(session, plan.spec, plan.args);
    return undefined;
  },
});
