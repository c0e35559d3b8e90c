import { z } from 'zod';
import {
  daysOf,
  identifierArg,
  intervalArgFields,
  projectArgFields,
  selectorsArg,
  sourcesArg,
  threadsArg,
} from '../arg-schemas.js';
import { buildFlags, type FlagDefs, intervalFlags, projectFlags, sourceFlags } from '../args.js';
import { requireDays } from '../interval.js';
import { type CliCommand, defineCommand } from '../lifecycle.js';
import type { PipelineArgs, PipelineSpec } from '../pipeline/run-pipeline.js';
import { selectSources } from '../pipeline/select-sources.js';

const { 'full-refresh': _fullRefresh, ...testFlags } = buildFlags;

/** The typed arguments of a pipeline command, parsed once from its flags. */
function pipelineArgs(spec: PipelineSpec) {
  return z
    .object({
      ...projectArgFields,
      ...intervalArgFields,
      source: sourcesArg,
      select: selectorsArg,
      exclude: selectorsArg,
      threads: threadsArg,
      'fail-fast': z.boolean().optional(),
      'full-refresh': z.boolean().optional(),
      'target-schema': identifierArg.optional(),
    })
    .transform((v): PipelineArgs => {
      const days = daysOf(v);
      if (spec.needsInterval) requireDays(days);
      return {
        days,
        sources: v.source,
        build: {
          select: v.select,
          exclude: v.exclude,
          threads: v.threads,
          failFast: v['fail-fast'],
          fullRefresh: v['full-refresh'] === true,
          targetSchema: v['target-schema'],
          resourceTypes: spec.resourceTypes,
        },
      };
    });
}

/**
 * A recorded project command: the lifecycle opens the session (run row `running`), the steps
 * run day by day, the lifecycle records the outcome and prints the summary line.
 */
function pipelineCommand(spec: PipelineSpec, flags: FlagDefs, examples: readonly string[]): CliCommand {
  return defineCommand({
    name: spec.name,
    flags: { ...projectFlags, ...intervalFlags, ...flags },
    examples,
    args: pipelineArgs(spec),
    needs: 'session',
    check({ project, args }) {
      if (spec.steps.includes('ingest') || spec.steps.includes('load'))
        selectSources(project.config, args.sources);
    },
    async run({ session, args }) {
      const { runPipeline } = await import('../pipeline/run-pipeline.js');
      await runPipeline(session, spec, args);
      return undefined;
    },
  });
}

export const runCommand = pipelineCommand(
  { name: 'run', steps: ['ingest', 'load', 'build'], needsInterval: true },
  { ...sourceFlags, ...buildFlags },
  [
    'dataflow run --date 2026-05-01',
    'dataflow run --start 2026-05-01 --end 2026-05-08 --source orders',
    "dataflow run --date {{ ds }} --select 'tag:daily'   # in an Airflow BashOperator",
  ],
);

export const ingestCommand = pipelineCommand(
  { name: 'ingest', steps: ['ingest'], needsInterval: true },
  sourceFlags,
  ['dataflow ingest --date 2026-05-01', 'dataflow ingest --date 2026-05-01 --source orders,customers'],
);

export const loadCommand = pipelineCommand(
  { name: 'load', steps: ['load'], needsInterval: true },
  sourceFlags,
  [
    'dataflow load --date 2026-05-01',
    'dataflow load --date 2026-05-01 --source orders   # exit 99: nothing committed',
  ],
);

export const buildCommand = pipelineCommand(
  // Every resource type: seeds, snapshots, unit tests before their models, models, data tests.
  { name: 'build', steps: ['build'], needsInterval: false },
  buildFlags,
  [
    'dataflow build',
    'dataflow build --select stg_orders+ --threads 8',
    "dataflow build --select 'tag:finance,config.materialized:table'   # intersection",
  ],
);

export const seedCommand = pipelineCommand(
  { name: 'seed', steps: ['build'], needsInterval: false, resourceTypes: ['seed'] },
  buildFlags,
  ['dataflow seed', 'dataflow seed --select country_codes --full-refresh'],
);

export const testCommand = pipelineCommand(
  { name: 'test', steps: ['build'], needsInterval: false, resourceTypes: ['test', 'unit_test'] },
  testFlags,
  [
    'dataflow test',
    'dataflow test --select test_type:unit   # unit tests only; a failure prints its row diff',
    'dataflow test --select source:raw.orders',
    'dataflow test --select fct_orders --exclude test_type:singular',
  ],
);

export const snapshotCommand = pipelineCommand(
  { name: 'snapshot', steps: ['build'], needsInterval: false, resourceTypes: ['snapshot'] },
  testFlags,
  ['dataflow snapshot', 'dataflow snapshot --select customers_snapshot'],
);
