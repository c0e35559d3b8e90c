import { type CommandContext, defineCommand } from 'citty';
import { buildArgs, intervalArgs, parseThreads, projectArgs, repeatable, sourceArgs } from '../args.js';
import { CliError } from '../errors.js';
import { exitCodeFor } from '../exit-codes.js';
import { requireDays, resolveDays } from '../interval.js';
import { createProgress, type Progress } from '../progress.js';
import { closeSession, type Invocation, openSession, type Session, throwIfAborted } from '../session.js';
import { type BuildFlags, buildProject, ingestSource, lakeFor, loadSource, selectSources } from '../steps.js';

type Step = 'ingest' | 'load' | 'build';

interface CommandState {
  session?: Session;
  error?: unknown;
}

/** What ctx.data holds: the invocation plus this command's session state. */
interface Data {
  invocation: Invocation;
  state: CommandState;
}

const flagsOf = (ctx: CommandContext, resourceTypes?: BuildFlags['resourceTypes']): BuildFlags => ({
  select: repeatable(ctx.rawArgs, 'select'),
  exclude: repeatable(ctx.rawArgs, 'exclude'),
  threads: parseThreads(ctx.args.threads as string | undefined),
  failFast: ctx.args['fail-fast'] === true ? true : undefined,
  fullRefresh: ctx.args['full-refresh'] === true,
  targetSchema: ctx.args['target-schema'] as string | undefined,
  resourceTypes,
});

/**
 * Builds a recorded project command: setup opens the session (run row 'running'), run does the
 * steps, cleanup records the outcome, prints the summary and releases everything.
 */
function pipelineCommand(spec: {
  name: string;
  description: string;
  steps: readonly Step[];
  needsInterval: boolean;
  resourceTypes?: BuildFlags['resourceTypes'];
  sources: boolean;
  build: boolean;
}) {
  return defineCommand({
    meta: { name: spec.name, description: spec.description },
    args: {
      ...projectArgs,
      ...intervalArgs,
      ...(spec.sources ? sourceArgs : {}),
      ...(spec.build ? buildArgs : {}),
    },
    async setup(ctx) {
      const { invocation, state } = ctx.data as Data;
      try {
        const days = resolveDays({
          date: ctx.args.date as string | undefined,
          start: ctx.args.start as string | undefined,
          end: ctx.args.end as string | undefined,
        });
        if (spec.needsInterval) requireDays(spec.name, days);
        if (spec.build) parseThreads(ctx.args.threads as string | undefined);
        state.session = await openSession(invocation, spec.name, {
          projectDir: ctx.args.project as string | undefined,
          days,
          logLevel: ctx.args['log-level'] as string | undefined,
        });
      } catch (error) {
        state.error = error;
      }
    },
    async run(ctx) {
      const { state } = ctx.data as Data;
      const session = state.session;
      if (!session || state.error) return;
      const progress = createProgress(session.invocation.io);
      try {
        await runSteps(session, ctx as unknown as CommandContext, spec, progress);
      } catch (error) {
        state.error = error;
      } finally {
        progress.stop();
      }
    },
    async cleanup(ctx) {
      const { invocation, state } = ctx.data as Data;
      if (!state.session) {
        // Setup failed before a run row existed: one line, no stack trace.
        const error = state.error;
        const message = error instanceof Error ? error.message : String(error);
        invocation.io.stderr.write(
          `dataflow ${spec.name}: ${invocation.redactor.redact(message).split('\n')[0]}\n`,
        );
        invocation.exitCode = exitCodeFor(
          error,
          invocation.signal.aborted ? invocation.signal.reason : undefined,
        );
        return;
      }
      invocation.exitCode = await closeSession(state.session, state.error);
    },
  });
}

async function runSteps(
  session: Session,
  ctx: CommandContext,
  spec: Parameters<typeof pipelineCommand>[0],
  progress: Progress,
): Promise<void> {
  const { config } = session.project;
  const { signal } = session.invocation;
  const wantsSources = spec.steps.includes('ingest') || spec.steps.includes('load');
  const requested = spec.sources ? repeatable(ctx.rawArgs, 'source') : [];
  const sources = wantsSources
    ? selectSources(config, requested, (msg) => session.logger.warn({ requested }, msg))
    : [];
  if (wantsSources && sources.length === 0 && (requested.length > 0 || !spec.steps.includes('build'))) {
    throw new CliError(
      'NOTHING_TO_DO',
      requested.length > 0
        ? `--source ${requested.join(',')}: no matching source`
        : 'the project defines no sources',
    );
  }
  const store = wantsSources ? lakeFor(session) : undefined;
  const days = session.days.length > 0 ? session.days : [undefined];
  const flags = flagsOf(ctx, spec.resourceTypes);
  progress.setTotal(
    days.length *
      ((spec.steps.includes('ingest') ? sources.length : 0) +
        (spec.steps.includes('load') ? sources.length : 0) +
        (spec.steps.includes('build') ? 1 : 0)),
  );
  for (const day of days) {
    if (day && store) {
      if (spec.steps.includes('ingest')) {
        for (const [name, source] of sources) {
          throwIfAborted(signal);
          progress.step(`ingest ${name} ${day.start}`);
          await ingestSource(session, store, name, source, day);
        }
      }
      if (spec.steps.includes('load')) {
        for (const [name, source] of sources) {
          throwIfAborted(signal);
          progress.step(`load ${name} ${day.start}`);
          await loadSource(session, store, name, source, day);
        }
      }
    }
    if (spec.steps.includes('build')) {
      throwIfAborted(signal);
      progress.step(`build${day ? ` ${day.start}` : ''}`);
      const result = await buildProject(session, flags, day);
      if (result.hasTestFailures) {
        const failed = result.results.filter(
          (r) => r.resourceType === 'test' && (r.status === 'fail' || r.status === 'error'),
        );
        throw new CliError(
          'TESTS_FAILED',
          `${failed.length} data test(s) failed: ${failed
            .map((r) => r.name)
            .slice(0, 5)
            .join(', ')}`,
        );
      }
      if (!result.success) {
        const bad = result.results.filter((r) => r.status === 'error');
        const first = bad[0];
        throw new CliError(
          'BUILD_FAILED',
          `${bad.length} node(s) failed${first ? `; first: ${first.name}: ${(first.message ?? '').split('\n')[0]}` : ''}`,
        );
      }
    }
  }
  throwIfAborted(signal);
  // Loading only: every selected partition was missing -> nothing to do (Airflow skip).
  if (spec.steps.includes('load') && !spec.steps.includes('ingest') && session.totals.ranSources === 0) {
    throw new CliError('NOTHING_TO_DO', 'no committed partition to load for the selected sources and dates');
  }
}

export const runCommand = pipelineCommand({
  name: 'run',
  description: 'Ingest, load, then build and test, for each day of the interval',
  steps: ['ingest', 'load', 'build'],
  needsInterval: true,
  sources: true,
  build: true,
});

export const ingestCommand = pipelineCommand({
  name: 'ingest',
  description: 'Land source data for the interval in the lake',
  steps: ['ingest'],
  needsInterval: true,
  sources: true,
  build: false,
});

export const loadCommand = pipelineCommand({
  name: 'load',
  description: 'Load committed lake partitions into raw_<source> tables (exit 99 when none is committed)',
  steps: ['load'],
  needsInterval: true,
  sources: true,
  build: false,
});

export const buildCommand = pipelineCommand({
  name: 'build',
  description: 'Build seeds and models and run data tests (write-audit-publish)',
  steps: ['build'],
  needsInterval: false,
  resourceTypes: ['seed', 'model', 'test'],
  sources: false,
  build: true,
});

export const seedCommand = pipelineCommand({
  name: 'seed',
  description: 'Load seed CSV files',
  steps: ['build'],
  needsInterval: false,
  resourceTypes: ['seed'],
  sources: false,
  build: true,
});

export const testCommand = pipelineCommand({
  name: 'test',
  description: 'Run data tests against the published relations',
  steps: ['build'],
  needsInterval: false,
  resourceTypes: ['test'],
  sources: false,
  build: true,
});
