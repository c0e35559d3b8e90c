import { describe, expect, it } from 'vitest';
import {
  evaluateThreshold,
  parseTestConfig,
  QualityError,
  statusFor,
  summarize,
  type TestResult,
  toJsonSafe,
} from '../src/index.js';

describe('evaluateThreshold', () => {
  it.each<[string, number, boolean]>([
    ['!=0', 0, false],
    ['!=0', 1, true],
    ['<>0', 2, true],
    ['=0', 0, true],
    ['==0', 1, false],
    ['>10', 10, false],
    ['>10', 11, true],
    ['>=1', 0, false],
    ['>=1', 1, true],
    ['<5', 4, true],
    ['<5', 5, false],
    ['<=5', 5, true],
    [' > 10 ', 11, true],
    ['>2.5', 3, true],
  ])('%s with %i failures → %s', (expr, failures, expected) => {
    expect(evaluateThreshold(expr, failures)).toBe(expected);
  });

  it.each(['', '10', '> ten', 'is null', '>10; drop table x'])(
    'rejects %j with INVALID_THRESHOLD',
    (expr) => {
      expect(() => evaluateThreshold(expr, 1)).toThrow(
        expect.objectContaining({ code: 'INVALID_THRESHOLD' }),
      );
    },
  );
});

describe('statusFor (dbt: error_if first when severity error, then warn_if)', () => {
  it.each<[number, Parameters<typeof statusFor>[1], ReturnType<typeof statusFor>]>([
    [0, {}, 'pass'],
    [1, {}, 'fail'],
    [1, { severity: 'warn' }, 'warn'],
    [0, { severity: 'warn' }, 'pass'],
    [5, { errorIf: '>10' }, 'warn'],
    [11, { errorIf: '>10' }, 'fail'],
    [5, { errorIf: '>10', warnIf: '>5' }, 'pass'],
    [6, { errorIf: '>10', warnIf: '>5' }, 'warn'],
    [100, { severity: 'warn', errorIf: '>10' }, 'warn'],
    [100, { severity: 'warn', warnIf: '>100' }, 'pass'],
    [3, { errorIf: '>=3', warnIf: '>100' }, 'fail'],
  ])('%i failures with %j → %s', (failures, config, status) => {
    expect(statusFor(failures, config)).toBe(status);
  });
});

describe('parseTestConfig', () => {
  it('accepts dbt snake_case keys and ignores configs it does not act on', () => {
    expect(
      parseTestConfig({
        severity: 'WARN',
        warn_if: '>10',
        error_if: '>100',
        where: "status = 'x'",
        limit: '50',
        name: 'my_test',
        store_failures_limit: 5,
        fail_calc: 'sum(n_records)',
        tags: ['nightly'],
        enabled: true,
        store_failures: 'True',
        store_failures_as: 'view',
        schema: 'audit',
        meta: null,
      }),
    ).toEqual({
      severity: 'warn',
      warnIf: '>10',
      errorIf: '>100',
      where: "status = 'x'",
      limit: 50,
      name: 'my_test',
      storeFailuresLimit: 5,
      failCalc: 'sum(n_records)',
      storeFailures: true,
      storeFailuresAs: 'view',
    });
    expect(() => parseTestConfig({ store_failures_as: 'parquet' })).toThrow(
      'store_failures_as must be table, view or ephemeral',
    );
    expect(() => parseTestConfig({ store_failures: 'yes' })).toThrow('store_failures must be true or false');
  });

  it('accepts camelCase and skips null values', () => {
    expect(parseTestConfig({ warnIf: '>=1', storeFailuresLimit: 0, where: null })).toEqual({
      warnIf: '>=1',
      storeFailuresLimit: 0,
    });
  });

  it.each<[Record<string, unknown>, string]>([
    [{ severity: 'fatal' }, 'INVALID_CONFIG'],
    [{ limit: -1 }, 'INVALID_CONFIG'],
    [{ limit: 1.5 }, 'INVALID_CONFIG'],
    [{ store_failures_limit: 'many' }, 'INVALID_CONFIG'],
    [{ where: '' }, 'INVALID_CONFIG'],
    [{ warn_if: 10 }, 'INVALID_THRESHOLD'],
    [{ error_if: 'over 9000' }, 'INVALID_THRESHOLD'],
  ])('%j → %s', (raw, code) => {
    try {
      parseTestConfig(raw);
      expect.unreachable('should throw');
    } catch (error) {
      expect(error).toBeInstanceOf(QualityError);
      expect((error as QualityError).code).toBe(code);
      expect((error as QualityError).retryable).toBe(false);
    }
  });
});

describe('toJsonSafe', () => {
  it('turns dates, bigint, bytea, non-finite numbers and nested values into JSON-safe values', () => {
    const value = toJsonSafe({
      d: new Date('2018-01-01T00:00:00Z'),
      b: 12345678901234567890n,
      buf: Buffer.from([0xde, 0xad]),
      inf: Number.POSITIVE_INFINITY,
      nested: [{ at: new Date(0) }, null],
      s: 'x',
      n: 1.5,
    });
    expect(value).toEqual({
      d: '2018-01-01T00:00:00.000Z',
      b: '12345678901234567890',
      buf: '\\xdead',
      inf: 'Infinity',
      nested: [{ at: '1970-01-01T00:00:00.000Z' }, null],
      s: 'x',
      n: 1.5,
    });
    expect(JSON.parse(JSON.stringify(value))).toEqual(value);
  });
});

describe('summarize', () => {
  const result = (status: TestResult['status']): TestResult => ({
    name: status,
    test: 'not_null',
    status,
    severity: 'error',
    failures: 0,
    sql: 'select 1',
    durationMs: 1,
    sample: [],
    startedAt: '2026-11-26T00:00:00.000Z',
  });

  it('counts by status; warnings alone do not set hasErrors', () => {
    expect(summarize([result('pass'), result('warn'), result('warn')])).toEqual({
      pass: 1,
      warn: 2,
      fail: 0,
      error: 0,
      total: 3,
      hasErrors: false,
    });
    expect(summarize([result('pass'), result('fail')]).hasErrors).toBe(true);
    expect(summarize([result('error')]).hasErrors).toBe(true);
    expect(summarize([]).total).toBe(0);
  });
});
