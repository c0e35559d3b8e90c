import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runEventSchema } from '@dataflow/lineage';
import { testServices, useTestDatabase } from '@dataflow/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, tempProject } from './helpers.js';
import { startHttpServer, type TestHttpServer } from './servers.js';

const D = '2026-05-01';
const API_KEY = `ol-${randomBytes(8).toString('hex')}`;

interface Event {
  eventType: string;
  job: { name: string };
  run: { runId: string; facets: Record<string, { job?: { name: string }; run?: { runId: string } }> };
  inputs: Array<{ namespace: string; name: string }>;
  outputs: Array<{
    namespace: string;
    name: string;
    outputFacets?: { outputStatistics?: { rowCount: number } };
  }>;
}

describe('dataflow run emits OpenLineage events; docs generate writes the site', () => {
  const db = useTestDatabase();
  let dir: string;
  let backend: TestHttpServer;
  let failing: TestHttpServer;
  const received: Array<{ authorization: string | undefined; body: unknown }> = [];
  const meta = () => `${db.schema}_meta`;

  beforeAll(async () => {
    backend = await startHttpServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        received.push({ authorization: req.headers.authorization, body: JSON.parse(body) });
        res.writeHead(201).end();
      });
    });
    failing = await startHttpServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(500).end('down'));
    });
    dir = await tempProject({
      'dataflow.yml': `name: shop
warehouse:
  url: \${DATABASE_URL}
  schema: ${db.schema}
metadata:
  schema: ${meta()}
sources:
  orders:
    type: csv
    location: data/orders/{{ ds }}.csv
    primary_key: [order_id]
    disposition: replace_partition
`,
      [`data/orders/${D}.csv`]: 'order_id,amount\n1,19.90\n2,5.00\n3,42.50\n',
      'models/stg_orders.sql': `{{ config(materialized='table') }}
select order_id::int as order_id, amount::numeric as amount from {{ source('raw', 'orders') }}
`,
      'models/schema.yml': `version: 2
models:
  - name: stg_orders
    columns:
      - name: order_id
        data_tests: [not_null]
`,
    });
  });

  afterAll(async () => {
    await backend?.close();
    await failing?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    await db.pool.query(`drop schema if exists "${meta()}" cascade`);
    await db.pool.query(`drop schema if exists "${db.schema}" cascade`);
  });

  it('sends valid START/COMPLETE events for the run and each job, under the Airflow task, the key as a Bearer token', async () => {
    const env = {
      DATABASE_URL: testServices().databaseUrl,
      OPENLINEAGE_URL: backend.url,
      OPENLINEAGE_API_KEY: API_KEY,
      AIRFLOW_CTX_DAG_ID: 'dataflow_shop',
      AIRFLOW_CTX_TASK_ID: 'run',
      AIRFLOW_CTX_DAG_RUN_ID: 'manual__1',
    };
    const result = await cli(['run', '--project', dir, '--date', D], { env });
    expect(result.stderr).not.toContain(API_KEY);
    expect(result.stdout).not.toContain(API_KEY);
    expect(result.code).toBe(0);

    expect(received.every((r) => r.authorization === `Bearer ${API_KEY}`)).toBe(true);
    for (const r of received) expect(runEventSchema.safeParse(r.body).success).toBe(true);
    const events = received.map((r) => r.body as Event);
    const names = events.map((e) => `${e.eventType} ${e.job.name}`);
    expect(names[0]).toBe('START shop.run');
    expect(names.at(-1)).toBe('COMPLETE shop.run');
    for (const job of [
      'shop.ingest.orders',
      'shop.load.orders',
      'shop.model.stg_orders',
      'shop.test.not_null_stg_orders_order_id',
    ]) {
      expect(
        names.filter((n) => n.endsWith(` ${job}`)),
        job,
      ).toEqual([`START ${job}`, `COMPLETE ${job}`]);
    }
    const runId = events[0]?.run.runId;
    expect(events[0]?.run.facets.parent?.job?.name).toBe('dataflow_shop.run');
    const load = events.find((e) => e.eventType === 'COMPLETE' && e.job.name === 'shop.load.orders');
    expect(load?.run.facets.parent?.run?.runId).toBe(runId);
    const { hostname, port, pathname } = new URL(testServices().databaseUrl);
    expect(load?.outputs[0]).toMatchObject({
      namespace: `postgres://${hostname}:${port || 5432}`,
      name: `${pathname.slice(1) || 'postgres'}.${db.schema}.raw_orders`,
      outputFacets: { outputStatistics: { rowCount: 3 } },
    });
    const model = events.find((e) => e.eventType === 'COMPLETE' && e.job.name === 'shop.model.stg_orders');
    expect(model?.inputs.map((d) => d.name)).toEqual([
      `${pathname.slice(1) || 'postgres'}.${db.schema}.raw_orders`,
    ]);
    expect(model?.outputs[0]?.outputFacets?.outputStatistics?.rowCount).toBe(3);
  });

  it('a lineage backend answering 500 costs a warning, not the run', async () => {
    const env = { DATABASE_URL: testServices().databaseUrl, OPENLINEAGE_URL: failing.url };
    const result = await cli(['build', '--project', dir, '--date', D], { env });
    expect(result.code).toBe(0);
    expect(result.summary?.status).toBe('success');
    expect(result.stderr).toMatch(/could not emit an OpenLineage event/);
    expect(result.stderr).toMatch(/no more events are sent in this run/);
  });

  it('docs generate writes the site with the graph and the recorded runs', async () => {
    const out = join(dir, 'site');
    const result = await cli(['docs', 'generate', '--project', dir, '--out', out], {
      env: { DATABASE_URL: testServices().databaseUrl },
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^wrote .*site\/index\.html \(\d+ nodes, 2 runs\)\n$/);
    const data = JSON.parse(await readFile(join(out, 'site-data.json'), 'utf8'));
    const byId = Object.fromEntries(data.nodes.map((n: { id: string }) => [n.id, n]));
    expect(byId['lake.orders']?.name).toMatch(/\.dataflow\/lake\/raw\/orders$/);
    expect(byId['model.shop.stg_orders']?.lastRuns.map((r: { rowsOut: number }) => r.rowsOut)).toEqual([
      3, 3,
    ]);
    expect(data.runs.map((r: { command: string }) => r.command)).toEqual(['build', 'run']);
    const html = await readFile(join(out, 'index.html'), 'utf8');
    expect(html).toContain('<script id="site-data" type="application/json">');
    const bad = await cli(['docs', 'serve', '--project', dir], {
      env: { DATABASE_URL: testServices().databaseUrl },
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/expected generate/);
  });
});
