import { rm } from 'node:fs/promises';
import type { CompiledGraph } from '@dataflow/modeling';
import { createLogger } from '@dataflow/runlog';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { dagScope, graphInputs } from '../src/airflow/graph-inputs.js';
import { planNodeTasks } from '../src/airflow/node-tasks.js';
import { pinSelections, selectorFor } from '../src/airflow/selectors.js';
import { planSourceTasks } from '../src/airflow/source-tasks.js';
import { createTaskTable, sanitizeTaskId, type TaskSpec } from '../src/airflow/task-table.js';
import { assignTests } from '../src/airflow/test-owners.js';
import { compile } from '../src/compile-project.js';
import { type LoadedProject, loadProject } from '../src/config/load.js';
import { tempProject } from './helpers.js';

// Compiling a project takes a while on a loaded machine.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

// Each phase of the planner on its own, on a project with one source read through source(), one
// through ref('raw_b') (no graph edge), an ephemeral model, a seed and two relationships tests.
const FILES = {
  'dataflow.yml': `name: phases
warehouse: { schema: wh }
sources:
  a: { type: csv, location: 'a.csv' }
  b: { type: csv, location: 'b.csv' }
  unused: { type: csv, location: 'u.csv' }
`,
  'models/stg_a.sql': "select id from {{ source('raw', 'a') }}\n",
  'models/stg_b.sql': "select id, a_id from {{ ref('raw_b') }}\n",
  'models/eph_a.sql': "{{ config(materialized='ephemeral') }}\nselect id from {{ ref('stg_a') }}\n",
  'models/mart.sql':
    "{{ config(materialized='table') }}\nselect e.id, c.code from {{ ref('eph_a') }} e cross join {{ ref('codes') }} c\n",
  'seeds/codes.csv': 'code\nx\n',
  'models/schema.yml': `version: 2
sources:
  - name: raw
    schema: wh
    tables:
      - name: a
        identifier: raw_a
        columns:
          - name: id
            data_tests: [not_null]
models:
  - name: stg_b
    columns:
      - name: a_id
        data_tests:
          - relationships: { to: ref('stg_a'), field: id }
  - name: mart
    columns:
      - name: id
        data_tests:
          - relationships: { to: ref('stg_a'), field: id }
`,
};

let dir: string;
let project: LoadedProject;
let graph: CompiledGraph;
beforeAll(async () => {
  dir = await tempProject(FILES);
  project = await loadProject(dir, {});
  graph = await compile(
    project,
    createLogger({ runId: 't', destination: { write: () => undefined } }),
    {},
    undefined,
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const id = (type: string, name: string) => `${type}.phases.${name}`;

describe('task table', () => {
  it('sanitizes, groups and de-duplicates task ids case-insensitively', () => {
    const table = createTaskTable();
    const spec: TaskSpec = { kind: 'model', command: 'build', args: [], node: 'n' };
    expect(table.add(spec, 'my model.v2').taskId).toBe('models.my_model_v2');
    expect(table.add(spec, 'My_Model_v2').taskId).toBe('models.My_Model_v2_2');
    expect(table.add({ ...spec, kind: 'seed' }, 'seed')).toMatchObject({
      taskId: 'seed',
      group: undefined,
      variable: 'seeds',
    });
    expect(table.add(spec, 'x'.repeat(400)).taskId.length).toBeLessThanOrEqual(250);
    expect(sanitizeTaskId('')).toBe('_');
  });

  it('ancestors follow upstream edges transitively', () => {
    const table = createTaskTable();
    const spec: TaskSpec = { kind: 'model', command: 'build', args: [], node: 'n' };
    const a = table.add(spec, 'a');
    const b = table.add(spec, 'b');
    const c = table.add(spec, 'c');
    b.upstream.push(a.taskId);
    c.upstream.push(b.taskId);
    expect([...table.ancestorsOf(c.taskId)].sort()).toEqual(['models.a', 'models.b']);
  });
});

describe('scope and inputs', () => {
  it('the scope leaves ephemeral models out; inputs see through them and find ref(raw_*) in SQL', () => {
    const scope = dagScope(graph, [], []);
    expect(scope.models).toEqual([id('model', 'mart'), id('model', 'stg_a'), id('model', 'stg_b')]);
    expect(scope.allSeeds).toBe(true);
    const inputs = graphInputs(graph, project.config);
    // ref('raw_b') is found in the SQL (and, once modeling links it, as a graph edge too).
    expect(new Set(inputs.inputsOf(id('model', 'stg_b')).map((i) => `${i.kind}:${i.id}`))).toEqual(
      new Set(['source:b']),
    );
    // source('raw', 'a') is both a graph edge and a relation in the SQL: the same input either way.
    expect(new Set(inputs.inputsOf(id('model', 'stg_a')).map((i) => `${i.kind}:${i.id}`))).toEqual(
      new Set(['source:a']),
    );
    expect(inputs.inputsOf(id('model', 'mart'))).toEqual(
      expect.arrayContaining([
        { kind: 'node', id: id('model', 'stg_a') },
        { kind: 'node', id: id('seed', 'codes') },
      ]),
    );
    expect(inputs.isEphemeral(id('model', 'eph_a'))).toBe(true);
  });

  it('a bad selector is a usage error', () => {
    expect(() => dagScope(graph, ['bogus:x'], [])).toThrow(expect.objectContaining({ exitCode: 2 }));
  });
});

describe('source, node and test phases', () => {
  const plan = (select: string[] = []) => {
    const scope = dagScope(graph, select, []);
    const inputs = graphInputs(graph, project.config);
    const table = createTaskTable();
    const sources = planSourceTasks(graph, project.config, scope, inputs, table);
    const nodes = planNodeTasks(graph, scope, inputs, sources, table);
    assignTests(graph, scope, inputs, nodes, table, sources.sourceOwned);
    return { scope, table, sources, nodes };
  };

  it('every source gets ingest >> load; a source with its own tests gates its readers', () => {
    const { table, sources } = plan();
    expect([...sources.loadTask.keys()]).toEqual(['a', 'b', 'unused']);
    expect(table.tasks.get('load.a')?.upstream).toEqual(['ingest.a']);
    expect(sources.gateOf.get('a')?.taskId).toBe('source_tests.a');
    expect(table.tasks.get('source_tests.a')).toMatchObject({
      upstream: ['load.a'],
      args: ['--select', 'source:raw.a'],
    });
    expect(table.tasks.get('models.stg_a')?.upstream).toEqual(['source_tests.a']);
    expect(table.tasks.get('models.stg_b')?.upstream).toEqual(['load.b']);
    expect(table.tasks.get('models.mart')?.upstream).toEqual(['models.stg_a', 'seed']);
  });

  it('a selection only ingests the sources the selected models read', () => {
    const { sources } = plan(['stg_b']);
    expect([...sources.loadTask.keys()]).toEqual(['b']);
  });

  it('a test goes to the build whose upstream holds its other parents, else to its own task', () => {
    const { table } = plan();
    // mart reads stg_a (through eph_a): its relationships test to stg_a runs in mart's build.
    expect(table.tasks.get('models.mart')?.tests).toEqual([expect.stringContaining('relationships_mart_id')]);
    // stg_b and stg_a are unrelated: the test between them is detached, after both.
    const detached = [...table.tasks.values()].filter((t) => t.kind === 'test');
    expect(detached).toHaveLength(1);
    expect(detached[0]?.upstream).toEqual(['models.stg_a', 'models.stg_b']);
  });

  it('pinning excludes tests another task runs, and refuses a plan that runs a test twice', () => {
    const { table, scope } = plan();
    pinSelections(graph, table, scope);
    const stgA = table.tasks.get('models.stg_a');
    // stg_a's --select would also pick both relationships tests: both are excluded.
    expect(stgA?.args.filter((_, i) => stgA.args[i - 1] === '--exclude')).toHaveLength(2);
    const twice = plan();
    const mart = twice.table.tasks.get('models.mart');
    const test = mart?.tests[0] ?? '';
    twice.table.tasks.get('models.stg_a')?.tests.push(test);
    expect(() => pinSelections(graph, twice.table, twice.scope)).toThrow(/cannot select exactly|would run/);
    expect(selectorFor(graph, id('model', 'mart'))).toBe('mart');
  });
});
