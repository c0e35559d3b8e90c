import { z } from 'zod';
import {
  daysOf,
  identifierArg,
  intervalArgFields,
  projectArgFields,
  selectorsArg,
  sourcesArg,
  stateArgFields,
  stateOptionsOf,
  threadsArg,
} from '../arg-schemas.js';
import { buildFlags, type FlagDefs, intervalFlags, projectFlags, sourceFlags } from '../args.js';
import { requireDays } from '../interval.js';
import { type CliCommand, defineCommand } from '../lifecycle.js';
import type { PipelineArgs, PipelineSpec } from '../pipeline/run-pipeline.js';
import { selectSources } from '../pipeline/select-sources.js';
import { PIPELINE_SPECS } from '../pipeline/specs.js';

const { 'full-refresh': _fullRefresh, ...testFlags } = buildFlags;

/** The typed arguments of a pipeline command, parsed once from its flags (`retry` re-parses a logged argv). */
export function pipelineArgs(spec: PipelineSpec) {
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
      ...stateArgFields,
    })
    .transform((v): PipelineArgs => {
      const days = daysOf(v);
      const state = stateOptionsOf(v);
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
          ...state,
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

export const runCommand = pipelineCommand(PIPELINE_SPECS.run, { ...sourceFlags, ...buildFlags }, [
  'dataflow run --date 2026-05-01',
  'dataflow run --start 2026-05-01 --end 2026-05-08 --source orders',
  "dataflow run --date {{ ds }} --select 'tag:daily'   # in an Airflow BashOperator",
]);

export const ingestCommand = pipelineCommand(PIPELINE_SPECS.ingest, sourceFlags, [
  'dataflow ingest --date 2026-05-01',
  'dataflow ingest --date 2026-05-01 --source orders,customers',
]);

export const loadCommand = pipelineCommand(PIPELINE_SPECS.load, sourceFlags, [
  'dataflow load --date 2026-05-01',
  'dataflow load --date 2026-05-01 --source orders   # exit 99: nothing committed',
]);

export const buildCommand = pipelineCommand(PIPELINE_SPECS.build, buildFlags, [
  'dataflow build',
  'dataflow build --select stg_orders+ --threads 8',
  "dataflow build --select 'tag:finance,config.materialized:table'   # intersection",
]);

export const seedCommand = pipelineCommand(PIPELINE_SPECS.seed, buildFlags, [
  'dataflow seed',
  'dataflow seed --select country_codes --full-refresh',
]);

export const testCommand = pipelineCommand(PIPELINE_SPECS.test, testFlags, [
  'dataflow test',
  'dataflow test --select test_type:unit   # unit tests only; a failure prints its row diff',
  'dataflow test --select source:raw.orders',
  'dataflow test --select fct_orders --exclude test_type:singular',
]);

export const snapshotCommand = pipelineCommand(PIPELINE_SPECS.snapshot, testFlags, [
  'dataflow snapshot',
  'dataflow snapshot --select customers_snapshot',
]);
