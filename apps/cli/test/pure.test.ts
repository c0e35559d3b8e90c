import { describe, expect, it } from 'vitest';
import { assertKnownFlags, repeatable } from '../src/args.js';
import { resolveDataDir } from '../src/embedded-postgres.js';
import { buildSummary, CliError, EXIT, exitCodeFor, resolveDays, statusForExit } from '../src/index.js';
import { airflowContext } from '../src/session.js';
import { emptyTotals } from '../src/summary.js';

describe('resolveDays', () => {
  it('--date gives one daily interval', () => {
    expect(resolveDays({ date: '2024-02-28' })).toEqual([{ start: '2024-02-28', end: '2024-02-29' }]);
    expect(resolveDays({ date: '2024-12-31' })).toEqual([{ start: '2024-12-31', end: '2025-01-01' }]);
  });

  it('--start/--end (end exclusive) gives each day in order', () => {
    expect(resolveDays({ start: '2026-01-30', end: '2026-02-02' }).map((d) => d.start)).toEqual([
      '2026-01-30',
      '2026-01-31',
      '2026-02-01',
    ]);
  });

  it('no flags gives no days; bad combinations are usage errors', () => {
    expect(resolveDays({})).toEqual([]);
    for (const bad of [
      { date: '2026-01-01', start: '2026-01-01' },
      { start: '2026-01-01' },
      { date: '2026-13-01' },
      { start: '2026-01-02', end: '2026-01-02' },
    ]) {
      expect(() => resolveDays(bad)).toThrow(CliError);
    }
  });
});

describe('exit codes', () => {
  const err = (code: string, retryable = false) => Object.assign(new Error(code), { code, retryable });

  it('maps library errors by family', () => {
    expect(exitCodeFor(err('NOT_COMMITTED'))).toBe(EXIT.NOTHING_TO_DO);
    expect(exitCodeFor(err('BAD_ROW'))).toBe(EXIT.BAD_INPUT);
    expect(exitCodeFor(err('DUPLICATE_KEY'))).toBe(EXIT.BAD_INPUT);
    expect(exitCodeFor(err('TEMPLATE'))).toBe(EXIT.USAGE);
    expect(exitCodeFor(err('INVALID_SELECTOR'))).toBe(EXIT.USAGE);
    expect(exitCodeFor(err('CONNECTION', true))).toBe(EXIT.RUNTIME);
    expect(exitCodeFor(err('HTTP_STATUS', false))).toBe(EXIT.BAD_INPUT);
    expect(exitCodeFor(err('HTTP_STATUS', true))).toBe(EXIT.RUNTIME);
    expect(exitCodeFor(new Error('boom'))).toBe(EXIT.RUNTIME);
  });

  it('CliError carries its own code; an abort wins', () => {
    expect(exitCodeFor(new CliError('TESTS_FAILED', 'x'))).toBe(3);
    expect(exitCodeFor(new CliError('CONFIG_INVALID', 'x'))).toBe(2);
    expect(exitCodeFor(err('BAD_ROW'), 'SIGTERM')).toBe(143);
    expect(exitCodeFor(err('BAD_ROW'), 'SIGINT')).toBe(130);
  });

  it('status follows the exit code', () => {
    expect([0, 1, 2, 3, 4, 99, 130, 143].map(statusForExit)).toEqual([
      'success',
      'failed',
      'failed',
      'failed',
      'failed',
      'skipped',
      'aborted',
      'aborted',
    ]);
  });
});

describe('args', () => {
  it('collects repeatable and comma-separated values', () => {
    expect(
      repeatable(['--source', 'a', '--date', 'x', '--source=b,c', '--', '--source', 'z'], 'source'),
    ).toEqual(['a', 'b', 'c']);
  });

  it('accepts known flags and negations, rejects unknown ones', () => {
    const args = { date: { type: 'string' }, 'fail-fast': { type: 'boolean' } } as const;
    expect(() => assertKnownFlags('run', ['--date', 'x', '--no-fail-fast', '--help'], args)).not.toThrow();
    expect(() => assertKnownFlags('run', ['--fail-fats'], args)).toThrow(
      'unknown option --fail-fats (did you mean --fail-fast?)',
    );
  });
});

describe('summary and Airflow context', () => {
  it('builds the summary line from totals', () => {
    const totals = emptyTotals();
    totals.rowsIn = 7;
    totals.rowsLoaded = 6;
    totals.rowsRejected = 1;
    totals.models.success = 2;
    totals.tests.pass = 3;
    expect(
      buildSummary({ runId: 'r', command: 'run', status: 'success', exitCode: 0, totals, durationMs: 12.4 }),
    ).toEqual({
      run_id: 'r',
      command: 'run',
      status: 'success',
      exit_code: 0,
      rows_in: 7,
      rows_loaded: 6,
      rows_rejected: 1,
      models: 2,
      tests: { pass: 3, warn: 0, fail: 0, error: 0, skipped: 0 },
      duration_ms: 12,
    });
  });

  it('reads AIRFLOW_CTX_* variables', () => {
    expect(airflowContext({})).toBeUndefined();
    expect(
      airflowContext({ AIRFLOW_CTX_DAG_ID: 'd', AIRFLOW_CTX_TASK_ID: 't', AIRFLOW_CTX_TRY_NUMBER: '3' }),
    ).toEqual({ dagId: 'd', taskId: 't', dagRunId: undefined, tryNumber: 3 });
  });
});

describe('embedded PostgreSQL data dir', () => {
  it('uses <project>/.dataflow when not root or traversable, else a temp dir keyed by the project', async () => {
    expect(await resolveDataDir('/tmp/some-project', undefined)).toEqual({
      stateDir: '/tmp/some-project/.dataflow',
      fallback: false,
    });
    // /root is 0700 root:root on every Linux image: another user cannot traverse it.
    const fallback = await resolveDataDir('/root/proj', { uid: 99999, gid: 99999 });
    expect(fallback.fallback).toBe(true);
    expect(fallback.stateDir).toMatch(/dataflow-[0-9a-f]{12}$/);
    expect((await resolveDataDir('/root/proj', { uid: 99999, gid: 99999 })).stateDir).toBe(fallback.stateDir);
  });
});
