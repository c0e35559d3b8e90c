import { z } from 'zod';
import { projectArgFields } from '../arg-schemas.js';
import { projectFlags } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { println } from '../io.js';
import { defineCommand } from '../lifecycle.js';

/**
 * `dataflow docs generate`: compiles the project and writes the static lineage and run-history
 * site (`index.html` + `site-data.json`, opens from disk) from the manifest and the last runs of
 * the run log. Not recorded in run_history.
 */
export const docsCommand = defineCommand({
  name: 'docs',
  flags: {
    ...projectFlags,
    out: {
      type: 'string',
      description: 'Directory for the site (default: <target-path>/docs)',
      valueHint: 'DIR',
    },
    limit: { type: 'string', description: 'How many recent runs to include (default 30)', valueHint: 'N' },
  },
  positionals: [{ name: 'action', description: 'generate', required: true }],
  examples: [
    'dataflow docs generate',
    'dataflow docs generate --project examples/shop --out site --limit 100',
  ],
  args: z.object({
    ...projectArgFields,
    _: z.tuple([z.literal('generate', { error: 'expected generate' })]),
    out: z.string().min(1).optional(),
    limit: z
      .string()
      .regex(/^[1-9]\d*$/, 'expected a positive integer')
      .transform(Number)
      .default(30),
  }),
  needs: 'runlog',
  async run({ args, project, runLog, logger, invocation }) {
    const [{ join, resolve }, { manifestJson }, { generateSite }, { compile }, { lakeOptions }, { tableOf }] =
      await Promise.all([
        import('node:path'),
        import('@dataflow/modeling'),
        import('@dataflow/lineage'),
        import('../compile-project.js'),
        import('../config/library-options.js'),
        import('../config/checks.js'),
      ]);
    const { config, dir } = project;
    const graph = await compile(project, logger, { redact: (s) => invocation.redactor.add(s) }, undefined);
    const recent = await runLog.listRuns({ limit: args.limit });
    const runs = [];
    for (const r of recent) {
      const detail = await runLog.getRun(r.runId);
      if (detail) runs.push(detail);
    }
    const lakeUrl = lakeOptions(config, dir, invocation.env).url.replace(/\/+$/, '');
    const lake = Object.entries(config.sources).map(([name, source]) => ({
      source: name,
      uri: `${lakeUrl}/${name}`,
      table: tableOf(name, source),
    }));
    const outDir = args.out
      ? resolve(invocation.cwd, args.out)
      : join(dir, config['target-path'] ?? 'target', 'docs');
    const site = await generateSite({ manifest: manifestJson(graph), runs, lake, outDir });
    println(
      invocation.io,
      `wrote ${site.indexHtml} (${site.data.nodes.length} nodes, ${site.data.runs.length} runs)`,
    );
    return EXIT.OK;
  },
});
