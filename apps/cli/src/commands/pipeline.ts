import {
  daysOf,
  type FlagValues,
  flagError,
  IDENTIFIER_MESSAGE,
  IDENTIFIER_RE,
  optionalBoolean,
  optionalString,
  stateOptionsOf,
  stringList,
  threadsValue,
} from '../arg-values.js';
import {
  buildFlags,
  type FlagDefs,
  intervalFlags,
  projectFlags,
  selectorList,
  sourceFlags,
  sourceList,
} from '../args.js';
import { requireDays } from '../interval.js';
import { type CliCommand, defineCommand } from '../lifecycle.js';
import type { PipelineArgs, PipelineSpec } from '../pipeline/run-pipeline.js';
import { selectSources } from '../pipeline/select-sources.js';
import { PIPELINE_SPECS } from '../pipeline/specs.js';

const { 'full-refresh': _fullRefresh, ...testFlags } = buildFlags;

/**
 * The typed arguments of a pipeline command, parsed once from its flags (`retry` re-parses a
 * logged argv). Written out rather than a zod schema: `load` and `ingest` run hundreds of times a
 * day and must not pay zod's start-up (issue 13). Flags are checked in declaration order; the
 * first problem is a usage error `--flag: message` (exit 2), as the other commands' schemas say it.
 *
 * @example
 * pipelineArgs(PIPELINE_SPECS.load)({ date: '2026-05-01', source: ['orders'], _: [] }).sources; // ['orders']
 */
export function pipelineArgs(spec: PipelineSpec): (flags: FlagValues) => PipelineArgs {
  return (flags) => {
    optionalString(flags, 'project', 'expected a directory');
    optionalString(flags, 'log-level');
    const interval = {
      date: optionalString(flags, 'date'),
      start: optionalString(flags, 'start'),
      end: optionalString(flags, 'end'),
    };
    const sources = sourceList(stringList(flags, 'source'));
    const select = selectorList(stringList(flags, 'select'));
    const exclude = selectorList(stringList(flags, 'exclude'));
    const threadsFlag = optionalString(flags, 'threads');
    const threads = threadsFlag === undefined ? undefined : threadsValue(threadsFlag);
    if (typeof threads === 'object') throw flagError('threads', threads.message);
    const failFast = optionalBoolean(flags, 'fail-fast');
    const fullRefresh = optionalBoolean(flags, 'full-refresh');
    const targetSchema = optionalString(flags, 'target-schema');
    if (targetSchema !== undefined && !IDENTIFIER_RE.test(targetSchema))
      throw flagError('target-schema', IDENTIFIER_MESSAGE);
    const stateFlags = {
      state: optionalString(flags, 'state', 'expected a directory'),
      defer: optionalBoolean(flags, 'defer'),
      'favor-state': optionalBoolean(flags, 'favor-state'),
    };
    const days = daysOf(interval);
    const state = stateOptionsOf(stateFlags);
    if (spec.needsInterval) requireDays(days);
    return {
      days,
      sources,
      build: {
        select,
        exclude,
        threads,
        failFast,
        fullRefresh: fullRefresh === true,
        targetSchema,
        resourceTypes: spec.resourceTypes,
        ...state,
      },
    };
  };
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
