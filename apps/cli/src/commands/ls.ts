import { z } from 'zod';
import { projectArgFields, selectorsArg } from '../arg-schemas.js';
import { type FlagDefs, projectFlags, selectionFlags } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { println } from '../io.js';
import { defineCommand } from '../lifecycle.js';
import { LIST_OUTPUTS, LIST_RESOURCE_TYPES } from '../list/list-nodes.js';

const flags = {
  ...projectFlags,
  ...selectionFlags,
  'resource-type': {
    type: 'string',
    multiple: true,
    description: `Only these types: ${LIST_RESOURCE_TYPES.join('|')} (repeatable)`,
    valueHint: 'TYPE',
  },
  output: {
    type: 'string',
    description: `What to print per node: ${LIST_OUTPUTS.join('|')} (default selector)`,
    valueHint: 'FORMAT',
  },
  state: {
    type: 'string',
    description: 'Directory holding a previous manifest.json / run_results.json (state:, result:)',
    valueHint: 'DIR',
  },
} as const satisfies FlagDefs;

/**
 * `dataflow ls`: compiles the project (no database) and prints the selected nodes, one per line.
 * A selection that matches nothing is a warning, exit 0 (as dbt does).
 */
export const lsCommand = defineCommand({
  name: 'ls',
  flags,
  examples: [
    'dataflow ls --select stg_orders+ --resource-type model',
    'dataflow ls --select state:modified+ --state prod-artifacts --output path',
    "dataflow ls --select 'result:error result:fail' --output json",
  ],
  args: z.object({
    ...projectArgFields,
    select: selectorsArg,
    exclude: selectorsArg,
    'resource-type': z.array(z.enum(LIST_RESOURCE_TYPES)).optional(),
    output: z.enum(LIST_OUTPUTS).default('selector'),
    state: z.string().min(1, 'expected a directory').optional(),
  }),
  needs: 'project',
  quietLogs: true,
  async run({ project, logger, args, invocation }) {
    const [{ compile }, { listNodes, listLine }, { loadPriorState, selectionStateFor }] = await Promise.all([
      import('../compile-project.js'),
      import('../list/list-nodes.js'),
      import('../pipeline/prior-state.js'),
    ]);
    const graph = await compile(project, logger, { redact: (s) => invocation.redactor.add(s) }, undefined);
    const prior = await loadPriorState(project, invocation.cwd, {
      state: args.state,
      select: args.select,
      exclude: args.exclude,
    });
    const ids = listNodes(graph, {
      select: args.select,
      exclude: args.exclude,
      ...(args['resource-type'] ? { resourceTypes: args['resource-type'] } : {}),
      state: await selectionStateFor(graph, prior),
    });
    if (ids.length === 0) {
      logger.warn({ select: args.select, exclude: args.exclude }, 'the selection matches no node');
      return EXIT.OK;
    }
    for (const id of ids) {
      const node = graph.nodes[id];
      const line = node ? listLine(node, args.output) : '';
      if (line) println(invocation.io, line);
    }
    return EXIT.OK;
  },
});
