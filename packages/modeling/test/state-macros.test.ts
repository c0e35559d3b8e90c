import { describe, expect, it } from 'vitest';
import { macroCalls } from '../src/compile/macro-deps.js';
import {
  type CompiledGraph,
  compileProject,
  graphChecksums,
  manifestJson,
  parseStateManifest,
  selectNodes,
} from '../src/index.js';
import { JinjaEnvironment } from '../src/jinja.js';
import { updateProject, writeProject } from './helpers.js';

const files = {
  'dbt_project.yml': 'name: shop\n',
  'macros/money.sql': [
    '{% macro cents_to_dollars(col) %}{{ round2(col ~ " / 100") }}{% endmacro %}',
    '{% macro round2(expr) %}round({{ expr }}, 2){% endmacro %}',
    '{% macro unused() %}1{% endmacro %}',
  ].join('\n'),
  'macros/late.sql':
    "{% macro late_flag() %}{{ return(adapter.dispatch('late_flag', 'shop')()) }}{% endmacro %}\n{% macro default__late_flag() %}false{% endmacro %}",
  'macros/tests.sql':
    '{% test positive(model, column_name) %}select * from {{ model }} where {{ column_name }} <= 0{% endtest %}',
  'models/orders.sql': "select {{ cents_to_dollars('amount') }} as amount from (select 100 as amount) t",
  'models/rounded.sql': "select {{ round2('1.234') }} as x",
  'models/flags.sql': '{% if execute %}select {{ late_flag() }} as late{% else %}select 1 as late{% endif %}',
  'models/plain.sql': 'select 1 as id',
  'models/schema.yml': [
    'version: 2',
    'models:',
    '  - name: plain',
    '    columns:',
    '      - name: id',
    '        data_tests: [positive, not_null]',
  ].join('\n'),
};

async function compiled(dir: string): Promise<CompiledGraph> {
  const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics' });
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return graph;
}

async function stateOf(graph: CompiledGraph) {
  return parseStateManifest(
    JSON.parse(JSON.stringify(manifestJson(graph, { checksums: await graphChecksums(graph) }))),
    'prod/manifest.json',
  );
}

const names = (graph: CompiledGraph, ids: string[]) => ids.map((id) => graph.nodes[id]?.name).sort();

describe('state:modified through macros', () => {
  it("records each node's macros (every branch, through dispatch) and the checksums of the macros nodes reach in the manifest", async () => {
    const graph = await compiled(await writeProject(files));
    expect(graph.nodes['model.shop.orders']?.dependsOnMacros).toEqual(['macro.shop.cents_to_dollars']);
    expect(graph.nodes['model.shop.flags']?.dependsOnMacros).toEqual(['macro.shop.late_flag']);
    expect(graph.nodes['model.shop.plain']?.dependsOnMacros).toBeUndefined();
    expect(graph.macros?.['macro.shop.cents_to_dollars']?.macros).toEqual(['macro.shop.round2']);
    expect(graph.macros?.['macro.shop.late_flag']?.macros).toEqual(['macro.shop.default__late_flag']);
    const manifest = manifestJson(graph) as {
      nodes: Record<string, { depends_on: { macros: string[] } }>;
      macros: Record<string, { checksum: { checksum: string }; package_name: string }>;
    };
    expect(manifest.nodes['model.shop.orders']?.depends_on.macros).toEqual(['macro.shop.cents_to_dollars']);
    const positive = Object.entries(manifest.nodes).find(([id]) =>
      id.startsWith('test.shop.positive_plain_id'),
    );
    expect(positive?.[1].depends_on.macros).toEqual(['macro.shop.test_positive']);
    expect(Object.keys(manifest.macros).sort()).toEqual([
      'macro.shop.cents_to_dollars',
      'macro.shop.default__late_flag',
      'macro.shop.late_flag',
      'macro.shop.round2',
      'macro.shop.test_positive',
    ]);
    expect(manifest.macros['macro.shop.round2']?.checksum.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a changed macro body selects its callers, directly and through other macros, and nothing else', async () => {
    const dir = await writeProject(files);
    const previous = await stateOf(await compiled(dir));
    const unchanged = await compiled(dir);
    expect(selectNodes(unchanged, { select: ['state:modified'], state: { previous } })).toEqual([]);
    expect(selectNodes(unchanged, { select: ['state:modified.macros'], state: { previous } })).toEqual([]);

    // round2 changes (and a line is added above it, which moves but does not change cents_to_dollars).
    await updateProject(dir, {
      'macros/money.sql': [
        '{# money helpers #}',
        '{% macro cents_to_dollars(col) %}{{ round2(col ~ " / 100") }}{% endmacro %}',
        '{% macro round2(expr) %}round({{ expr }}, 3){% endmacro %}',
        '{% macro unused() %}1{% endmacro %}',
      ].join('\n'),
    });
    const graph = await compiled(dir);
    expect(graph.macros?.['macro.shop.cents_to_dollars']?.checksum).toBe(
      unchanged.macros?.['macro.shop.cents_to_dollars']?.checksum,
    );
    const state = { previous };
    expect(names(graph, selectNodes(graph, { select: ['state:modified.macros'], state }))).toEqual([
      'orders',
      'rounded',
    ]);
    expect(names(graph, selectNodes(graph, { select: ['state:modified'], state }))).toEqual([
      'orders',
      'rounded',
    ]);
    expect(selectNodes(graph, { select: ['state:modified.body'], state })).toEqual([]);

    // A dispatched implementation reached only under `execute` changes: its model is modified.
    await updateProject(dir, {
      'macros/late.sql':
        "{% macro late_flag() %}{{ return(adapter.dispatch('late_flag', 'shop')()) }}{% endmacro %}\n{% macro default__late_flag() %}true{% endmacro %}",
    });
    expect(
      names(graph, selectNodes(await compiled(dir), { select: ['state:modified.macros'], state })),
    ).toEqual(['flags', 'orders', 'rounded']);
  });

  it('a test macro change selects its tests; a manifest without macros counts every macro caller as modified', async () => {
    const dir = await writeProject(files);
    const previous = await stateOf(await compiled(dir));
    await updateProject(dir, {
      'macros/tests.sql':
        '{% test positive(model, column_name) %}select * from {{ model }} where {{ column_name }} < 0{% endtest %}',
    });
    const graph = await compiled(dir);
    const selected = selectNodes(graph, { select: ['state:modified.macros'], state: { previous } });
    expect(selected.map((id) => id.split('.').slice(0, 3).join('.'))).toEqual([
      'test.shop.positive_plain_id',
    ]);

    const { macros: _dropped, ...withoutMacros } = previous;
    expect(
      names(
        graph,
        selectNodes(graph, { select: ['state:modified.macros'], state: { previous: withoutMacros } }),
      ),
    ).toEqual(['flags', 'orders', 'positive_plain_id', 'rounded']);
  });

  it('reads calls statically: names, package.macro, and literal dispatch', () => {
    const jinja = new JinjaEnvironment({ schema: 'analytics' });
    const calls = macroCalls(
      jinja.env.parse(
        "{% if x %}{{ a(1) }}{% else %}{{ dbt_utils.star(y) }}{% endif %}{% set r = adapter.dispatch('b', macro_namespace='pkg')() %}{{ 'c'.upper() }}",
        'm.sql',
      ).body,
    );
    expect([...calls.names]).toEqual(['a']);
    expect([...calls.qualified]).toEqual(['dbt_utils.star']);
    expect(calls.dispatched).toEqual([['b', 'pkg']]);
  });
});
