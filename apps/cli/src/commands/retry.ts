import { z } from 'zod';
import { projectArgFields } from '../arg-schemas.js';
import { type FlagDefs, projectFlags } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { defineCommand } from '../lifecycle.js';

const flags = {
  ...projectFlags,
  state: {
    type: 'string',
    description: 'Directory of the run_results.json to retry (default: the project target/)',
    valueHint: 'DIR',
  },
} as const satisfies FlagDefs;

/**
 * `dataflow retry`: runs again what did not finish in the last pipeline command, read from its
 * `run_results.json`: the days of a range not finished, else the nodes that errored, failed or
 * were skipped. Nothing to retry exits 0.
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
    const [{ resolve }, { readRunRecord }, { planRetry }, { runPipeline }, { targetDirOf }] =
      await Promise.all([
        import('node:path'),
        import('../pipeline/run-record-read.js'),
        import('../pipeline/retry-plan.js'),
        import('../pipeline/run-pipeline.js'),
        import('../pipeline/prior-state.js'),
      ]);
    const dir =
      args.state !== undefined ? resolve(session.invocation.cwd, args.state) : targetDirOf(session.project);
    const { record, results } = await readRunRecord(dir);
    const plan = planRetry(record, results, dir);
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
