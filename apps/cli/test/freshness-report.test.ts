import type { FreshnessResult } from '@dataflow/modeling';
import { describe, expect, it } from 'vitest';
import { formatAge, formatFreshnessTable, freshnessTestResult } from '../src/freshness-report.js';

const result = (over: Partial<FreshnessResult>): FreshnessResult => ({
  uniqueId: 'source.shop.raw.orders',
  sourceName: 'raw',
  tableName: 'orders',
  relation: '"a"."raw_orders"',
  status: 'pass',
  maxLoadedAt: '2026-05-01T10:00:00.000Z',
  snapshottedAt: '2026-05-01T12:05:00.000Z',
  ageSeconds: 7500,
  startedAt: '2026-05-01T12:05:00.000Z',
  durationMs: 3.6,
  ...over,
});

describe('freshness report', () => {
  it('formats ages by their two coarsest units', () => {
    expect([null, 42, 125, 7500, 266_400].map(formatAge)).toEqual(['-', '42s', '2m 5s', '2h 5m', '3d 2h']);
  });

  it('prints one row per source, with the reason when not pass', () => {
    const text = formatFreshnessTable([
      result({}),
      result({
        tableName: 'customers',
        status: 'error',
        ageSeconds: null,
        maxLoadedAt: null,
        message: 'stale\nmore',
      }),
    ]);
    expect(text.split('\n')).toEqual([
      'SOURCE         MAX LOADED AT             AGE    STATUS  CRITERIA',
      'raw.orders     2026-05-01T10:00:00.000Z  2h 5m  PASS',
      'raw.customers  -                         -      ERROR   stale',
    ]);
  });

  it('records error as a failed test and runtime error as an errored one', () => {
    expect(freshnessTestResult(result({ status: 'error', message: 'stale' }))).toEqual({
      uniqueId: 'source.shop.raw.orders',
      name: 'source_freshness_raw_orders',
      status: 'fail',
      severity: 'error',
      failures: 1,
      sql: undefined,
      sample: [],
      message: 'stale',
      durationMs: 4,
    });
    expect(freshnessTestResult(result({ status: 'runtime error' })).status).toBe('error');
    expect(freshnessTestResult(result({ status: 'warn' })).status).toBe('warn');
  });
});
