import { describe, expect, it } from 'vitest';
import { inlineEphemerals } from '../../src/compile/ephemeral.js';
import { createLinker } from '../../src/compile/link.js';
import type { NameTable } from '../../src/compile/names.js';
import { type NamedModel, nameModel, parseModel } from '../../src/compile/parse-models.js';
import {
  type RenderedModel,
  renderModelSql,
  renderModels,
  substituteTokens,
} from '../../src/compile/render.js';
import { sourceNodes } from '../../src/compile/sources.js';
import { sqlModel, testContext } from './context.js';

function compileModels(models: Record<string, string>, substitutable = false) {
  const ctx = testContext({ since: '2024-01-01' });
  const names: NameTable = new Map();
  const named: NamedModel[] = [];
  for (const [name, text] of Object.entries(models)) {
    const parsed = parseModel(ctx, sqlModel(ctx, name, text, substitutable));
    const m = parsed && nameModel(ctx, parsed, names);
    if (m) named.push(m);
  }
  const linker = createLinker(
    names,
    sourceNodes(ctx, [], { raw: { o: { schema: 'public', identifier: 'raw_o' } } }),
  );
  return { ctx, named, linker };
}

describe('render phase', () => {
  it('renders final SQL with relations, and the incremental variant with is_incremental() true', () => {
    const { ctx, named, linker } = compileModels({
      inc: "{{ config(materialized='incremental') }}select * from {{ source('raw', 'o') }}{% if is_incremental() %} where d > (select max(d) from {{ this }}){% endif %}",
    });
    const rendered = renderModels(ctx, named, linker);
    expect(rendered.get('model.shop.inc')).toEqual({
      sql: 'select * from "public"."raw_o"',
      incrementalSql: 'select * from "public"."raw_o" where d > (select max(d) from "a"."inc")',
      ephemeralRefs: [],
    });
    expect(ctx.diagnostics.list).toEqual([]);
  });

  it('renderModelSql renders one node on its own (what the build calls to render again before a run)', () => {
    const { ctx, named, linker } = compileModels({ m: "select '{{ var('since') }}' as since" });
    expect(renderModelSql(ctx, named[0] as NamedModel, linker, false)).toEqual({
      sql: "select '2024-01-01' as since",
      ephemeralRefs: [],
    });
  });

  it('substitutes the tokens of a substitutable first render instead of rendering again', () => {
    const { named, linker } = compileModels(
      { a: 'select 1', b: "select * from {{ ref('a') }} join {{ this }}" },
      true,
    );
    expect(substituteTokens(named[1] as NamedModel, linker)).toEqual({
      sql: 'select * from "a"."a" join "a"."b"',
      ephemeralRefs: [],
    });
    expect(substituteTokens({ ...(named[1] as NamedModel), tokenized: undefined }, linker)).toBeUndefined();
  });

  it('reports a render failure for its model and keeps rendering the others', () => {
    const { ctx, named, linker } = compileModels({
      ok: 'select 1',
      bad: "select {{ var('missing') }}",
      broken: 'select {{ foo( }}',
    });
    // A missing var is None while parsing (dbt's rule): `bad` fails in this phase. The first render
    // of `broken` already failed: it keeps its name but is not rendered again.
    expect(named.map((m) => [m.src.name, m.failed])).toEqual([
      ['ok', undefined],
      ['bad', undefined],
      ['broken', true],
    ]);
    expect([...renderModels(ctx, named, linker).keys()]).toEqual(['model.shop.ok']);
    expect(ctx.diagnostics.list.map((d) => [d.code, d.node])).toEqual([
      ['TEMPLATE_ERROR', 'broken'],
      ['TEMPLATE_ERROR', 'bad'],
    ]);
  });
});

describe('ephemeral inlining', () => {
  const rendered = new Map<string, RenderedModel>([
    ['model.p.base', { sql: 'select 1 as id;\n', ephemeralRefs: [] }],
    ['model.p.mid', { sql: 'select * from __dbt__cte__base', ephemeralRefs: ['model.p.base'] }],
    ['model.p.top', { sql: '', ephemeralRefs: ['model.p.mid', 'model.p.base'] }],
  ]);

  it('inlines ephemeral parents innermost first, each once', () => {
    expect(inlineEphemerals('model.p.top', 'select * from __dbt__cte__mid', rendered, new Set())).toBe(
      'with __dbt__cte__base as (\nselect 1 as id;\n),\n__dbt__cte__mid as (\nselect * from __dbt__cte__base\n)\nselect * from __dbt__cte__mid',
    );
  });

  it("merges into the body's own leading with (after comments), and leaves bodies without ephemerals alone", () => {
    expect(
      inlineEphemerals('model.p.mid', '-- c\nwith x as (select 2) select * from x', rendered, new Set()),
    ).toBe('-- c\nwith __dbt__cte__base as (\nselect 1 as id;\n),\nx as (select 2) select * from x');
    expect(inlineEphemerals('model.p.base', 'select 1', rendered, new Set())).toBe('select 1');
    expect(inlineEphemerals('model.p.mid', 'select 1', rendered, new Set(['model.p.base']))).toBe('select 1');
  });
});
