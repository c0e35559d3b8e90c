import { join } from 'node:path';
import { writeArtifacts } from '@dataflow/modeling';
import { createLogger } from '@dataflow/runlog';
import { defineCommand } from 'citty';
import { buildArgs, projectArgs } from '../args.js';
import { loadProject } from '../config.js';
import { exitCodeFor } from '../exit-codes.js';
import { println } from '../io.js';
import type { Invocation } from '../session.js';
import { newRunId } from '../session.js';
import { compile } from '../steps.js';

/**
 * `dataflow compile`: compiles the project offline (no database), prints the nodes and writes
 * `target/` artifacts. Diagnostics with severity error exit 2. Not recorded in run_history (no
 * database is needed or started).
 */
export const compileCommand = defineCommand({
  meta: {
    name: 'compile',
    description: 'Compile the project (no database): nodes, diagnostics, target/ artifacts',
  },
  args: {
    ...projectArgs,
    'target-schema': buildArgs['target-schema'],
    json: { type: 'boolean', description: 'Print the compiled graph as JSON' },
  },
  async run(ctx) {
    const invocation = (ctx.data as { invocation: Invocation }).invocation;
    const { redactor } = invocation;
    const runId = newRunId();
    const logger = createLogger({
      runId,
      pretty: invocation.io.stderrIsTTY,
      destination: invocation.io.stderr,
      redactor,
      bindings: { command: 'compile' },
      level: ((ctx.args['log-level'] as string | undefined) ?? 'info') as 'info',
    });
    try {
      const project = await loadProject(
        (ctx.args.project as string | undefined) ?? '.',
        invocation.env,
        invocation.cwd,
      );
      for (const s of project.secrets) redactor.add(s);
      const graph = await compile(
        project,
        logger,
        { targetSchema: ctx.args['target-schema'] as string | undefined },
        undefined,
      );
      await writeArtifacts(join(project.dir, project.config['target-path'] ?? 'target'), graph);
      if (ctx.args.json) {
        println(invocation.io, JSON.stringify(graph));
      } else {
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
      }
      invocation.exitCode = 0;
    } catch (error) {
      invocation.io.stderr.write(
        `dataflow compile: ${redactor.redact((error as Error).message).split('\n')[0]}\n`,
      );
      invocation.exitCode = exitCodeFor(error);
    } finally {
      await logger.flush();
    }
  },
});
