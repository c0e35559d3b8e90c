import { z } from 'zod';
import { projectArgFields } from '../arg-schemas.js';
import { projectFlags } from '../args.js';
import { CliError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { println } from '../io.js';
import { defineCommand } from '../lifecycle.js';

/** `dataflow runs`: recent run history (not itself recorded). `--run ID` shows one run's steps. */
export const runsCommand = defineCommand({
  name: 'runs',
  flags: {
    ...projectFlags,
    json: { type: 'boolean', description: 'Print JSON (snake_case)' },
    limit: { type: 'string', description: 'How many runs (default 20)', valueHint: 'N' },
    run: {
      type: 'string',
      description: 'Show one run with its steps, row counts and test results',
      valueHint: 'RUN_ID',
    },
  },
  examples: [
    'dataflow runs',
    'dataflow runs --limit 5 --json',
    'dataflow runs --run 20260501T000102Z-3f2a9c1d',
  ],
  args: z.object({
    ...projectArgFields,
    json: z.boolean().optional(),
    limit: z
      .string()
      .regex(/^[1-9]\d*$/, 'expected a positive integer')
      .transform(Number)
      .default(20),
    run: z.string().min(1).optional(),
  }),
  needs: 'runlog',
  quietLogs: true,
  async run({ args, runLog, invocation }) {
    const format = await import('./runs-format.js');
    // Runs whose process died (SIGKILL, lost database) are listed as what they are.
    await runLog.abandonDeadRuns();
    if (args.run !== undefined) {
      const run = await runLog.getRun(args.run);
      if (!run) throw new CliError('USAGE', `no run ${args.run} in the run log`);
      // Stored redacted; redacted again on output for rows written before test SQL was.
      const json = invocation.redactor.redactValue(format.runDetailToJson(run));
      if (args.json) println(invocation.io, JSON.stringify(json));
      else {
        println(invocation.io, format.formatRunsTable([run]));
        println(invocation.io);
        println(invocation.io, format.formatJobsTable(run.jobs));
      }
      return EXIT.OK;
    }
    const runs = await runLog.listRuns({ limit: args.limit });
    println(
      invocation.io,
      args.json ? JSON.stringify(runs.map(format.runToJson)) : format.formatRunsTable(runs),
    );
    return EXIT.OK;
  },
});
