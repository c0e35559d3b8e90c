import { describe, expect, it } from 'vitest';
import type { NameTable } from '../../src/compile/names.js';
import { nameModel, parseModel } from '../../src/compile/parse-models.js';
import { sqlModel, testContext } from './context.js';

describe('parse phase: first render of a model', () => {
  it("collects ref(), source() and config() calls and layers the model's config", () => {
    const ctx = testContext({ n: 3 });
    const src = sqlModel(
      ctx,
      'orders',
      "{{ config(materialized='table', tags=['x']) }}select {{ var('n') }} from {{ ref('stg') }} join {{ source('raw', 'o') }}",
    );
    const parsed = parseModel(ctx, { ...src, layers: [{ tags: ['nightly'], schema: 'marts' }] });
    expect(parsed).toMatchObject({
      refs: ['stg'],
      sources: [['raw', 'o']],
      config: { materialized: 'table', tags: ['nightly', 'x'], schema: 'marts' },
    });
    expect(parsed?.tokenized).toBeUndefined();
    expect(ctx.diagnostics.list).toEqual([]);
  });

  it('a substitutable model keeps its render with one token per ref()/source() value', () => {
    const ctx = testContext();
    const parsed = parseModel(
      ctx,
      sqlModel(ctx, 'm', "select * from {{ ref('a') }}, {{ source('s', 't') }}", true),
    );
    expect(parsed?.tokenized?.tokens).toEqual([{ ref: 'a' }, { source: ['s', 't'] }]);
    expect(parsed?.tokenized?.sql).toBe('select * from \uE000df0\uE000, \uE000df1\uE000');
  });

  it('keeps the tokenized render when the macros it calls never name ref/source/this, and drops it when one does', () => {
    const ctx = testContext();
    const problem = ctx.jinja.loadMacros(
      [
        '{% macro plain(c) %}{{ return(c ~ " + 1") }}{% endmacro %}',
        '{% macro reads_this() %}{{ this.identifier }}{% endmacro %}',
      ].join('\n'),
      'macros/m.sql',
    );
    expect(problem).toBeUndefined();
    const plain = parseModel(ctx, sqlModel(ctx, 'p', "select {{ plain('x') }} from {{ ref('a') }}", true));
    expect(plain?.tokenized?.sql).toBe('select x + 1 from \uE000df0\uE000');
    const reads = parseModel(
      ctx,
      sqlModel(ctx, 'r', "select '{{ reads_this() }}' from {{ ref('a') }}", true),
    );
    expect(reads?.refs).toEqual(['a']);
    expect(reads?.tokenized).toBeUndefined();
  });

  it('reports a template error with its line (the model kept, marked failed), and drops disabled models silently', () => {
    const ctx = testContext();
    expect(parseModel(ctx, sqlModel(ctx, 'broken', 'select 1\n{{ foo( }}'))).toMatchObject({
      failed: true,
      refs: [],
      config: { materialized: 'view' },
    });
    expect(parseModel(ctx, sqlModel(ctx, 'off', '{{ config(enabled=false) }}select 1'))).toBeUndefined();
    expect(ctx.diagnostics.list).toEqual([
      expect.objectContaining({ code: 'TEMPLATE_ERROR', node: 'broken', file: 'models/broken.sql', line: 2 }),
    ]);
  });

  it('nameModel gives the model its relation (alias, custom schema) and claims the name once', () => {
    const ctx = testContext();
    const names: NameTable = new Map();
    const parsed = parseModel(
      ctx,
      sqlModel(ctx, 'm', "{{ config(alias='mm', schema='x', materialized='ephemeral') }}select 1"),
    );
    const named = parsed && nameModel(ctx, parsed, names);
    expect(named).toMatchObject({ uniqueId: 'model.shop.m', relation: { sql: '"a_x"."mm"' } });
    expect(names.get('m')?.ephemeral).toBe(true);
    expect(parsed && nameModel(ctx, parsed, names)).toBeUndefined();
    expect(ctx.diagnostics.list.map((d) => d.code)).toEqual(['DUPLICATE_NAME']);
  });
});
