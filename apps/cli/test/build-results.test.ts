import type { BuildResult, NodeResult } from '@dataflow/modeling';
import { describe, expect, it } from 'vitest';
import { jobStep, testOutcome, testResultOf } from '../src/pipeline/build-step.js';
import { assertBuildSucceeded, unitTestDiffs } from '../src/pipeline/run-pipeline.js';

const node = (over: Partial<NodeResult>): NodeResult => ({
  uniqueId: `unit_test.shop.${over.name ?? 'x'}`,
  name: 'x',
  resourceType: 'unit_test',
  status: 'pass',
  durationMs: 1.4,
  startedAt: '2026-05-01T00:00:00.000Z',
  ...over,
});
const DIFF = 'actual differs from expected:\n@@  | id\n--- | 2\n+++ | 3';
const failed = node({
  name: 'totals',
  status: 'fail',
  message: DIFF,
  unitTest: {
    name: 'totals',
    model: 'm',
    status: 'fail',
    durationMs: 1,
    diff: { columns: ['id'], missing: [{ id: '2' }], unexpected: [{ id: '3' }] },
    message: DIFF,
  },
});
const result = (results: NodeResult[], hasTestFailures: boolean): BuildResult => ({
  results,
  success: !hasTestFailures,
  hasTestFailures,
  elapsedMs: 1,
});

describe('build results in the run log', () => {
  it('records unit tests as tests and snapshots as model-like steps', () => {
    expect(['unit_test', 'test', 'snapshot', 'seed', 'model'].map(jobStep)).toEqual([
      'test',
      'test',
      'model',
      'seed',
      'model',
    ]);
  });

  it('keeps a unit test status and counts its diff rows as failures', () => {
    expect(testOutcome(node({ status: 'pass' }))).toBe('pass');
    expect(testOutcome(node({ status: 'skipped' }))).toBe('skipped');
    expect(testOutcome(node({ status: 'error' }))).toBe('error');
    expect(testResultOf(failed)).toEqual({
      uniqueId: 'unit_test.shop.totals',
      name: 'totals',
      status: 'fail',
      severity: 'error',
      failures: 2,
      sql: undefined,
      sample: [],
      message: DIFF,
      durationMs: 1,
    });
  });
});

describe('unit test failures', () => {
  it('print each failed unit test with its diff and exit 3', () => {
    const r = result([node({ name: 'ok' }), failed], true);
    expect(unitTestDiffs(r)).toBe(`unit test totals failed:\n${DIFF}\n`);
    expect(() => assertBuildSucceeded(r)).toThrow(
      expect.objectContaining({ code: 'TESTS_FAILED', exitCode: 3, message: '1 test(s) failed: totals' }),
    );
  });

  it('print nothing when every unit test passed', () => {
    expect(unitTestDiffs(result([node({ name: 'ok' })], false))).toBe('');
  });
});

describe('on-run-end failure', () => {
  it('fails the command with the hook error when every node succeeded', () => {
    const r = {
      ...result([node({ name: 'ok' })], false),
      success: false,
      onRunEndError: 'on-run-end 1 failed (x)',
    };
    expect(() => assertBuildSucceeded(r)).toThrow(
      expect.objectContaining({ code: 'BUILD_FAILED', message: 'on-run-end 1 failed (x)' }),
    );
  });
});
