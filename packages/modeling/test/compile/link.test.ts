import { describe, expect, it } from 'vitest';
import { createLinker, linkModels } from '../../src/compile/link.js';
import { type NameTable, relationOf, seedNodes } from '../../src/compile/names.js';
import { type NamedModel, nameModel, parseModel } from '../../src/compile/parse-models.js';
import { sourceNodes } from '../../src/compile/sources.js';
import { sqlModel, testContext } from './context.js';

function project(models: Record<string, string>) {
  const ctx = testContext();
  const names: NameTable = new Map();
  seedNodes(
    ctx,
    [{ name: 'raw_items', file: 'seeds/raw_items.csv', absPath: '/p', layers: [], tests: [] }],
    names,
  );
  const named: NamedModel[] = [];
  for (const [name, text] of Object.entries(models)) {
    const parsed = parseModel(ctx, sqlModel(ctx, name, text));
    const m = parsed && nameModel(ctx, parsed, names);
    if (m) named.push(m);
  }
  names.set('loaded', { uniqueId: '', relation: relationOf('public', 'loaded') });
  const sources = sourceNodes(ctx, [], {
    raw: {
      items: { schema: 'a', identifier: 'raw_items' },
      loaded: { schema: 'public', identifier: 'loaded' },
    },
  });
  return { ctx, named, linker: createLinker(names, sources) };
}

describe('link phase', () => {
  it('resolves a relation to every node that is it: seed read through source(), loaded table read through ref()', () => {
    const { linker } = project({});
    expect(linker.source('raw', 'items')?.nodeIds).toEqual(['source.shop.raw.items', 'seed.shop.raw_items']);
    expect(linker.ref('raw_items')?.nodeIds).toEqual(['seed.shop.raw_items', 'source.shop.raw.items']);
    expect(linker.ref('loaded')).toEqual({
      relation: relationOf('public', 'loaded'),
      nodeIds: ['source.shop.raw.loaded'],
    });
    expect(linker.ref('nowhere')).toBeUndefined();
  });

  it('gives each model its parents and reports unknown names on their line', () => {
    const { ctx, named, linker } = project({
      a: "select * from {{ source('raw', 'items') }}",
      b: "select 1\nfrom {{ ref('a') }}\njoin {{ ref('nowhere') }}",
    });
    const { dependsOn, inCycle } = linkModels(ctx, named, linker);
    expect(Object.fromEntries(dependsOn)).toEqual({
      'model.shop.a': ['source.shop.raw.items', 'seed.shop.raw_items'],
      'model.shop.b': ['model.shop.a'],
    });
    expect(inCycle.size).toBe(0);
    expect(ctx.diagnostics.list).toEqual([
      expect.objectContaining({ code: 'UNKNOWN_REF', node: 'b', file: 'models/b.sql', line: 3 }),
    ]);
  });

  it('reports each cycle once and marks its models', () => {
    const { ctx, named, linker } = project({
      a: "select * from {{ ref('b') }}",
      b: "select * from {{ ref('a') }}",
      c: "select * from {{ ref('a') }}",
    });
    const { inCycle } = linkModels(ctx, named, linker);
    expect([...inCycle].sort()).toEqual(['model.shop.a', 'model.shop.b']);
    expect(ctx.diagnostics.list.map((d) => [d.code, d.message])).toEqual([
      ['CYCLE', expect.stringMatching(/^dependency cycle: (a -> b -> a|b -> a -> b)$/)],
    ]);
  });
});
