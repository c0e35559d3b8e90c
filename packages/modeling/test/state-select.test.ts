import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  applyDefer,
  type CompiledGraph,
  chooseDeferred,
  compileProject,
  deferCandidates,
  graphChecksums,
  ModelingError,
  manifestJson,
  normaliseBody,
  parseRunResults,
  parseStateManifest,
  readPreviousResults,
  readStateManifest,
  type SelectionState,
  selectNodes,
  writeArtifacts,
} from '../src/index.js';
import { updateProject, writeProject } from './helpers.js';

const files = {
  'dataflow.yml': 'name: shop\n',
  'seeds/countries.csv': 'code,name\nFR,France\n',
  'models/stg_orders.sql': "{{ config(materialized='view') }}\nselect 1 as id, 'FR' as code\n",
  'models/stg_customers.sql': "{{ config(materialized='view') }}\nselect 1 as id\n",
  'models/orders.sql':
    "{{ config(materialized='table', tags=['daily']) }}\nselect o.id from {{ ref('stg_orders') }} o join {{ ref('countries') }} c using (code)\n",
  'models/customers.sql':
    "{{ config(materialized='table') }}\nselect c.id from {{ ref('stg_customers') }} c join {{ ref('orders') }} o using (id)\n",
  'models/schema.yml': `version: 2
models:
  - name: orders
    columns:
      - name: id
        data_tests: [not_null]
`,
};

async function compiled(dir: string, schema = 'analytics'): Promise<CompiledGraph> {
  const { graph, diagnostics } = await compileProject({ dir, schema });
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return graph;
}

/** The previous manifest as `--state` reads it, from a graph compiled into another target schema. */
async function stateOf(graph: CompiledGraph) {
  return parseStateManifest(
    JSON.parse(JSON.stringify(manifestJson(graph, { checksums: await graphChecksums(graph) }))),
    'prod/manifest.json',
  );
}

const modelNames = (graph: CompiledGraph, ids: string[]) =>
  ids.filter((id) => graph.nodes[id]?.resourceType !== 'test').map((id) => graph.nodes[id]?.name);

describe('state: selectors against a previous manifest', () => {
  it('nothing is modified when only the target schema differs (prod vs CI)', async () => {
    const dir = await writeProject(files);
    const previous = await stateOf(await compiled(dir, 'analytics'));
    const graph = await compiled(dir, 'ci_123');
    const state: SelectionState = { previous, current: await graphChecksums(graph) };
    expect(selectNodes(graph, { select: ['state:modified'], state })).toEqual([]);
    expect(selectNodes(graph, { select: ['state:new'], state })).toEqual([]);
    expect(modelNames(graph, selectNodes(graph, { select: ['state:unmodified'], state }))).toHaveLength(5);
  });

  it('a body change selects the model; state:modified+ adds its children and their tests', async () => {
    const dir = await writeProject(files);
    const previous = await stateOf(await compiled(dir));
    await updateProject(dir, {
      'models/stg_orders.sql': "{{ config(materialized='view') }}\nselect 2 as id, 'FR' as code\n",
    });
    const graph = await compiled(dir, 'ci');
    const state: SelectionState = { previous, current: await graphChecksums(graph) };
    expect(selectNodes(graph, { select: ['state:modified'], state })).toEqual(['model.shop.stg_orders']);
    expect(selectNodes(graph, { select: ['state:modified.body'], state })).toEqual(['model.shop.stg_orders']);
    expect(selectNodes(graph, { select: ['state:modified.configs'], state })).toEqual([]);
    expect(selectNodes(graph, { select: ['state:modified+'], state })).toEqual([
      'model.shop.customers',
      'model.shop.orders',
      'model.shop.stg_orders',
      'test.shop.not_null_orders_id.ed2949ad1c',
    ]);
  });

  it('whitespace at line ends and CRLF are not a change', async () => {
    expect(normaliseBody('select 1   \r\nfrom x\r\n\r\n')).toBe('select 1\nfrom x');
    const dir = await writeProject(files);
    const previous = await stateOf(await compiled(dir));
    await updateProject(dir, {
      'models/stg_orders.sql': "{{ config(materialized='view') }}   \r\nselect 1 as id, 'FR' as code\r\n\r\n",
    });
    const graph = await compiled(dir);
    const current = await graphChecksums(graph);
    expect(selectNodes(graph, { select: ['state:modified'], state: { previous, current } })).toEqual([]);
  });

  it('configs, relation, new nodes and seed files are told apart', async () => {
    const dir = await writeProject(files);
    const previous = await stateOf(await compiled(dir));
    await updateProject(dir, {
      // Tags are not semantic: no configs change.
      'models/orders.sql':
        "{{ config(materialized='table', tags=['hourly']) }}\nselect o.id from {{ ref('stg_orders') }} o join {{ ref('countries') }} c using (code)\n",
      'models/stg_customers.sql': "{{ config(materialized='table') }}\nselect 1 as id\n",
      'models/customers.sql':
        "{{ config(materialized='table', alias='all_customers') }}\nselect c.id from {{ ref('stg_customers') }} c join {{ ref('orders') }} o using (id)\n",
      'models/brand_new.sql': 'select 1 as x\n',
      'seeds/countries.csv': 'code,name\nFR,France\nDE,Germany\n',
    });
    const graph = await compiled(dir);
    const state: SelectionState = { previous, current: await graphChecksums(graph) };
    const sel = (s: string) => selectNodes(graph, { select: [s], state, indirectSelection: 'empty' });
    // An alias is the relation, not the configs.
    expect(sel('state:modified.configs')).toEqual(['model.shop.stg_customers']);
    expect(sel('state:modified.relation')).toEqual(['model.shop.customers']);
    // The body is the file text: an inline config() edit changes it too (as in dbt).
    expect(sel('state:modified.body')).toEqual([
      'model.shop.customers',
      'model.shop.orders',
      'model.shop.stg_customers',
      'seed.shop.countries',
    ]);
    expect(sel('state:new')).toEqual(['model.shop.brand_new']);
    expect(sel('state:modified')).toEqual([
      'model.shop.brand_new',
      'model.shop.customers',
      'model.shop.orders',
      'model.shop.stg_customers',
      'seed.shop.countries',
    ]);
    // Intersection and exclusion work with state like with any method.
    expect(sel('state:modified,resource_type:seed')).toEqual(['seed.shop.countries']);
    expect(
      selectNodes(graph, {
        select: ['state:modified'],
        exclude: ['state:new'],
        state,
        indirectSelection: 'empty',
      }),
    ).toEqual([
      'model.shop.customers',
      'model.shop.orders',
      'model.shop.stg_customers',
      'seed.shop.countries',
    ]);
  });

  it('a manifest without checksums (dbt, older dataflow) makes every known node modified', async () => {
    const dir = await writeProject(files);
    const graph = await compiled(dir);
    const previous = parseStateManifest(
      { nodes: { 'model.shop.orders': { resource_type: 'model' } } },
      'dbt/manifest.json',
    );
    const ids = selectNodes(graph, {
      select: ['state:modified'],
      state: { previous },
      indirectSelection: 'empty',
    });
    expect(ids).toContain('model.shop.orders');
    expect(ids).toContain('model.shop.customers'); // new: absent from that manifest
  });

  it('state: without a previous manifest, or an unknown state value, is INVALID_SELECTOR', async () => {
    const graph = await compiled(await writeProject(files));
    expect(() => selectNodes(graph, { select: ['state:modified'] })).toThrow(/needs a previous manifest/);
    const previous = await stateOf(graph);
    expect(() => selectNodes(graph, { select: ['state:changed'], state: { previous } })).toThrow(
      expect.objectContaining({
        code: 'INVALID_SELECTOR',
        message: expect.stringContaining('state:changed'),
      }),
    );
  });
});

describe('result: and package: selectors', () => {
  it('result:<status> selects nodes by their previous status; + adds children', async () => {
    const graph = await compiled(await writeProject(files));
    const results = parseRunResults(
      {
        results: [
          { unique_id: 'model.shop.orders', status: 'error' },
          { unique_id: 'model.shop.customers', status: 'skipped' },
          { unique_id: 'test.shop.not_null_orders_id.ed2949ad1c', status: 'fail' },
          { unique_id: 'model.shop.stg_orders', status: 'success' },
        ],
      },
      'target/run_results.json',
    );
    const sel = (s: string[]) =>
      selectNodes(graph, { select: s, state: { results }, indirectSelection: 'empty' });
    expect(sel(['result:error'])).toEqual(['model.shop.orders']);
    expect(sel(['result:error', 'result:skipped'])).toEqual(['model.shop.customers', 'model.shop.orders']);
    expect(sel(['result:fail'])).toEqual(['test.shop.not_null_orders_id.ed2949ad1c']);
    expect(sel(['result:success+'])).toEqual([
      'model.shop.customers',
      'model.shop.orders',
      'model.shop.stg_orders',
      'test.shop.not_null_orders_id.ed2949ad1c',
    ]);
    expect(() => selectNodes(graph, { select: ['result:error'] })).toThrow(
      /needs a previous run_results.json/,
    );
  });

  it('package: matches the package name; package:this is the root project', async () => {
    const graph = await compiled(await writeProject(files));
    const ids = selectNodes(graph, { select: ['package:this'], indirectSelection: 'empty' });
    expect(ids).toHaveLength(6);
    expect(selectNodes(graph, { select: ['package:shop,resource_type:seed'] })).toEqual([
      'seed.shop.countries',
    ]);
    expect(selectNodes(graph, { select: ['package:dbt_utils'] })).toEqual([]);
  });

  it('run_results.json with a malformed result names the file and the index', () => {
    expect(() => parseRunResults({ results: [{ unique_id: 'x' }] }, 'target/run_results.json')).toThrow(
      'target/run_results.json: results[0]: expected "unique_id" and "status" strings',
    );
    expect(() => parseStateManifest([], 'prod/manifest.json')).toThrow(ModelingError);
  });
});

describe('artifacts with checksums, read back as state', () => {
  it('writeArtifacts puts checksums in manifest.json; readStateManifest and readPreviousResults read them', async () => {
    const dir = await writeProject(files);
    const graph = await compiled(dir);
    const target = join(dir, 'target');
    await writeArtifacts(target, graph, {
      runId: 'r1',
      elapsedMs: 1000,
      results: [
        {
          uniqueId: 'model.shop.orders',
          name: 'orders',
          resourceType: 'model',
          status: 'error',
          durationMs: 5,
          message: 'relation does not exist',
          startedAt: '2026-05-01T00:00:00.000Z',
        },
      ],
    });
    const manifest = JSON.parse(await readFile(join(target, 'manifest.json'), 'utf8'));
    const seed = manifest.nodes['seed.shop.countries'];
    expect(seed.checksum).toEqual({ name: 'sha256', checksum: seed.checksums.body });
    // A seed's body is its file's sha256.
    expect(seed.checksums.body).toBe(
      (await import('node:crypto')).createHash('sha256').update('code,name\nFR,France\n').digest('hex'),
    );
    const previous = await readStateManifest(target);
    expect(previous.nodes['model.shop.orders']?.relation).toEqual({
      schema: 'analytics',
      identifier: 'orders',
      sql: '"analytics"."orders"',
    });
    expect(await readPreviousResults(target)).toEqual({ 'model.shop.orders': 'error' });
    expect(await readPreviousResults(join(dir, 'nowhere'))).toBeUndefined();
    await expect(readStateManifest(join(dir, 'nowhere'))).rejects.toMatchObject({
      code: 'STATE_INVALID',
      message: expect.stringContaining('nowhere/manifest.json: not found'),
    });
  });
});

describe('defer planning', () => {
  it('unselected parents (through ephemerals) are deferred when missing, or always with favorState', async () => {
    const dir = await writeProject({
      ...files,
      'models/eph.sql': "{{ config(materialized='ephemeral') }}\nselect * from {{ ref('stg_customers') }}\n",
      'models/customers.sql':
        "{{ config(materialized='table') }}\nselect c.id from {{ ref('eph') }} c join {{ ref('orders') }} o using (id)\n",
    });
    const previous = await stateOf(await compiled(dir, 'prod'));
    const graph = await compiled(dir, 'ci');
    const selected = ['model.shop.customers'];
    const candidates = deferCandidates(graph, selected, previous);
    expect(candidates.map((c) => [c.uniqueId, c.from.sql, c.to.sql])).toEqual([
      ['model.shop.orders', '"ci"."orders"', '"prod"."orders"'],
      ['model.shop.stg_customers', '"ci"."stg_customers"', '"prod"."stg_customers"'],
    ]);
    const existing = new Set(['"ci"."orders"']);
    expect(chooseDeferred(candidates, existing, false).map((c) => c.uniqueId)).toEqual([
      'model.shop.stg_customers',
    ]);
    expect(chooseDeferred(candidates, existing, true)).toHaveLength(2);
    const deferred = applyDefer(graph, selected, chooseDeferred(candidates, existing, false));
    const sql = (g: CompiledGraph) => {
      const n = g.nodes['model.shop.customers'];
      return n?.resourceType === 'model' ? n.compiledSql : '';
    };
    expect(sql(deferred)).toContain('from "prod"."stg_customers"');
    expect(sql(deferred)).toContain('join "ci"."orders"');
    // The input graph is left as it was; unselected nodes are untouched.
    expect(sql(graph)).toContain('"ci"."stg_customers"');
    expect(deferred.nodes['model.shop.orders']).toBe(graph.nodes['model.shop.orders']);
  });
});
