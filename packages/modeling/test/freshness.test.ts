import { describe, expect, it } from 'vitest';
import {
  compileProject,
  freshnessCriteria,
  planFreshnessAge,
  type SourceNode,
  sourcesJson,
} from '../src/index.js';
import { writeProject } from './helpers.js';

describe('freshnessCriteria', () => {
  it('reads windows, filter and loaded_at_field; a null count is no window', () => {
    expect(
      freshnessCriteria({
        freshness: {
          warn_after: { count: 12, period: 'hour' },
          error_after: { count: null },
          filter: " status <> 'test' ",
        },
        loadedAtField: '_loaded_at',
      }),
    ).toEqual({
      criteria: {
        warnAfter: { count: 12, period: 'hour' },
        filter: "status <> 'test'",
        loadedAtField: '_loaded_at',
      },
    });
    expect(freshnessCriteria({ freshness: { warn_after: { count: null } } })).toBeUndefined();
    expect(freshnessCriteria({})).toBeUndefined();
  });
  it('problems: bad windows, no loaded_at_field', () => {
    expect(
      freshnessCriteria({ freshness: { warn_after: { count: 0, period: 'week' } }, loadedAtField: 'x' }),
    ).toEqual({
      problem:
        'freshness: warn_after.count must be a positive integer; warn_after.period must be minute, hour or day',
    });
    expect(freshnessCriteria({ freshness: { error_after: { count: 1, period: 'day' } } })).toEqual({
      problem: 'freshness needs loaded_at_field (the column holding the load time)',
    });
  });
  it('plans the age query', () => {
    expect(
      planFreshnessAge('"a"."raw_orders"', { loadedAtField: '_loaded_at', filter: "status <> 'test'" }),
    ).toBe(
      `select max(q."_loaded_at")::timestamptz as max_loaded_at, current_timestamp as snapshotted_at\nfrom (select * from "a"."raw_orders" where status <> 'test') as q`,
    );
  });
});

describe('freshness declarations', () => {
  it("dbt >= 1.9's config: form wins over the top-level keys; compile options give the raw tables' default", async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop\n',
      'models/sources.yml': `
sources:
  - name: raw
    loaded_at_field: old_field
    config:
      loaded_at_field: _loaded_at
      freshness: { warn_after: { count: 1, period: day } }
    tables:
      - name: orders
        freshness: { warn_after: { count: 9, period: day } }
        config:
          freshness: { error_after: { count: 2, period: hour }, filter: "id > 0" }
      - name: customers
      - name: items
        config: { freshness: null }
`,
    });
    const { graph, diagnostics } = await compileProject({
      dir,
      schema: 'a',
      sources: {
        raw: { orders: { schema: 'a', identifier: 'raw_orders' } },
        lake: {
          events: {
            schema: 'a',
            identifier: 'raw_events',
            freshness: { warn_after: { count: 3, period: 'hour' } },
            loadedAtField: '_loaded_at',
          },
        },
      },
    });
    expect(diagnostics).toEqual([]);
    const source = (id: string) => graph.nodes[id] as SourceNode;
    expect(source('source.shop.raw.orders')).toMatchObject({
      freshness: { error_after: { count: 2, period: 'hour' }, filter: 'id > 0' },
      loadedAtField: '_loaded_at',
    });
    expect(source('source.shop.raw.customers').freshness).toEqual({
      warn_after: { count: 1, period: 'day' },
    });
    expect(source('source.shop.raw.items').freshness).toBeUndefined();
    expect(source('source.shop.lake.events')).toMatchObject({
      freshness: { warn_after: { count: 3, period: 'hour' } },
      loadedAtField: '_loaded_at',
    });
  });
});

describe('sourcesJson', () => {
  it('has dbt v3 result fields', () => {
    const json = sourcesJson(
      {
        invocationId: 'r1',
        elapsedMs: 1500,
        results: [
          {
            uniqueId: 'source.shop.raw.orders',
            sourceName: 'raw',
            tableName: 'orders',
            relation: '"a"."raw_orders"',
            status: 'warn',
            maxLoadedAt: '2024-01-01T00:00:00.000Z',
            snapshottedAt: '2024-01-02T06:00:00.000Z',
            ageSeconds: 108000,
            criteria: { warnAfter: { count: 1, period: 'day' }, loadedAtField: '_loaded_at' },
            message: 'older than allowed (warn after 1 day(s))',
            startedAt: '2024-01-02T06:00:00.000Z',
            durationMs: 250,
          },
        ],
      },
      '2024-01-02T06:00:01.000Z',
    );
    expect(json).toEqual({
      metadata: {
        dbt_schema_version: 'https://schemas.getdbt.com/dbt/sources/v3.json',
        generated_at: '2024-01-02T06:00:01.000Z',
        invocation_id: 'r1',
        generator: '@dataflow/modeling',
      },
      results: [
        {
          unique_id: 'source.shop.raw.orders',
          max_loaded_at: '2024-01-01T00:00:00.000Z',
          snapshotted_at: '2024-01-02T06:00:00.000Z',
          max_loaded_at_time_ago_in_s: 108000,
          status: 'warn',
          criteria: {
            warn_after: { count: 1, period: 'day' },
            error_after: { count: null, period: null },
            filter: null,
          },
          adapter_response: {},
          timing: [
            {
              name: 'execute',
              started_at: '2024-01-02T06:00:00.000Z',
              completed_at: '2024-01-02T06:00:00.250Z',
            },
          ],
          thread_id: null,
          execution_time: 0.25,
          message: 'older than allowed (warn after 1 day(s))',
        },
      ],
      elapsed_time: 1.5,
    });
  });
});
