import { rm } from 'node:fs/promises';
import type { CompiledGraph } from '@dataflow/modeling';
import { createLogger } from '@dataflow/runlog';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { compile } from '../src/compile-project.js';
import { loadProject } from '../src/config/load.js';
import { commandOf, type Inspected, inspectDag, runsPerNode } from './airflow-generate-stub.js';
import { cli, tempProject } from './helpers.js';

// Compiling, generating and running python on a loaded machine takes a while.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

// `dataflow airflow` with source freshness and snapshots (issue 12): a loaded source with a
// `freshness:` rule and source tests (load >> freshness >> source_tests >> readers), a schema.yml
// source that dataflow does not load but checks for freshness, and a snapshot between two models
// with a test of its own. The generated file runs under the Airflow 2 and 3 stand-ins.
const FILES = {
  'dataflow.yml': `name: fresh
warehouse: { schema: wh }
sources:
  a:
    type: csv
    location: 'a.csv'
    freshness: { warn_after: { count: 12, period: hour }, error_after: { count: 1, period: day } }
  b: { type: csv, location: 'b.csv' }
`,
  'models/stg_a.sql': "select id from {{ source('raw', 'a') }}\n",
  'models/stg_b.sql': "select id, name from {{ ref('raw_b') }}\n",
  'models/events.sql': "select id from {{ source('ext', 'events') }}\n",
  'snapshots/b_history.sql': `{% snapshot b_history %}
{{ config(strategy='check', unique_key='id', check_cols=['name']) }}
select id, name from {{ ref('stg_b') }}
{% endsnapshot %}
`,
  'models/mart.sql':
    "{{ config(materialized='table') }}\nselect h.id from {{ ref('b_history') }} h join {{ ref('stg_a') }} a on a.id = h.id\n",
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
  - name: ext
    schema: other
    loaded_at_field: arrived_at
    freshness: { error_after: { count: 2, period: day } }
    tables:
      - name: events
snapshots:
  - name: b_history
    columns:
      - name: id
        data_tests: [not_null]
`,
};

async function generate(dir: string, extra: string[] = []): Promise<string> {
  const r = await cli(['airflow', '--project', dir, '--worker-project', '/srv/fresh', ...extra]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

describe('dataflow airflow: freshness and snapshot tasks', () => {
  let dir: string;
  let text: string;
  let graph: CompiledGraph;
  beforeAll(async () => {
    dir = await tempProject(FILES);
    text = await generate(dir);
    const logger = createLogger({ runId: 'test', destination: { write: () => undefined } });
    graph = await compile(await loadProject(dir, {}, dir), logger, {}, undefined);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const major of [2, 3] as const) {
    describe(`under Airflow ${major} import paths`, () => {
      let dag: Inspected;
      beforeAll(async () => {
        dag = await inspectDag(dir, text, major);
      });

      it('chains load >> freshness >> source tests, and checks an unloaded source with a rule', () => {
        const upstream = Object.fromEntries(dag.tasks.map((t) => [t.task_id, t.upstream]));
        expect(upstream['freshness.a']).toEqual(['load.a']);
        expect(upstream['source_tests.a']).toEqual(['freshness.a']);
        expect(upstream['models.stg_a']).toEqual(['source_tests.a']);
        // b has no rule: its readers wait for the load only.
        expect(upstream['freshness.b']).toBeUndefined();
        expect(upstream['models.stg_b']).toEqual(['load.b']);
        // ext.events is not loaded by dataflow: its check has no upstream, its reader waits for it.
        expect(upstream['freshness.ext_events']).toEqual([]);
        expect(upstream['models.events']).toEqual(['freshness.ext_events']);
        const commands = Object.fromEntries(dag.tasks.map((t) => [t.task_id, t.kwargs.bash_command]));
        expect(commands['freshness.a']).toBe(
          '$DATAFLOW_CLI freshness --project "$DATAFLOW_PROJECT_DIR" --select source:raw.a',
        );
        expect(commands['freshness.ext_events']).toBe(
          '$DATAFLOW_CLI freshness --project "$DATAFLOW_PROJECT_DIR" --select source:ext.events',
        );
        for (const t of dag.tasks) expect(t.kwargs.skip_on_exit_code, t.task_id).toBe(99);
      });

      it('runs the snapshot in DAG order, publishes its table, and its test after it', () => {
        const upstream = Object.fromEntries(dag.tasks.map((t) => [t.task_id, t.upstream]));
        expect(upstream['snapshots.b_history']).toEqual(['models.stg_b']);
        expect(upstream['models.mart']).toEqual(['models.stg_a', 'snapshots.b_history']);
        expect(upstream['tests.not_null_b_history_id']).toEqual(['snapshots.b_history']);
        const task = dag.tasks.find((t) => t.task_id === 'snapshots.b_history');
        expect(task?.kwargs.bash_command).toBe(
          '$DATAFLOW_CLI snapshot --project "$DATAFLOW_PROJECT_DIR" --select b_history --date {{ ds }}',
        );
        const asset = major === 3 ? 'Asset' : 'Dataset';
        expect(task?.kwargs.outlets).toEqual([
          { [asset]: 'postgres://localhost:5432/postgres/wh/b_history' },
        ]);
      });

      it('runs every model, snapshot and test exactly once', () => {
        const runs = runsPerNode(graph, dag);
        const runnable = Object.values(graph.nodes)
          .filter((n) => n.resourceType !== 'source')
          .map((n) => n.uniqueId)
          .sort();
        expect(runnable).toContain('snapshot.fresh.b_history');
        expect([...runs.keys()].sort()).toEqual(runnable);
        expect(new Set(runs.values())).toEqual(new Set([1]));
      });
    });
  }

  it('a selection keeps the freshness checks of the sources it reads only', async () => {
    const dag = await inspectDag(dir, await generate(dir, ['--select', 'stg_a']), 3);
    expect(dag.tasks.map((t) => t.task_id)).toEqual(['ingest.a', 'load.a', 'freshness.a', 'models.stg_a']);
    // (The source's own test is not selected by `stg_a`, so no source_tests.a.)
    // A snapshot alone: its parent model stg_b is not selected, so neither is raw_b's load.
    const snapshotOnly = await inspectDag(dir, await generate(dir, ['--select', 'b_history']), 2);
    expect(
      snapshotOnly.tasks.map((t) => [t.task_id, commandOf(t.kwargs.bash_command as string).command]),
    ).toEqual([
      ['snapshots.b_history', 'snapshot'],
      ['tests.not_null_b_history_id', 'test'],
    ]);
  });
});
