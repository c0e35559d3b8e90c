import { describe, expect, it } from 'vitest';
import { hookList, modelHookTexts } from '../../src/compile/hooks.js';
import { mergeLayers, schemaFor, toModelConfig } from '../../src/compile/model-config.js';

describe('model config layering', () => {
  it('later layers win key by key; tags accumulate without duplicates', () => {
    expect(
      mergeLayers([
        { materialized: 'view', tags: ['a'], schema: 'x' },
        { materialized: 'table', tags: 'b' },
        { tags: ['a', 'c'], schema: undefined },
      ]),
    ).toEqual({ materialized: 'table', schema: 'x', tags: ['a', 'b', 'c'] });
  });

  it('defaults: view, append without unique_key, merge with one', () => {
    const report: string[] = [];
    expect(toModelConfig({}, (m) => report.push(m))).toEqual({
      materialized: 'view',
      incrementalStrategy: 'append',
      tags: [],
      enabled: true,
    });
    expect(
      toModelConfig({ materialized: 'incremental', unique_key: 'id', full_refresh: false }, (m) =>
        report.push(m),
      ),
    ).toEqual({
      materialized: 'incremental',
      incrementalStrategy: 'merge',
      uniqueKey: ['id'],
      tags: [],
      enabled: true,
      fullRefresh: false,
    });
    expect(report).toEqual([]);
  });

  it('reports each invalid value and keeps its default', () => {
    const report: string[] = [];
    const config = toModelConfig(
      { materialized: 3, unique_key: 3, incremental_strategy: 'upsert', enabled: false },
      (m) => report.push(m),
    );
    expect(config).toMatchObject({ materialized: 'view', incrementalStrategy: 'merge', enabled: false });
    // A strategy only matters to an incremental model: another adapter's name is ignored elsewhere.
    expect(report).toEqual([
      'unknown materialization 3 (expected view, table, incremental, ephemeral)',
      'unique_key must be a column name or a list of column names',
    ]);
    const needsKey: string[] = [];
    toModelConfig({ materialized: 'incremental', incremental_strategy: 'merge' }, (m) => needsKey.push(m));
    expect(needsKey).toEqual(['incremental_strategy merge needs a unique_key']);
  });

  it("warns about another adapter's materialization or strategy and keeps it in `unsupported`", () => {
    const errors: string[] = [];
    const warnings: string[] = [];
    const mv = toModelConfig(
      { materialized: 'snapshot' },
      (m) => errors.push(m),
      (m) => warnings.push(m),
    );
    expect(mv).toMatchObject({
      materialized: 'view',
      unsupported: { setting: 'materialized', value: 'snapshot' },
    });
    const upsert = toModelConfig(
      { materialized: 'incremental', incremental_strategy: 'upsert' },
      (m) => errors.push(m),
      (m) => warnings.push(m),
    );
    expect(upsert).toMatchObject({
      materialized: 'incremental',
      unsupported: { setting: 'incremental_strategy', value: 'upsert' },
    });
    expect(errors).toEqual([]);
    expect(warnings).toEqual([
      'materialization "snapshot" is not built by dataflow (expected view, table, incremental, ephemeral): the model compiles, building it fails',
      'incremental_strategy "upsert" is not built by dataflow on PostgreSQL (expected append, delete+insert, merge): the first run builds the table, an incremental run fails',
    ]);
  });

  it("schemaFor follows dbt's generate_schema_name", () => {
    expect(schemaFor('analytics', 'staging')).toBe('analytics_staging');
    expect(schemaFor('analytics', undefined)).toBe('analytics');
    expect(schemaFor('analytics', '')).toBe('analytics');
  });

  it('hooks of every layer accumulate in order, whatever their spelling', () => {
    const merged = mergeLayers([
      { 'post-hook': 'analyze {{ this }}' },
      { pre_hook: ['select 1', ''], 'post-hook': [{ sql: 'select 2', transaction: true }] },
      { post_hook: 'select 3' },
    ]);
    expect(modelHookTexts(merged)).toEqual({
      pre: ['select 1'],
      post: ['analyze {{ this }}', 'select 2', 'select 3'],
    });
    expect(hookList(undefined)).toEqual([]);
    expect(hookList(42)).toEqual([]);
  });
});
