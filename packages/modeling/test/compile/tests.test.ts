import { describe, expect, it } from 'vitest';
import { createLinker } from '../../src/compile/link.js';
import { type NameTable, seedNodes } from '../../src/compile/names.js';
import { sourceNodes } from '../../src/compile/sources.js';
import { compileTests, testResolver } from '../../src/compile/tests.js';
import { RELATION_PLACEHOLDER } from '../../src/graph.js';
import { createBuildRenderer } from '../../src/introspection/build-renderer.js';
import type { IntrospectionRequest } from '../../src/introspection/requests.js';
import { testContext } from './context.js';

function setup() {
  const ctx = testContext();
  const names: NameTable = new Map();
  const seeds = seedNodes(
    ctx,
    [{ name: 'items', file: 'seeds/items.csv', absPath: '/p', layers: [], tests: [] }],
    names,
  );
  const sources = sourceNodes(ctx, [], { raw: { items: { schema: 'a', identifier: 'items' } } });
  const linker = createLinker(names, sources);
  const nodes = Object.fromEntries(seeds.map((s) => [s.uniqueId, s]));
  return { ctx, names, sources, linker, nodes };
}

describe('test phase', () => {
  it('testResolver resolves ref(), source() and bare names, records what the test reads, and emits the placeholder for itself', () => {
    const { linker } = setup();
    const deps = new Set<string>();
    const resolve = testResolver(linker, deps, 'seed.shop.items');
    expect(resolve("ref('items')")).toBe(RELATION_PLACEHOLDER);
    expect(resolve("source('raw', 'items')")).toBe('"a"."items"');
    expect([...deps].sort()).toEqual(['seed.shop.items', 'source.shop.raw.items']);
    expect(() => resolve('nowhere')).toThrow('nowhere is not a model, seed or loaded relation');
  });

  it('compiles generic tests of seeds with a placeholder template, and a singular test of one seed as its audit', () => {
    const { ctx, sources, linker, nodes } = setup();
    const tests = compileTests(ctx, {
      inputs: {
        models: [],
        seeds: [
          {
            name: 'items',
            file: 'seeds/items.csv',
            absPath: '/p',
            layers: [],
            tests: [{ test: 'not_null', column: 'id', args: {}, config: {} }],
            testsFile: 'seeds/schema.yml',
          },
        ],
        sources: [],
        singular: [
          {
            name: 'no_negative',
            file: 'tests/no_negative.sql',
            render: (scope) => `select * from ${scope.ref('items')} where id < 0`,
          },
        ],
      },
      nodes,
      sources,
      linker,
    }).nodes;
    expect(tests.map((t) => [t.name, t.testKind, t.attachedNode, t.file])).toEqual([
      ['not_null_items_id', 'generic', 'seed.shop.items', 'seeds/schema.yml'],
      ['no_negative', 'singular', 'seed.shop.items', 'tests/no_negative.sql'],
    ]);
    for (const t of tests) {
      expect(t.uniqueId).toMatch(new RegExp(`^test\\.shop\\.${t.name}\\.[0-9a-f]{10}$`));
      expect(t.sqlTemplate).toContain(RELATION_PLACEHOLDER);
      expect(t.compiled.sql).toContain('"a"."items"');
      expect(t.compiled.sql).not.toContain(RELATION_PLACEHOLDER);
    }
    expect(ctx.diagnostics.list).toEqual([]);
  });

  it('reports an unknown test and an unknown ref per test, and compiles the rest', () => {
    const { ctx, sources, linker, nodes } = setup();
    const tests = compileTests(ctx, {
      inputs: {
        models: [],
        seeds: [
          {
            name: 'items',
            file: 'seeds/items.csv',
            absPath: '/p',
            layers: [],
            tests: [
              { test: 'no_such_test', args: {}, config: {} },
              { test: 'unique', column: 'id', args: {}, config: { enabled: false } },
            ],
          },
        ],
        sources: [],
        singular: [{ name: 'lost', render: (scope) => `select * from ${scope.ref('nowhere')}` }],
      },
      nodes,
      sources,
      linker,
    }).nodes;
    expect(tests).toEqual([]);
    expect(ctx.diagnostics.list.map((d) => [d.code, d.node])).toEqual([
      ['UNKNOWN_TEST', 'items'],
      ['UNKNOWN_REF', 'lost'],
    ]);
  });
});

describe('tests whose Jinja needs the warehouse', () => {
  it('compile as pending with the macro config, and the build renderer renders them against the relation it is given', async () => {
    const { ctx, sources, linker, nodes } = setup();
    ctx.jinja.loadMacros(
      [
        '{% test same_columns(model, compare_model) %}',
        "{{ config(fail_calc='sum(n)', severity='warn') }}",
        "{% if not execute %}{{ return('') }}{% endif %}",
        '{% set cols = adapter.get_columns_in_relation(model) | map(attribute="name") | join(", ") %}',
        'select count(*) as n from {{ model }} where ({{ cols }}) is null having count(*) > 0',
        '{% endtest %}',
      ].join('\n'),
      'macros/same_columns.sql',
    );
    const { nodes: tests, pending } = compileTests(ctx, {
      inputs: {
        models: [],
        seeds: [
          {
            name: 'items',
            file: 'seeds/items.csv',
            absPath: '/p',
            layers: [],
            tests: [{ test: 'same_columns', args: { compare_model: "ref('items')" }, config: {} }],
            testsFile: 'seeds/schema.yml',
          },
        ],
        sources: [],
        singular: [],
      },
      nodes,
      sources,
      linker,
    });
    expect(ctx.diagnostics.list).toEqual([]);
    const [test] = tests;
    expect(test?.compiled).toMatchObject({ sql: '', pending: true, severity: 'warn' });
    expect(test?.compiled.config.failCalc).toBe('sum(n)');
    expect(test?.sqlTemplate).toBeUndefined();
    expect(pending.get(test?.uniqueId as string)?.relation).toBe('"a"."items"');

    const renderer = createBuildRenderer({
      ctx,
      models: [],
      linker,
      rendered: new Map(),
      inCycle: new Set(),
      tests: pending,
    });
    const asked: string[] = [];
    const introspect = async (requests: IntrospectionRequest[]) =>
      requests.map((r) => {
        asked.push(r.kind === 'columns' ? `${r.schema}.${r.identifier}` : r.kind);
        return [
          { name: 'id', dataType: 'integer', charMaxLength: null, numericPrecision: 32, numericScale: 0 },
        ];
      });
    const published = await renderer.renderTest(test?.uniqueId as string, introspect);
    expect(published.compiled.sql.trim()).toBe(
      'select count(*) as n from "a"."items" where (id) is null having count(*) > 0',
    );
    expect(published.compiled.pending).toBeUndefined();
    expect([published.passes, published.questions]).toEqual([2, 1]);
    const audit = await renderer.renderTest(test?.uniqueId as string, introspect, {
      relation: '"a"."items__tmp"',
    });
    expect(audit.compiled.sql).toContain('from "a"."items__tmp" where');
    expect(asked).toEqual(['a.items', 'a.items__tmp']);
  });
});
