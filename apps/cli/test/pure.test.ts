import { IngestError } from '@dataflow/ingest';
import { ModelingError } from '@dataflow/modeling';
import { RunlogError } from '@dataflow/runlog';
import { WarehouseError } from '@dataflow/warehouse';
import { describe, expect, it } from 'vitest';
import { assertKnownFlags, parseFlags, selectorList, sourceList } from '../src/args.js';
import { resolveDataDir } from '../src/embedded-postgres.js';
import {
  buildSummary,
  CliError,
  EXIT,
  exitCodeFor,
  isConfigurationFailure,
  resolveDays,
  statusForExit,
} from '../src/index.js';
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
  const pgError = (code: string) => Object.assign(new Error('from PostgreSQL'), { code });

  it('maps library errors by family, through the typed guards', () => {
    expect(exitCodeFor(new WarehouseError('NOT_COMMITTED', 'x'))).toBe(EXIT.NOTHING_TO_DO);
    expect(exitCodeFor(new IngestError('BAD_ROW', 'x'))).toBe(EXIT.BAD_INPUT);
    expect(exitCodeFor(new WarehouseError('DUPLICATE_KEY', 'x'))).toBe(EXIT.BAD_INPUT);
    expect(exitCodeFor(new IngestError('TEMPLATE', 'x'))).toBe(EXIT.USAGE);
    expect(exitCodeFor(new ModelingError('INVALID_SELECTOR', 'x'))).toBe(EXIT.USAGE);
    expect(exitCodeFor(new IngestError('CONNECTION', 'x', { retryable: true }))).toBe(EXIT.RUNTIME);
    expect(exitCodeFor(new IngestError('HTTP_STATUS', 'x', { retryable: false }))).toBe(EXIT.BAD_INPUT);
    expect(exitCodeFor(new IngestError('HTTP_STATUS', 'x', { retryable: true }))).toBe(EXIT.RUNTIME);
    expect(exitCodeFor(new Error('boom'))).toBe(EXIT.RUNTIME);
    // A plain object with a code is not a library error: no cast-and-hope.
    expect(exitCodeFor(Object.assign(new Error('x'), { code: 'NOT_COMMITTED' }))).toBe(EXIT.RUNTIME);
  });

  it('a wrong password, unknown database, missing bucket or bad S3 credentials is configuration (2), not a retry', () => {
    for (const sqlState of ['28P01', '28000', '3D000']) {
      const wrapped = new RunlogError('MIGRATION_FAILED', 'run log: cannot connect', {
        cause: pgError(sqlState),
      });
      expect(isConfigurationFailure(wrapped)).toBe(true);
      expect(exitCodeFor(wrapped)).toBe(EXIT.USAGE);
    }
    expect(exitCodeFor(pgError('28P01'))).toBe(EXIT.USAGE);
    for (const name of ['NoSuchBucket', 'InvalidAccessKeyId', 'SignatureDoesNotMatch']) {
      const s3 = Object.assign(new Error('s3'), { name });
      expect(exitCodeFor(new IngestError('STORE', 's3 put failed', { cause: s3 }))).toBe(EXIT.USAGE);
    }
    expect(exitCodeFor(new RunlogError('MIGRATION_FAILED', 'x', { cause: pgError('57P03') }))).toBe(
      EXIT.RUNTIME,
    );
  });

  it('CliError carries its own code; an abort wins', () => {
    expect(exitCodeFor(new CliError('TESTS_FAILED', 'x'))).toBe(3);
    expect(exitCodeFor(new CliError('CONFIG_INVALID', 'x'))).toBe(2);
    expect(exitCodeFor(new IngestError('BAD_ROW', 'x'), 'SIGTERM')).toBe(143);
    expect(exitCodeFor(new IngestError('BAD_ROW', 'x'), 'SIGINT')).toBe(130);
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
  const flags = {
    date: { type: 'string', description: 'd' },
    source: { type: 'string', multiple: true, description: 's' },
    select: { type: 'string', multiple: true, description: 's' },
    'fail-fast': { type: 'boolean', description: 'f' },
  } as const;

  it('collects repeated flags in order; --source splits on commas, --select never does', () => {
    const { flags: parsed } = parseFlags(
      ['--source', 'a', '--date', 'x', '--source=b,c', '--select', 'stg_orders,tag:nope', '--select', 'b c'],
      flags,
    );
    expect(sourceList(parsed.source as string[])).toEqual(['a', 'b', 'c']);
    expect(selectorList(parsed.select as string[])).toEqual(['stg_orders,tag:nope', 'b c']);
    expect(sourceList([''])).toEqual([]);
  });

  it('rejects unknown flags with a hint, missing values and stray arguments', () => {
    expect(() => assertKnownFlags(['--date', 'x', '--fail-fast', '--help'], flags)).not.toThrow();
    expect(() => assertKnownFlags(['--fail-fats'], flags)).toThrow(
      'unknown option --fail-fats (did you mean --fail-fast?)',
    );
    expect(() => parseFlags(['--date'], flags)).toThrow('--date needs a value');
    expect(() => parseFlags(['extra'], flags)).toThrow('unexpected argument "extra"');
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
