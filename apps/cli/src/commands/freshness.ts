import { z } from 'zod';
import { projectArgFields, selectorsArg } from '../arg-schemas.js';
import { type FlagDefs, projectFlags, selectionFlags } from '../args.js';
import { defineCommand } from '../lifecycle.js';

const { select } = selectionFlags;

/**
 * `dataflow freshness`: checks every selected source's `freshness:` rule against its raw table,
 * prints a table, records each result as a test in the run log and writes `target/sources.json`.
 * A source past `error_after` exits 3; one that could not be checked exits 1; warnings exit 0.
 */
export const freshnessCommand = defineCommand({
  name: 'freshness',
  flags: { ...projectFlags, select } satisfies FlagDefs,
  examples: ['dataflow freshness', 'dataflow freshness --select source:raw.orders'],
  args: z.object({ ...projectArgFields, select: selectorsArg }),
  needs: 'session',
  async run({ session, args }) {
    const { runFreshness } = await import('../pipeline/freshness-step.js');
    await runFreshness(session, args.select);
    return undefined;
  },
});
