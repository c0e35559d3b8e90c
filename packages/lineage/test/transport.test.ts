import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  commandEvent,
  createConsoleTransport,
  createFileTransport,
  createHttpTransport,
  createLineageEmitter,
  createLineageRecorder,
  createTransport,
  jobEvent,
  LineageError,
  type LineageRun,
  type Logger,
  loadLineage,
  PRODUCER,
  postgresLocation,
  resolveLineageConfig,
  runEventSchema,
} from '../src/index.js';

const API_KEY = 'ol-key-5f0c1d2e';
const run: LineageRun = {
  producer: PRODUCER,
  namespace: 'dataflow',
  project: 'shop',
  command: 'load',
  runId: '20260501T020000Z-0badcafe',
  interval: { start: '2026-05-01', end: '2026-05-02' },
};
const loadJob = loadLineage({
  producer: PRODUCER,
  source: 'orders',
  lakeUrl: 's3://lake/raw',
  partition: '2026-05-01',
  warehouse: postgresLocation('postgres://db:5432/shop'),
  schema: 'analytics',
  table: 'raw_orders',
  read: { rows: 3 },
  written: { rows: 3 },
});

interface Received {
  method: string;
  url: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: unknown;
}

/** A loopback lineage backend: records each request, answers with `answer` (or never, when it returns 'hang'). */
async function backend(answer: (n: number) => number | 'hang' = () => 201) {
  const received: Received[] = [];
  const hung: ServerResponse[] = [];
  const server: Server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    received.push({
      method: req.method ?? '',
      url: req.url ?? '',
      authorization: req.headers.authorization,
      contentType: req.headers['content-type'],
      body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
    });
    const status = answer(received.length);
    if (status === 'hang') {
      hung.push(res);
      return;
    }
    res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = async () => {
    for (const res of hung) res.destroy();
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  };
  servers.push(close);
  return { url, received, close };
}

const servers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (servers.length > 0) await servers.pop()?.();
});

function recordingLogger() {
  const warnings: Array<{ obj: object; msg: string | undefined }> = [];
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (obj, msg) => warnings.push({ obj, msg }),
    error: () => undefined,
  };
  return { logger, warnings };
}

describe('HTTP transport against a loopback backend', () => {
  it('POSTs valid RunEvents to /api/v1/lineage with the API key as a Bearer token', async () => {
    const server = await backend();
    const config = resolveLineageConfig(undefined, {
      OPENLINEAGE_URL: server.url,
      OPENLINEAGE_API_KEY: API_KEY,
    });
    const { logger, warnings } = recordingLogger();
    const emitter = createLineageEmitter({ transport: createTransport(config), logger });
    const lineage = createLineageRecorder(run, emitter);
    await lineage.runEvent('START');
    await lineage.jobEvent(loadJob, 'START');
    await lineage.jobEvent(loadJob, 'COMPLETE');
    await lineage.runEvent('COMPLETE');

    expect(warnings).toEqual([]);
    expect(emitter.stats).toEqual({ sent: 4, failed: 0, dropped: 0 });
    expect(server.received.map((r) => [r.method, r.url, r.authorization, r.contentType])).toEqual(
      Array(4).fill(['POST', '/api/v1/lineage', `Bearer ${API_KEY}`, 'application/json']),
    );
    for (const r of server.received) expect(runEventSchema.safeParse(r.body).success).toBe(true);
    const bodies = server.received.map((r) => r.body as { eventType: string; job: { name: string } });
    expect(bodies.map((b) => `${b.eventType} ${b.job.name}`)).toEqual([
      'START shop.load',
      'START shop.load.orders',
      'COMPLETE shop.load.orders',
      'COMPLETE shop.load',
    ]);
  });

  it('a backend answering 500 is retried a bounded number of times, then the run goes on with a warning', async () => {
    const server = await backend(() => 500);
    const { logger, warnings } = recordingLogger();
    const transport = createHttpTransport({
      url: server.url,
      apiKey: API_KEY,
      retries: 2,
      backoffMs: () => 1,
    });
    const emitter = createLineageEmitter({ transport, logger });
    await expect(emitter.emit(commandEvent(run, 'START'))).resolves.toBeUndefined();

    expect(server.received).toHaveLength(3);
    expect(emitter.stats).toEqual({ sent: 0, failed: 1, dropped: 0 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.obj).toMatchObject({
      err: { code: 'EMIT_FAILED' },
      event_type: 'START',
      job: 'shop.load',
    });
    expect(JSON.stringify(warnings[0]?.obj)).toMatch(/answered 500/);
    expect(JSON.stringify(warnings)).not.toContain(API_KEY);
  });

  it('a 4xx answer is not retried', async () => {
    const server = await backend(() => 400);
    const transport = createHttpTransport({ url: server.url, retries: 2, backoffMs: () => 1 });
    const error = await transport.send(commandEvent(run, 'START')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LineageError);
    expect(error).toMatchObject({ code: 'EMIT_FAILED', status: 400, retryable: false });
    expect(server.received).toHaveLength(1);
  });

  it('a 503 then 201 delivers the event on the retry', async () => {
    const server = await backend((n) => (n === 1 ? 503 : 201));
    const emitter = createLineageEmitter({
      transport: createHttpTransport({ url: server.url, backoffMs: () => 1 }),
    });
    await emitter.emit(commandEvent(run, 'START'));
    expect(server.received).toHaveLength(2);
    expect(emitter.stats).toEqual({ sent: 1, failed: 0, dropped: 0 });
  });

  it('a hung backend times out, is not retried, and after 3 failures in a row the rest is dropped', async () => {
    const server = await backend(() => 'hang');
    const { logger, warnings } = recordingLogger();
    const transport = createHttpTransport({ url: server.url, apiKey: API_KEY, timeoutMs: 300, retries: 2 });
    const emitter = createLineageEmitter({ transport, logger });
    const lineage = createLineageRecorder(run, emitter);
    for (let i = 0; i < 5; i++) await lineage.jobEvent(loadJob, 'START');

    expect(server.received).toHaveLength(3);
    expect(emitter.stats).toEqual({ sent: 0, failed: 3, dropped: 2 });
    expect(warnings.map((w) => (w.obj as { err?: { code: string } }).err?.code)).toEqual([
      'EMIT_TIMEOUT',
      'EMIT_TIMEOUT',
      'EMIT_TIMEOUT',
      undefined,
    ]);
    expect(warnings[3]?.msg).toMatch(/3 failures in a row/);
    expect(JSON.stringify(warnings)).not.toContain(API_KEY);
  });

  it('an unreachable backend is a warning, with the URL stripped of its credentials', async () => {
    const server = await backend();
    const url = server.url.replace('http://', 'http://user:pw@');
    await server.close();
    servers.pop();
    const { logger, warnings } = recordingLogger();
    const emitter = createLineageEmitter({
      transport: createHttpTransport({ url, retries: 1, backoffMs: () => 1 }),
      logger,
    });
    await emitter.emit(commandEvent(run, 'START'));
    expect(emitter.stats.failed).toBe(1);
    expect(warnings[0]?.obj).toMatchObject({ err: { code: 'EMIT_FAILED' } });
    expect(JSON.stringify(warnings)).not.toMatch(/user|pw@/);
  });
});

describe('file and console transports', () => {
  it('the file transport appends one valid NDJSON line per event', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lineage-'));
    try {
      const path = join(dir, 'nested/openlineage.ndjson');
      const config = resolveLineageConfig({ transport: 'file', file: path }, {});
      const emitter = createLineageEmitter({ transport: createTransport(config) });
      await emitter.emit(commandEvent(run, 'START'));
      await emitter.emit(jobEvent(run, loadJob, 'COMPLETE'));
      await createFileTransport(path).send(commandEvent(run, 'COMPLETE'));
      const lines = (await readFile(path, 'utf8')).split('\n');
      expect(lines.pop()).toBe('');
      expect(lines.map((l) => (JSON.parse(l) as { eventType: string }).eventType)).toEqual([
        'START',
        'COMPLETE',
        'COMPLETE',
      ]);
      for (const l of lines) expect(runEventSchema.safeParse(JSON.parse(l)).success).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the console transport writes one JSON line per event', async () => {
    const lines: string[] = [];
    await createConsoleTransport((l) => lines.push(l)).send(commandEvent(run, 'START'));
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith('\n')).toBe(true);
    expect(runEventSchema.safeParse(JSON.parse(lines[0] as string)).success).toBe(true);
  });
});

describe('resolveLineageConfig', () => {
  it('the lineage: config wins, the environment fills the rest, nothing set means none', () => {
    expect(resolveLineageConfig(undefined, {})).toEqual({ transport: 'none', namespace: 'dataflow' });
    expect(
      resolveLineageConfig(
        { url: 'http://marquez:5000', timeout_ms: 2000 },
        { OPENLINEAGE_URL: 'http://other:1', OPENLINEAGE_API_KEY: API_KEY, OPENLINEAGE_NAMESPACE: 'prod' },
      ),
    ).toEqual({
      transport: 'http',
      namespace: 'prod',
      url: 'http://marquez:5000',
      endpoint: 'api/v1/lineage',
      apiKey: API_KEY,
      timeoutMs: 2000,
      retries: 2,
    });
    expect(
      resolveLineageConfig(undefined, {
        OPENLINEAGE__TRANSPORT__TYPE: 'console',
        OPENLINEAGE_URL: 'http://x:1',
      }),
    ).toEqual({ transport: 'console', namespace: 'dataflow' });
    expect(
      resolveLineageConfig(undefined, { OPENLINEAGE_URL: 'http://x:1', OPENLINEAGE_DISABLED: 'true' }),
    ).toEqual({
      transport: 'none',
      namespace: 'dataflow',
    });
  });

  it('bad settings are one-line errors naming the key, never the URL', () => {
    const cases: Array<[unknown, Record<string, string>, RegExp]> = [
      [{ transport: 'http' }, {}, /^lineage\.url: the http transport needs a URL/],
      [{ url: 'ftp://user:pw@host/x' }, {}, /^lineage\.url: expected an http/],
      [{ transport: 'file' }, {}, /^lineage\.file: /],
      [{ timeout_ms: -1 }, {}, /^lineage\.timeout_ms: /],
      [{ retries: 9 }, {}, /^lineage\.retries: /],
      [{ urll: 'x' }, {}, /^lineage: .*urll/],
      [undefined, { OPENLINEAGE__TRANSPORT__TYPE: 'kafka' }, /^OPENLINEAGE__TRANSPORT__TYPE: expected http/],
    ];
    for (const [config, env, message] of cases) {
      let error: unknown;
      try {
        resolveLineageConfig(config as never, env);
      } catch (e) {
        error = e;
      }
      expect(error, String(message)).toBeInstanceOf(LineageError);
      expect((error as LineageError).code).toBe('BAD_CONFIG');
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain('pw@');
    }
  });
});
