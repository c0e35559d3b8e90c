import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { listOpenUploads, useTestBucket } from '@dataflow/testkit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type ApiPaginate,
  apiSourceSchema,
  createFsStore,
  createS3Store,
  dailyInterval,
  type IngestApiOptions,
  IngestError,
  ingestApi,
  type ObjectStore,
  readManifest,
} from '../src/index.js';
import { listKeys, readCsvRecords, readObject, recordingLogger, useTempDir } from './helpers.js';

const tempDir = useTempDir();
const s3 = useTestBucket();
const day = dailyInterval('2024-05-01');
const TOTAL = 25;
const ALL = Array.from({ length: TOTAL }, (_, i) => ({
  id: i + 1,
  name: `user ${i + 1}`,
  ...(i === 7 ? { extra: { n: 1 } } : {}),
}));

interface Seen {
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
}
let seen: Seen[] = [];
let hits = new Map<string, number>();
let server: Server;
let base = '';

const json = (
  res: import('node:http').ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const q = url.searchParams;
    seen.push({ path: url.pathname, query: q, headers: req.headers });
    const hit = (hits.get(req.url ?? '') ?? 0) + 1;
    hits.set(req.url ?? '', hit);
    const slice = (from: number, n: number) => ALL.slice(from, from + n);
    switch (url.pathname) {
      case '/cursor': {
        const from = Number(q.get('after') ?? '0');
        const next = from + 10 < TOTAL ? String(from + 10) : null;
        return json(res, 200, { data: slice(from, 10), meta: { next } });
      }
      case '/next': {
        const p = Number(q.get('p') ?? '1');
        const next = p * 10 < TOTAL ? `/next?p=${p + 1}` : null;
        return json(res, 200, { results: slice((p - 1) * 10, 10), links: { next } });
      }
      case '/link': {
        const p = Number(q.get('p') ?? '1');
        const headers: Record<string, string> =
          p * 10 < TOTAL
            ? { link: `<${base}/link?p=${p + 1}>; rel="next", <${base}/link?p=1>; rel="first"` }
            : {};
        return json(res, 200, slice((p - 1) * 10, 10), headers);
      }
      case '/offset':
        return json(res, 200, { items: slice(Number(q.get('skip')), Number(q.get('take'))) });
      case '/page': {
        const size = Number(q.get('per_page'));
        return json(res, 200, { rows: slice((Number(q.get('page')) - 1) * size, size) });
      }
      case '/page-empty-end':
        return json(res, 200, slice((Number(q.get('page')) - 1) * 10, 10));
      case '/loop':
        return json(res, 200, { data: slice(0, 2), next: 'same' });
      case '/flaky':
        if (hit <= 2) return json(res, 500, { error: 'boom' });
        return json(res, 200, {
          data: slice(Number(q.get('after') ?? '0'), 10),
          next: q.get('after') ? null : '10',
        });
      case '/limited':
        if (hit === 1) return json(res, 429, { error: 'slow down' }, { 'retry-after': '0' });
        return json(res, 200, slice(0, 3));
      case '/down':
        return json(res, 503, { error: 'down' });
      case '/forbidden':
        return json(res, 403, { error: 'no' });
      case '/no-records':
        return json(res, 200, { data: { count: 3 } });
      case '/not-json':
        res.writeHead(200, { 'content-type': 'text/plain' });
        return res.end('hello');
      case '/slow':
        setTimeout(() => json(res, 200, []), 1500);
        return;
      case '/echo':
        return json(res, 200, [{ id: 1 }]);
      default:
        return json(res, 404, {});
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  seen = [];
  hits = new Map();
});

let n = 0;
const fsStore = (): ObjectStore => createFsStore({ root: join(tempDir(), `lake-${++n}`) });

async function landedIds(store: ObjectStore, keys: string[]): Promise<number[]> {
  const ids: number[] = [];
  for (const key of keys) {
    const text = (await readObject(store, key)).toString();
    for (const line of text.split('\n').filter(Boolean)) ids.push((JSON.parse(line) as { id: number }).id);
  }
  return ids;
}

const run = (over: Partial<IngestApiOptions> & Pick<IngestApiOptions, 'request'>, store = fsStore()) =>
  ingestApi({ source: 'users', interval: day, store, retry: { baseDelayMs: 5, maxDelayMs: 50 }, ...over });

const catchError = async (p: Promise<unknown>): Promise<IngestError> => {
  const e = await p.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(e instanceof IngestError)) throw new Error(`expected an IngestError, got ${String(e)}`);
  return e;
};

describe('ingestApi paginators: records landed = records served, no duplicates', () => {
  const cases: Array<[string, string, string, ApiPaginate, number]> = [
    ['cursor', '/cursor', 'data', { type: 'cursor', cursorPath: 'meta.next', cursorParam: 'after' }, 3],
    ['next_url', '/next', 'results', { type: 'next_url', nextUrlPath: 'links.next' }, 3],
    ['link_header', '/link', '', { type: 'link_header' }, 3],
    ['offset', '/offset', 'items', { type: 'offset', limit: 10, offsetParam: 'skip', limitParam: 'take' }, 3],
    ['page', '/page', 'rows', { type: 'page', pageParam: 'page', pageSize: 10, sizeParam: 'per_page' }, 3],
    ['page (stops on empty page)', '/page-empty-end', '', { type: 'page' }, 4],
  ];
  for (const [name, path, records, paginate, pages] of cases) {
    it(name, async () => {
      const store = fsStore();
      const m = await run({ request: { url: `${base}${path}` }, records, paginate }, store);
      expect(seen.map((s) => s.path)).toEqual(Array.from({ length: pages }, () => path));
      expect(m.rows).toBe(TOTAL);
      expect(m.format).toBe('ndjson');
      const ids = await landedIds(
        store,
        m.files.map((f) => f.key),
      );
      expect(ids).toEqual(ALL.map((r) => r.id));
      expect(m.columns).toEqual(['id', 'name', 'extra']);
      expect(m.files[0]?.key).toBe(`users/dt=2024-05-01/part-00000-${m.attempt}.ndjson.gz`);
    });
  }

  it('the YAML (snake_case) source schema maps to the same options and lands every record', async () => {
    const options = apiSourceSchema.parse({
      type: 'api',
      url: `${base}/cursor`,
      records: 'data',
      paginate: { type: 'cursor', cursor_path: 'meta.next', cursor_param: 'after' },
      timeout_ms: 5000,
    });
    expect(options.paginate).toEqual({ type: 'cursor', cursorPath: 'meta.next', cursorParam: 'after' });
    expect(options.request).toEqual({ url: `${base}/cursor`, timeoutMs: 5000 });
    const m = await run(options);
    expect(m.rows).toBe(TOTAL);
  });

  it('an API source reaching max_pages with more pages to go fails with MAX_PAGES and commits nothing', async () => {
    const store = fsStore();
    const error = await catchError(
      run(
        {
          request: { url: `${base}/cursor` },
          records: 'data',
          paginate: { type: 'cursor', cursorPath: 'meta.next', cursorParam: 'after' },
          maxPages: 2,
        },
        store,
      ),
    );
    expect(error).toMatchObject({ code: 'MAX_PAGES', page: 3, retryable: false });
    expect(error.message).toContain('max_pages (2)');
    expect(seen).toHaveLength(2);
    expect(await readManifest(store, 'users', day)).toBeUndefined();
    expect(await listKeys(store, 'users/')).toEqual([]);
  });

  it('on_max_pages: stop commits the pages read so far', async () => {
    const m = await run({
      request: { url: `${base}/cursor` },
      records: 'data',
      paginate: { type: 'cursor', cursorPath: 'meta.next', cursorParam: 'after' },
      maxPages: 2,
      onMaxPages: 'stop',
    });
    expect(m.rows).toBe(20);
    expect(seen).toHaveLength(2);
  });

  it('reaching exactly max_pages on the last page is not an error', async () => {
    const m = await run({
      request: { url: `${base}/cursor` },
      records: 'data',
      paginate: { type: 'cursor', cursorPath: 'meta.next', cursorParam: 'after' },
      maxPages: 3,
    });
    expect(m.rows).toBe(TOTAL);
  });

  it('splits records into several parts by size', async () => {
    const store = fsStore();
    const m = await run(
      {
        request: { url: `${base}/cursor` },
        records: 'data',
        paginate: { type: 'cursor', cursorPath: 'meta.next', cursorParam: 'after' },
        partBytes: 200,
        gzip: false,
      },
      store,
    );
    expect(m.files.length).toBeGreaterThan(3);
    expect(
      await landedIds(
        store,
        m.files.map((f) => f.key),
      ),
    ).toEqual(ALL.map((r) => r.id));
  });

  it('renders the interval into params and lands CSV with declared columns', async () => {
    const store = fsStore();
    const m = await run(
      {
        request: { url: `${base}/link`, params: { since: '{{ ds }}', until: '{{ data_interval_end }}' } },
        paginate: { type: 'link_header' },
        format: 'csv',
        columns: ['id', 'extra', 'missing'],
      },
      store,
    );
    expect(seen[0]?.query.get('since')).toBe('2024-05-01');
    expect(seen[0]?.query.get('until')).toBe('2024-05-02');
    expect(m).toMatchObject({ format: 'csv', columns: ['id', 'extra', 'missing'], rows: TOTAL });
    const rows = await readCsvRecords(store, m.files[0]?.key ?? '');
    expect(rows[0]).toEqual(['id', 'extra', 'missing']);
    expect(rows[8]).toEqual(['8', '{"n":1}', '']);
    expect(rows).toHaveLength(TOTAL + 1);
  });
});

describe('ingestApi failures and retries', () => {
  it('a paginator that repeats a cursor → PAGINATION_LOOP, nothing committed', async () => {
    const store = fsStore();
    const error = await catchError(
      run(
        {
          request: { url: `${base}/loop` },
          records: 'data',
          paginate: { type: 'cursor', cursorPath: 'next', cursorParam: 'c' },
        },
        store,
      ),
    );
    expect(error).toMatchObject({ code: 'PAGINATION_LOOP', page: 3, source: 'users' });
    expect(seen).toHaveLength(2);
    expect(await listKeys(store)).toEqual([]);
  });

  it('transient 500s are retried; every record lands once', async () => {
    const store = fsStore();
    const m = await run(
      {
        request: { url: `${base}/flaky` },
        records: 'data',
        paginate: { type: 'cursor', cursorPath: 'next', cursorParam: 'after' },
      },
      store,
    );
    expect(seen.map((s) => s.query.get('after'))).toEqual([null, null, null, '10', '10', '10']);
    expect(
      await landedIds(
        store,
        m.files.map((f) => f.key),
      ),
    ).toEqual(ALL.slice(0, 20).map((r) => r.id));
  });

  it('429 with Retry-After: 0 waits at least the floor (minRetryAfterMs), then succeeds', async () => {
    const logger = recordingLogger();
    const started = Date.now();
    const m = await run({ request: { url: `${base}/limited` }, retry: { minRetryAfterMs: 300 }, logger });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(m.rows).toBe(3);
    expect(seen).toHaveLength(2);
    expect(logger.lines.filter((l) => l.startsWith('warn ingest: retrying request'))).toHaveLength(1);
    expect(logger.lines.join('\n')).toContain('"delayMs":300');
  });

  it('5xx beyond the attempt budget → HTTP_STATUS retryable, with the page number', async () => {
    const error = await catchError(
      run({ request: { url: `${base}/down` }, retry: { attempts: 3, baseDelayMs: 1 } }),
    );
    expect(error).toMatchObject({ code: 'HTTP_STATUS', status: 503, retryable: true, page: 1 });
    expect(seen).toHaveLength(3);
  });

  it('4xx other than 429 → HTTP_STATUS at once, URL redacted, secrets nowhere in message or logs', async () => {
    const logger = recordingLogger();
    const error = await catchError(
      run({
        request: {
          url: `${base}/forbidden?token=t0ps3cret&keep=1`,
          params: { client_secret: 'hunter2' },
          auth: { type: 'api_key', name: 'x-custom', value: 'ak-999', in: 'query' },
        },
        logger,
      }),
    );
    expect(error).toMatchObject({ code: 'HTTP_STATUS', status: 403, retryable: false, page: 1 });
    expect(seen).toHaveLength(1);
    expect(error.location).toBe(`${base}/forbidden?token=***&keep=1&client_secret=***&x-custom=***`);
    const everything = `${error.message} ${error.location} ${logger.lines.join('\n')}`;
    for (const secret of ['t0ps3cret', 'hunter2', 'ak-999']) expect(everything).not.toContain(secret);
  });

  it('a body without the records path → BAD_RESPONSE naming the page', async () => {
    const error = await catchError(run({ request: { url: `${base}/no-records` }, records: 'data' }));
    expect(error).toMatchObject({ code: 'BAD_RESPONSE', page: 1 });
    expect(error.message).toContain('"data"');
  });

  it('a body that is not JSON → BAD_RESPONSE', async () => {
    const error = await catchError(run({ request: { url: `${base}/not-json` } }));
    expect(error.code).toBe('BAD_RESPONSE');
  });

  it('a slow server → TIMEOUT (retryable) after the attempts', async () => {
    const error = await catchError(
      run({ request: { url: `${base}/slow`, timeoutMs: 150 }, retry: { attempts: 2, baseDelayMs: 1 } }),
    );
    expect(error).toMatchObject({ code: 'TIMEOUT', retryable: true });
    expect(seen).toHaveLength(2);
  });

  it('an abort signal stops a pending request with ABORTED and leaves nothing', async () => {
    const store = fsStore();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    const error = await catchError(
      run({ request: { url: `${base}/slow`, timeoutMs: 10_000 }, signal: controller.signal }, store),
    );
    expect(error.code).toBe('ABORTED');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await listKeys(store)).toEqual([]);
  });

  it('a refused connection → CONNECTION (retryable)', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const error = await catchError(
      run({ request: { url: `http://127.0.0.1:${port}/x` }, retry: { attempts: 2, baseDelayMs: 1 } }),
    );
    expect(error).toMatchObject({ code: 'CONNECTION', retryable: true });
  });

  it('a failure after parts were written to S3 removes them and leaves no open upload; previous partition intact', async () => {
    const store = createS3Store({ client: s3.client, bucket: s3.bucket, prefix: `${s3.prefix}api` });
    const good = await run({ request: { url: `${base}/echo` } }, store);
    const error = await catchError(
      run(
        {
          request: { url: `${base}/loop` },
          records: 'data',
          paginate: { type: 'cursor', cursorPath: 'next', cursorParam: 'c' },
          partBytes: 10,
        },
        store,
      ),
    );
    expect(error.code).toBe('PAGINATION_LOOP');
    expect(await readManifest(store, 'users', day)).toEqual(good);
    expect(await listKeys(store, 'users/')).toEqual(
      [good.files[0]?.key, 'users/dt=2024-05-01/_SUCCESS', 'users/dt=2024-05-01/_manifest.json'].sort(),
    );
    expect(await listOpenUploads(s3.client, s3.bucket, s3.prefix)).toEqual([]);
  });
});

describe('ingestApi auth: the server receives the credentials', () => {
  it('bearer', async () => {
    await run({ request: { url: `${base}/echo`, auth: { type: 'bearer', token: 'tok-1' } } });
    expect(seen[0]?.headers.authorization).toBe('Bearer tok-1');
  });

  it('basic', async () => {
    await run({
      request: { url: `${base}/echo`, auth: { type: 'basic', username: 'ann', password: 'p:w' } },
    });
    expect(seen[0]?.headers.authorization).toBe(`Basic ${Buffer.from('ann:p:w').toString('base64')}`);
  });

  it('api key in a header', async () => {
    await run({
      request: {
        url: `${base}/echo`,
        auth: { type: 'api_key', name: 'X-Api-Key', value: 'k1', in: 'header' },
      },
    });
    expect(seen[0]?.headers['x-api-key']).toBe('k1');
  });

  it('api key in the query, on every page including next URLs', async () => {
    await run({
      request: { url: `${base}/next`, auth: { type: 'api_key', name: 'api_key', value: 'k2', in: 'query' } },
      records: 'results',
      paginate: { type: 'next_url', nextUrlPath: 'links.next' },
    });
    expect(seen).toHaveLength(3);
    expect(seen.map((s) => s.query.get('api_key'))).toEqual(['k2', 'k2', 'k2']);
  });
});
