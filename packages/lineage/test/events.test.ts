import { describe, expect, it } from 'vitest';
import {
  commandEvent,
  ingestLineage,
  jobEvent,
  type LineageRun,
  loadLineage,
  nodeLineage,
  PRODUCER,
  parentFromEnv,
  postgresLocation,
  type RunEvent,
  runEventSchema,
  SCHEMA_URLS,
} from '../src/index.js';
import { shopManifest } from './fixtures.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const warehouse = postgresLocation('postgres://etl:s3cret@db.internal:6543/shop');

const run: LineageRun = {
  producer: PRODUCER,
  namespace: 'dataflow',
  project: 'shop',
  command: 'run',
  runId: '20260501T020000Z-1a2b3c4d',
  interval: { start: '2026-05-01', end: '2026-05-02' },
};

function valid(event: RunEvent): RunEvent {
  const parsed = runEventSchema.safeParse(event);
  if (!parsed.success) throw new Error(JSON.stringify(parsed.error.issues, null, 2));
  return event;
}

describe('runEventSchema (written from the 2-0-2 spec)', () => {
  const good = () => valid(commandEvent(run, 'START', { eventTime: '2026-05-01T02:00:00Z' }));

  it('rejects events missing each required field or with the wrong type', () => {
    const broken: Array<[string, (e: Record<string, unknown>) => void]> = [
      ['eventTime', (e) => delete e.eventTime],
      ['producer', (e) => delete e.producer],
      ['schemaURL', (e) => delete e.schemaURL],
      ['run', (e) => delete e.run],
      ['job', (e) => delete e.job],
      ['run.runId not a uuid', (e) => ((e.run as Record<string, unknown>).runId = run.runId)],
      ['job.namespace', (e) => delete (e.job as Record<string, unknown>).namespace],
      ['eventType', (e) => (e.eventType = 'DONE')],
      ['eventTime not a date-time', (e) => (e.eventTime = 'yesterday')],
      ['producer not a URI', (e) => (e.producer = 'dataflow')],
      [
        'facet without _producer',
        (e) => delete (e.job as { facets: { jobType: Record<string, unknown> } }).facets.jobType._producer,
      ],
      ['inputs not an array', (e) => (e.inputs = {})],
    ];
    for (const [what, breakIt] of broken) {
      const event = structuredClone(good()) as unknown as Record<string, unknown>;
      breakIt(event);
      expect(runEventSchema.safeParse(event).success, what).toBe(false);
    }
    expect(runEventSchema.safeParse(good()).success).toBe(true);
  });
});

describe('command events', () => {
  it('START carries producer, schemaURL, a stable UUID runId, the nominal time and no parent outside Airflow', () => {
    const start = valid(commandEvent(run, 'START', { eventTime: new Date('2026-05-01T02:00:00Z') }));
    expect(start).toMatchObject({
      eventType: 'START',
      eventTime: '2026-05-01T02:00:00.000Z',
      producer: PRODUCER,
      schemaURL: SCHEMA_URLS.runEvent,
      job: { namespace: 'dataflow', name: 'shop.run' },
    });
    expect(start.run.runId).toMatch(UUID);
    expect(start.run.facets.nominalTime).toMatchObject({
      nominalStartTime: '2026-05-01T00:00:00.000Z',
      nominalEndTime: '2026-05-02T00:00:00.000Z',
    });
    expect(start.run.facets.parent).toBeUndefined();
    const done = valid(commandEvent(run, 'COMPLETE'));
    expect(done.run.runId).toBe(start.run.runId);
    expect(commandEvent({ ...run, runId: `${run.runId}x` }, 'START').run.runId).not.toBe(start.run.runId);
  });

  it('FAIL and ABORT carry the error message, never a stack', () => {
    const error = new Error('COPY failed on raw_orders');
    for (const type of ['FAIL', 'ABORT'] as const) {
      const event = valid(commandEvent(run, type, { error }));
      expect(event.run.facets.errorMessage).toEqual({
        _producer: PRODUCER,
        _schemaURL: SCHEMA_URLS.errorMessage,
        message: 'COPY failed on raw_orders',
        programmingLanguage: 'JavaScript',
      });
    }
  });

  it('under Airflow the parent is the task run and the root the DAG run', () => {
    const env = {
      AIRFLOW_CTX_DAG_ID: 'dataflow_shop',
      AIRFLOW_CTX_TASK_ID: 'load',
      AIRFLOW_CTX_DAG_RUN_ID: 'scheduled__2026-05-01T00:00:00+00:00',
      AIRFLOW_CTX_TRY_NUMBER: '2',
    };
    const ctx = parentFromEnv(env);
    expect(ctx.parent).toMatchObject({ namespace: 'default', name: 'dataflow_shop.load' });
    expect(ctx.root).toMatchObject({ namespace: 'default', name: 'dataflow_shop' });
    expect(parentFromEnv({ ...env, AIRFLOW_CTX_TRY_NUMBER: '3' }).parent?.runId).not.toBe(ctx.parent?.runId);
    expect(parentFromEnv({ ...env, AIRFLOW_CTX_TRY_NUMBER: '3' }).root?.runId).toBe(ctx.root?.runId);

    const airflowRun = { ...run, parent: ctx.parent, root: ctx.root };
    const start = valid(commandEvent(airflowRun, 'START'));
    expect(start.run.facets.parent).toEqual({
      _producer: PRODUCER,
      _schemaURL: SCHEMA_URLS.parent,
      run: { runId: ctx.parent?.runId },
      job: { namespace: 'default', name: 'dataflow_shop.load' },
      root: { run: { runId: ctx.root?.runId }, job: { namespace: 'default', name: 'dataflow_shop' } },
    });
  });

  it('OPENLINEAGE_PARENT_ID wins over AIRFLOW_CTX_*; a malformed one is a warning, not an error', () => {
    const id = '9f1c6b0e-8a5d-4c2e-9b7a-61d0f4e2c8a1';
    const ctx = parentFromEnv({
      OPENLINEAGE_PARENT_ID: `airflow/dataflow_shop.build/${id}`,
      AIRFLOW_CTX_DAG_ID: 'x',
      AIRFLOW_CTX_TASK_ID: 'y',
      AIRFLOW_CTX_DAG_RUN_ID: 'z',
    });
    expect(ctx).toEqual({
      parent: { namespace: 'airflow', name: 'dataflow_shop.build', runId: id },
      warnings: [],
    });
    const bad = parentFromEnv({ OPENLINEAGE_PARENT_ID: 'nope' });
    expect(bad.parent).toBeUndefined();
    expect(bad.warnings).toEqual(['OPENLINEAGE_PARENT_ID is not namespace/job/uuid; ignored']);
    expect(parentFromEnv({}).parent).toBeUndefined();
  });
});

describe('job events', () => {
  it('ingest: source file → lake dataset with schema and output statistics', () => {
    const job = ingestLineage({
      producer: PRODUCER,
      source: 'orders',
      location: 'https://user:pw@files.example.com:8443/exports/orders.csv?token=abc',
      lakeUrl: 's3://lake/raw/',
      partition: '2026-05-01',
      columns: ['order_id', 'customer_id'],
      written: { rows: 1000, bytes: 52_000, files: 2 },
    });
    const event = valid(jobEvent(run, job, 'COMPLETE'));
    expect(event.job.name).toBe('shop.ingest.orders');
    expect(event.job.facets.jobType).toMatchObject({
      processingType: 'BATCH',
      integration: 'DATAFLOW',
      jobType: 'INGEST',
    });
    expect(event.inputs).toEqual([
      { namespace: 'https://files.example.com:8443', name: '/exports/orders.csv' },
    ]);
    expect(JSON.stringify(event)).not.toMatch(/token=abc|pw@/);
    expect(event.outputs).toEqual([
      {
        namespace: 's3://lake',
        name: 'raw/orders',
        facets: {
          schema: {
            _producer: PRODUCER,
            _schemaURL: SCHEMA_URLS.schema,
            fields: [
              { name: 'order_id', ordinal_position: 1 },
              { name: 'customer_id', ordinal_position: 2 },
            ],
          },
        },
        outputFacets: {
          outputStatistics: {
            _producer: PRODUCER,
            _schemaURL: SCHEMA_URLS.outputStatistics,
            rowCount: 1000,
            size: 52_000,
            fileCount: 2,
          },
        },
      },
    ]);
    // The job's run is a child of the command's run.
    const parent = event.run.facets.parent as unknown as { run: { runId: string }; job: { name: string } };
    expect(parent.run.runId).toBe(commandEvent(run, 'START').run.runId);
    expect(parent.job.name).toBe('shop.run');
    expect(valid(jobEvent(run, job, 'START')).run.runId).toBe(event.run.runId);
  });

  it('load: lake (rows read) → postgres://host:port db.schema.table (rows loaded), no credentials', () => {
    const job = loadLineage({
      producer: PRODUCER,
      source: 'orders',
      lakeUrl: 'file:///var/lake/raw',
      partition: '2026-05-01',
      warehouse,
      schema: 'analytics',
      table: 'raw_orders',
      columns: [{ name: 'order_id', type: 'bigint' }],
      read: { rows: 1000, bytes: 52_000, files: 1 },
      written: { rows: 998 },
    });
    const event = valid(jobEvent(run, job, 'COMPLETE'));
    expect(event.inputs).toEqual([
      {
        namespace: 'file',
        name: '/var/lake/raw/orders',
        inputFacets: {
          dataQualityMetrics: {
            _producer: PRODUCER,
            _schemaURL: SCHEMA_URLS.dataQualityMetrics,
            rowCount: 1000,
            bytes: 52_000,
            fileCount: 1,
            columnMetrics: {},
          },
        },
      },
    ]);
    expect(event.outputs[0]).toMatchObject({
      namespace: 'postgres://db.internal:6543',
      name: 'shop.analytics.raw_orders',
      facets: { schema: { fields: [{ name: 'order_id', type: 'bigint', ordinal_position: 1 }] } },
      outputFacets: { outputStatistics: { rowCount: 998 } },
    });
    expect(JSON.stringify(event)).not.toContain('s3cret');
    const failed = valid(jobEvent(run, job, 'FAIL', { error: new Error('bad row') }));
    expect(failed.run.facets.errorMessage).toMatchObject({ message: 'bad row' });
  });

  it('model: raw tables and upstream models → its relation, with SQL and columns; tests report assertions', async () => {
    const manifest = await shopManifest();
    const model = nodeLineage({
      producer: PRODUCER,
      manifest,
      uniqueId: 'model.shop.fct_orders',
      warehouse,
      rows: 42,
    });
    expect(model).toBeDefined();
    const event = valid(jobEvent(run, model as NonNullable<typeof model>, 'COMPLETE'));
    expect(event.job.name).toBe('shop.model.fct_orders');
    expect((event.job.facets.sql as unknown as { query: string }).query).toMatch(
      /from "analytics"\."stg_orders"/i,
    );
    expect(event.inputs.map((d) => d.name).sort()).toEqual([
      'shop.analytics.stg_orders',
      'shop.analytics.stg_payments',
    ]);
    expect(event.outputs).toHaveLength(1);
    expect(event.outputs[0]).toMatchObject({
      namespace: 'postgres://db.internal:6543',
      name: 'shop.analytics.fct_orders',
      outputFacets: { outputStatistics: { rowCount: 42 } },
    });
    const schema = event.outputs[0]?.facets?.schema as unknown as { fields: Array<{ name: string }> };
    const fields = schema.fields;
    expect(fields.map((f) => f.name)).toContain('order_id');

    const staging = nodeLineage({
      producer: PRODUCER,
      manifest,
      uniqueId: 'model.shop.stg_orders',
      warehouse,
    });
    expect(staging?.inputs.map((d) => d.name)).toEqual(['shop.analytics.raw_orders']);

    const testId = Object.keys(manifest.nodes).find((id) =>
      id.startsWith('test.shop.not_null_fct_orders_order_id'),
    );
    expect(testId).toBeDefined();
    const test = nodeLineage({
      producer: PRODUCER,
      manifest,
      uniqueId: testId as string,
      warehouse,
      test: { success: false },
    });
    const testEvent = valid(jobEvent(run, test as NonNullable<typeof test>, 'COMPLETE'));
    expect(testEvent.outputs).toEqual([]);
    expect(testEvent.inputs[0]?.name).toBe('shop.analytics.fct_orders');
    expect(testEvent.inputs[0]?.inputFacets?.dataQualityAssertions).toMatchObject({
      assertions: [
        { assertion: 'not_null', success: false, column: 'order_id', severity: 'error', contentType: 'sql' },
      ],
    });
    expect(
      nodeLineage({ producer: PRODUCER, manifest, uniqueId: 'model.shop.nope', warehouse }),
    ).toBeUndefined();
  });
});
