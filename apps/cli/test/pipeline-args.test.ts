import { describe, expect, it } from 'vitest';
import { pipelineArgs } from '../src/commands/pipeline.js';
import { CliError } from '../src/errors.js';
import { PIPELINE_SPECS } from '../src/pipeline/specs.js';

// The pipeline commands type their flags without zod (issue 13): same results and the same
// `--flag: message` usage errors (exit 2) as the zod schemas of the other commands.

function usageError(spec: keyof typeof PIPELINE_SPECS, flags: Record<string, unknown>): string {
  try {
    pipelineArgs(PIPELINE_SPECS[spec])({ _: [], ...flags });
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(2);
    return (error as Error).message;
  }
  throw new Error('expected a usage error');
}

describe('pipelineArgs', () => {
  it('types the flags of a load: days, sources split on commas, build defaults', () => {
    const args = pipelineArgs(PIPELINE_SPECS.load)({
      _: [],
      date: '2026-05-01',
      source: ['orders,customers', ' ', 'rates'],
    });
    expect(args).toEqual({
      days: [{ start: '2026-05-01', end: '2026-05-02' }],
      sources: ['orders', 'customers', 'rates'],
      build: {
        select: [],
        exclude: [],
        threads: undefined,
        failFast: undefined,
        fullRefresh: false,
        targetSchema: undefined,
        resourceTypes: undefined,
        defer: false,
        favorState: false,
      },
    });
  });

  it('types the build flags of a run', () => {
    const args = pipelineArgs(PIPELINE_SPECS.run)({
      _: [],
      start: '2026-05-01',
      end: '2026-05-03',
      select: ['stg_orders+', ' '],
      exclude: ['tag:slow'],
      threads: '8',
      'fail-fast': true,
      'full-refresh': true,
      'target-schema': 'ci_42',
      state: 'prod',
      defer: true,
      'favor-state': true,
    });
    expect(args.days.map((d) => d.start)).toEqual(['2026-05-01', '2026-05-02']);
    expect(args.build).toMatchObject({
      select: ['stg_orders+'],
      exclude: ['tag:slow'],
      threads: 8,
      failFast: true,
      fullRefresh: true,
      targetSchema: 'ci_42',
      state: 'prod',
      defer: true,
      favorState: true,
    });
  });

  it('words bad values as the zod schemas do', () => {
    expect(usageError('build', { threads: 'many' })).toBe('--threads: expected an integer 1-64, got "many"');
    expect(usageError('build', { threads: '65' })).toBe('--threads: expected an integer 1-64, got "65"');
    expect(usageError('build', { 'target-schema': 'ci-42' })).toBe(
      '--target-schema: expected a plain identifier ([A-Za-z_][A-Za-z0-9_]*)',
    );
    expect(usageError('load', { date: '2026-05-01', project: '' })).toBe('--project: expected a directory');
    expect(usageError('build', { state: '' })).toBe('--state: expected a directory');
    expect(usageError('build', { defer: true })).toBe('--defer needs --state DIR');
    expect(usageError('load', {})).toMatch(/--date/);
    expect(usageError('load', { date: '2026-13-01' })).toMatch(/2026-13-01/);
  });
});
