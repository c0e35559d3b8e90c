import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PartitionManifest } from '@dataflow/ingest';
import { jobEvent, type Logger, PRODUCER, runEventSchema } from '@dataflow/lineage';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../src/config/schema.js';
import { configSecrets } from '../src/config/secrets.js';
import { ingestJob, loadJob, openLineage, sourceLocation } from '../src/lineage.js';

const silent: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
const base = { project: 'shop', command: 'run', runId: '20260501T020000Z-0a0b0c0d', logger: silent };

describe('CLI lineage wiring', () => {
  it('is off without a lineage: config or OPENLINEAGE_* env', async () => {
    const lineage = openLineage({ ...base, config: undefined, env: {}, projectDir: '/p' });
    expect(lineage.enabled).toBe(false);
    await expect(lineage.run('START')).resolves.toBeUndefined();
  });

  it('registers a literal lineage.api_key and the lineage URL password as secrets', () => {
    const config = configSchema.parse({
      name: 'shop',
      lineage: { url: 'http://ol:pw-1@marquez:5000', api_key: 'key-2' },
    });
    expect(configSecrets(config)).toEqual(expect.arrayContaining(['key-2', 'pw-1']));
  });

  it('rejects a bad lineage: config as a config error naming the key', () => {
    expect(() => openLineage({ ...base, config: { transport: 'http' }, env: {}, projectDir: '/p' })).toThrow(
      /^lineage\.url: /,
    );
  });

  it('writes the run and its jobs to a file relative to the project, under the Airflow task', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cli-lineage-'));
    try {
      const lineage = openLineage({
        ...base,
        config: { transport: 'file', file: 'target/openlineage.ndjson' },
        env: {
          AIRFLOW_CTX_DAG_ID: 'dataflow_shop',
          AIRFLOW_CTX_TASK_ID: 'load',
          AIRFLOW_CTX_DAG_RUN_ID: 'r1',
        },
        projectDir: dir,
        interval: { start: '2026-05-01', end: '2026-05-02' },
      });
      const job = loadJob({
        name: 'orders',
        lakeUrl: 's3://lake/raw',
        ds: '2026-05-01',
        warehouseUrl: 'postgres://etl:pw@db:5432/dw',
        schema: 'analytics',
        table: 'raw_orders',
        result: { rowsIn: 10, rowsLoaded: 9 },
      });
      await lineage.run('START');
      await lineage.job('START', job);
      await lineage.job('FAIL', job, { error: new Error('COPY failed') });
      await lineage.run('FAIL', new Error('1 step failed'));
      const events = (await readFile(join(dir, 'target/openlineage.ndjson'), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(events.map((e) => `${e.eventType} ${e.job.name}`)).toEqual([
        'START shop.run',
        'START shop.load.orders',
        'FAIL shop.load.orders',
        'FAIL shop.run',
      ]);
      for (const e of events) expect(runEventSchema.safeParse(e).success).toBe(true);
      expect(events[0].run.facets.parent.job.name).toBe('dataflow_shop.load');
      expect(events[2].outputs[0]).toMatchObject({
        namespace: 'postgres://db:5432',
        name: 'dw.analytics.raw_orders',
      });
      expect(JSON.stringify(events)).not.toContain('pw@');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names where an ingest read from: the day’s file, an absolute path or the API URL', () => {
    const csv = { type: 'csv', location: 'data/orders/{{ ds }}.csv' } as never;
    expect(sourceLocation(csv, '/srv/shop', '2026-05-01')).toBe('/srv/shop/data/orders/2026-05-01.csv');
    const api = { type: 'api', url: 'https://api.example.com/v1/rates' } as never;
    expect(sourceLocation(api, '/srv/shop', '2026-05-01')).toBe('https://api.example.com/v1/rates');
    const manifest = {
      columns: ['id', 'amount'],
      rows: 3,
      bytes: 120,
      files: [{}, {}],
    } as unknown as PartitionManifest;
    const job = ingestJob({
      name: 'orders',
      source: csv,
      projectDir: '/srv/shop',
      lakeUrl: 'file:///lake',
      ds: '2026-05-01',
      manifest,
    });
    const event = jobEvent({ ...base, producer: PRODUCER, namespace: 'dataflow' }, job, 'COMPLETE');
    expect(runEventSchema.safeParse(event).success).toBe(true);
    expect(event.inputs).toEqual([{ namespace: 'file', name: '/srv/shop/data/orders/2026-05-01.csv' }]);
    expect(event.outputs[0]).toMatchObject({
      namespace: 'file',
      name: '/lake/orders',
      outputFacets: { outputStatistics: { rowCount: 3, size: 120, fileCount: 2 } },
    });
  });
});
