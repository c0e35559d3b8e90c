import { describe, expect, it } from 'vitest';
import { cursorValueArg } from '../src/commands/state.js';
import { apiIngestOptions } from '../src/config/api-options.js';
import { csvIncremental, loadOptions } from '../src/config/library-options.js';
import { parseConfig } from '../src/config/parse.js';
import type { ApiSourceConfig, CsvSourceConfig } from '../src/config/schema.js';
import { CliError } from '../src/errors.js';
import {
  backfillBounds,
  backfillPartition,
  committedWindows,
  isBackfillDay,
  pendingWindows,
} from '../src/pipeline/cursor-windows.js';
import { buildSummary, emptyTotals } from '../src/summary.js';

const api = {
  type: 'api',
  url: 'https://api.test/items',
  records: 'data',
  primary_key: ['id'],
  disposition: 'merge',
  incremental: {
    cursor_path: 'updated_at',
    param: 'updated_since',
    initial_value: '2026-01-01T00:00:00Z',
    lag: 60,
    row_order: 'asc',
  },
  nested: { flatten: 2 },
  auth: {
    type: 'oauth2_client_credentials',
    token_url: 'https://id.test/token',
    client_id: 'app',
    client_secret: 's3cr3t-value',
    scope: 'read',
  },
};

function configError(raw: unknown): CliError {
  try {
    parseConfig(raw, {});
  } catch (e) {
    if (e instanceof CliError) return e;
    throw e;
  }
  throw new Error('expected a config error');
}

describe('incremental source config', () => {
  it('maps incremental, nested and OAuth2 auth (snake_case YAML) to ingest’s camelCase options', () => {
    const { config, secrets } = parseConfig({ name: 'x', sources: { items: api } }, {});
    const options = apiIngestOptions('items', config.sources.items as ApiSourceConfig);
    expect(options.incremental).toEqual({
      cursorPath: 'updated_at',
      param: 'updated_since',
      initialValue: '2026-01-01T00:00:00Z',
      lag: 60,
      rowOrder: 'asc',
      // The source's primary key is the boundary key unless the block names one.
      primaryKey: ['id'],
    });
    expect(options.nested).toEqual({ flatten: 2 });
    expect(options.request.auth).toEqual({
      type: 'oauth2_client_credentials',
      tokenUrl: 'https://id.test/token',
      clientId: 'app',
      clientSecret: 's3cr3t-value',
      scope: 'read',
    });
    expect(secrets).toContain('s3cr3t-value');
    expect(loadOptions('items', config.sources.items as ApiSourceConfig, config)).toMatchObject({
      disposition: 'merge',
      primaryKey: ['id'],
    });
  });

  it('keeps the other auth kinds as ingest maps them', () => {
    const { config } = parseConfig(
      { name: 'x', sources: { items: { ...api, auth: { type: 'bearer', token: 'tok' } } } },
      {},
    );
    expect(apiIngestOptions('items', config.sources.items as ApiSourceConfig).request.auth).toEqual({
      type: 'bearer',
      token: 'tok',
    });
  });

  it('maps a CSV feed’s cursor column', () => {
    const { config } = parseConfig(
      {
        name: 'x',
        sources: {
          feed: {
            type: 'csv',
            location: 'data/feed.csv',
            disposition: 'append',
            incremental: { cursor_column: 'seq', initial_value: 0, primary_key: 'seq' },
          },
        },
      },
      {},
    );
    expect(csvIncremental(config.sources.feed as CsvSourceConfig)).toEqual({
      cursorColumn: 'seq',
      initialValue: 0,
      primaryKey: ['seq'],
    });
  });

  it('refuses a replacing disposition and unknown keys, naming file and key', () => {
    const replacing = configError({
      name: 'x',
      sources: { items: { ...api, disposition: 'replace_partition' } },
    });
    expect(replacing.message).toMatch(
      /^dataflow\.yml: sources\.items\.disposition: an incremental source loads with append or merge/,
    );
    expect(replacing.exitCode).toBe(2);
    const typo = configError({
      name: 'x',
      sources: { items: { ...api, incremental: { ...api.incremental, cursor: 'x' } } },
    });
    expect(typo.message).toContain('sources.items.incremental');
  });
});

describe('cursor windows', () => {
  const day = { start: '2026-05-01', end: '2026-05-02' };

  it('a day whose interval ended before today is a backfill, for date and timestamp cursors only', () => {
    expect(isBackfillDay(day, '2026-01-01T00:00:00Z', '2026-05-03')).toBe(true);
    expect(isBackfillDay(day, '2026-01-01', '2026-05-03')).toBe(true);
    // Airflow's daily run of yesterday: the interval ends today.
    expect(isBackfillDay(day, '2026-01-01T00:00:00Z', '2026-05-02')).toBe(false);
    expect(isBackfillDay(day, 0, '2026-05-03')).toBe(false);
    expect(isBackfillDay(day, 'abc', '2026-05-03')).toBe(false);
  });

  it('a backfill reads the day in the cursor’s shape, never before initial_value', () => {
    expect(backfillPartition(day)).toBe('w=backfill-2026-05-01');
    expect(backfillBounds(day, '2026-01-01T00:00:00Z')).toEqual({
      initialValue: '2026-05-01T00:00:00Z',
      endValue: '2026-05-02T00:00:00Z',
    });
    expect(backfillBounds(day, '2026-01-01')).toEqual({ initialValue: '2026-05-01', endValue: '2026-05-02' });
    expect(backfillBounds(day, '2026-05-01T12:00:00Z').initialValue).toBe('2026-05-01T12:00:00Z');
  });

  const range = (from: string, to: string) => ({
    path: 'u',
    from,
    to,
    boundaryKeys: [],
    duplicatesDropped: 0,
  });

  it('loads cursor windows after the last published one, in order, minus superseded ones', () => {
    const w1 = { partition: 'w=20260501T100000000Z-aaaaaa', cursor: range('2026-01-01', '2026-01-03') };
    const w2 = { partition: 'w=20260501T110000000Z-bbbbbb', cursor: range('2026-01-03', '2026-01-04') };
    // Read from the same state as w2, later: it holds all w2 held.
    const w3 = { partition: 'w=20260501T120000000Z-cccccc', cursor: range('2026-01-03', '2026-01-05') };
    const w4 = { partition: 'w=20260501T130000000Z-dddddd', cursor: range('2026-01-05', '2026-01-06') };
    const backfill = { partition: 'w=backfill-2026-01-02', cursor: range('2026-01-02', '2026-01-02') };
    const { load, superseded } = pendingWindows([w4, backfill, w3, w2, w1], w1.partition);
    expect(load.map((w) => w.partition)).toEqual([w3.partition, w4.partition]);
    expect(superseded.map((w) => w.partition)).toEqual([w2.partition]);
    expect(pendingWindows([w1, w2], undefined).load).toEqual([w1, w2]);
    expect(pendingWindows([w1], w1.partition).load).toEqual([]);
  });

  it('finds committed windows in a listing', () => {
    expect(
      committedWindows('rates', [
        'rates/w=a/_manifest.json',
        'rates/w=a/part-00000-x.ndjson',
        'rates/w=b/part-00000-y.ndjson',
        'rates/dt=2026-05-01/_manifest.json',
        'rates_eu/w=c/_manifest.json',
      ]),
    ).toEqual(['w=a']);
  });
});

describe('state command and summary', () => {
  it('types --value like initial_value', () => {
    expect(cursorValueArg('42', 0)).toBe(42);
    expect(cursorValueArg('2026-01-01', '2025-01-01')).toBe('2026-01-01');
    expect(() => cursorValueArg('abc', 0)).toThrow(/--value: the cursor is numeric/);
  });

  it('the summary lists published cursor windows only when there are some', () => {
    const base = { runId: 'r', command: 'run', status: 'success' as const, exitCode: 0, durationMs: 1 };
    expect(buildSummary({ ...base, totals: emptyTotals() })).not.toHaveProperty('cursors');
    const totals = emptyTotals();
    totals.cursors.push({
      source: 'rates',
      partition: 'w=x',
      path: 'updated_at',
      from: 'a',
      to: 'b',
      duplicates_dropped: 1,
      state: 'advanced',
    });
    expect(buildSummary({ ...base, totals }).cursors).toEqual(totals.cursors);
  });
});
