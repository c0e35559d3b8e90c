import { z } from 'zod';
import { identifierArg, projectArgFields } from '../arg-schemas.js';
import { projectFlags, targetSchemaFlag } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { println } from '../io.js';
import { defineCommand } from '../lifecycle.js';

/**
 * `dataflow compile`: compiles the project (parse with `execute` false, no database), then, when
 * the warehouse is configured and reachable, renders each Jinja model and pending test again with
 * `execute` true against it, as `dbt compile` does; prints the nodes and writes `target/`
 * artifacts. Diagnostics with severity error, or a failed execute-true render, exit 2. Not
 * recorded in run_history.
 */
export const compileCommand = defineCommand({
  name: 'compile',
  flags: {
    ...projectFlags,
    ...targetSchemaFlag,
    json: { type: 'boolean', description: 'Print the compiled graph as JSON (snake_case keys)' },
  },
  examples: ['dataflow compile', 'dataflow compile --project examples/shop --json > graph.json'],
  args: z.object({
    ...projectArgFields,
    'target-schema': identifierArg.optional(),
    json: z.boolean().optional(),
  }),
  needs: 'project',
  async run({ project, logger, args, invocation }) {
    const [{ join }, { writeArtifacts }, { compileForBuild, renderLive }, { CliError }] = await Promise.all([
      import('node:path'),
      import('@dataflow/modeling'),
      import('../compile-project.js'),
      import('../errors.js'),
    ]);
    const compiled = await compileForBuild(
      project,
      logger,
      { targetSchema: args['target-schema'], redact: (s) => invocation.redactor.add(s) },
      undefined,
    );
    const { graph, problems } = await renderLive(project, logger, compiled, invocation.signal);
    await writeArtifacts(join(project.dir, project.config['target-path'] ?? 'target'), graph);
    if (problems > 0)
      throw new CliError(
        'CONFIG_INVALID',
        `compile (execute true) failed for ${problems} node(s): see the log`,
      );
    if (args.json) {
      const { snakeKeys } = await import('../snake-case.js');
      println(invocation.io, JSON.stringify(snakeKeys(graph)));
      return EXIT.OK;
    }
    const nodes = Object.values(graph.nodes).sort((a, b) => a.uniqueId.localeCompare(b.uniqueId));
    for (const node of nodes) {
      const rel = 'relation' in node ? ` -> ${node.relation.schema}.${node.relation.identifier}` : '';
      const mat = node.resourceType === 'model' ? ` (${node.config.materialized})` : '';
      println(invocation.io, `${node.resourceType} ${node.name}${mat}${rel}`);
    }
    const count = (t: string) => nodes.filter((n) => n.resourceType === t).length;
    println(
      invocation.io,
      `compiled ${count('model')} models, ${count('seed')} seeds, ${count('test')} tests`,
    );
    return EXIT.OK;
  },
});
