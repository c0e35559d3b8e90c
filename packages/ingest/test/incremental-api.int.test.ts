import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { useTestBucket } from '@dataflow/testkit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type CursorState,
  createFsStore,
  createS3Store,
  dailyInterval,
  type IncrementalOptions,
  IngestError,
  ingestApi,
  type ObjectStore,
  readManifest,
  windowPartition,
} from '../src/index.js';
import { listKeys, readObject, useTempDir } from './helpers.js';

const tempDir = useTempDir();
const s3 = useTestBucket();
const day = dailyInterval('2024-05-01');

interface Rate {
  id: number;
  currency: string;
  rate: number;
  updated_at: string;
}
const T = (hour: number): string => `2024-05-01T${String(hour).padStart(2, '0')}:00:00Z`;

/** The API's data: changed by the tests between runs, like a real source. */
let rates: Rate[] = [];
let requests: URLSearchParams[] = [];
let failPage: number | undefined;
let server: Server;
let base = '';

beforeAll(async () => {
  // GET /rates?updated_since=&updated_before=&page=: records with since <= updated_at < before,
  // ordered by (updated_at, id), 2 per page, records without updated_at always (first); the
  // body nests them as { data: [...], meta }.
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const q = url.searchParams;
    requests.push(q);
    const page = Number(q.get('page') ?? '1');
    if (page === failPage) {
      res.writeHead(500).end();
      return;
    }
    const since = q.get('updated_since');
    const before = q.get('updated_before');
    const selected = rates
      .filter(
        (r) =>
          r.updated_at === '' ||
          ((since === null || r.updated_at >= since) && (before === null || r.updated_at < before)),
      )
      .sort((a, b) => a.updated_at.localeCompare(b.updated_at) || a.id - b.id);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({ data: selected.slice((page - 1) * 2, page * 2), meta: { total: selected.length } }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  requests = [];
  failPage = undefined;
  rates = [
    { id: 1, currency: 'EUR', rate: 1.1, updated_at: T(1) },
    { id: 2, currency: 'GBP', rate: 0.85, updated_at: T(2) },
    { id: 3, currency: 'JPY', rate: 155.2, updated_at: T(3) },
    { id: 4, currency: 'CHF', rate: 0.91, updated_at: T(4) },
    { id: 5, currency: 'SEK', rate: 10.7, updated_at: T(4) },
  ];
});

const incremental: IncrementalOptions = {
  cursorPath: 'updated_at',
  param: 'updated_since',
  initialValue: '2024-01-01T00:00:00Z',
  primaryKey: ['id'],
};

let n = 0;
const stores: Array<[string, () => ObjectStore]> = [
  ['fs lake', () => createFsStore({ root: join(tempDir(), `lake-${++n}`) })],
  [
    's3 lake',
    () => createS3Store({ client: s3.client, bucket: s3.bucket, prefix: `${s3.prefix}inc-${++n}` }),
  ],
];

const runRates = (store: ObjectStore, cursorState?: CursorState, over: Partial<IncrementalOptions> = {}) =>
  ingestApi({
    source: 'rates',
    interval: day,
    store,
    partition: windowPartition(),
    request: { url: `${base}/rates` },
    records: 'data',
    paginate: { type: 'page', pageSize: 2 },
    retry: { attempts: 1 },
    incremental: { ...incremental, ...over },
    ...(cursorState ? { cursorState } : {}),
  });

async function landed(store: ObjectStore, keys: string[]): Promise<Rate[]> {
  const out: Rate[] = [];
  for (const key of keys) {
    const text = (await readObject(store, key)).toString();
    for (const line of text.split('\n').filter(Boolean)) out.push(JSON.parse(line) as Rate);
  }
  return out;
}

const stateOf = (m: { cursor?: { to: string | number; boundaryKeys: string[] } }): CursorState => {
  if (!m.cursor) throw new Error('no cursor in the manifest');
  return { lastValue: m.cursor.to, boundaryKeys: m.cursor.boundaryKeys };
};

describe.each(stores)('incremental API runs (%s)', (_name, makeStore) => {
  it('run 1 reads from initial_value; run 2 only newer records, a late update included, boundary duplicates dropped', async () => {
    const store = makeStore();
    const first = await runRates(store);
    expect(requests[0]?.get('updated_since')).toBe('2024-01-01T00:00:00Z');
    expect(
      (
        await landed(
          store,
          first.files.map((f) => f.key),
        )
      ).map((r) => r.id),
    ).toEqual([1, 2, 3, 4, 5]);
    expect(first.partition).toMatch(/^w=\d{8}T\d{9}Z-[0-9a-f]{6}$/);
    expect(first.cursor).toEqual({
      path: 'updated_at',
      from: '2024-01-01T00:00:00Z',
      to: T(4),
      boundaryKeys: ['[4]', '[5]'],
      duplicatesDropped: 0,
    });

    // Between runs: GBP is updated late, NOK arrives at the boundary instant, USD after it.
    rates[1] = { id: 2, currency: 'GBP', rate: 0.86, updated_at: T(6) };
    rates.push({ id: 6, currency: 'NOK', rate: 11.2, updated_at: T(4) });
    rates.push({ id: 7, currency: 'USD', rate: 1, updated_at: T(5) });
    requests = [];
    const second = await runRates(store, stateOf(first));
    expect(requests[0]?.get('updated_since')).toBe(T(4));
    const rows = await landed(
      store,
      second.files.map((f) => f.key),
    );
    expect(rows.map((r) => [r.id, r.rate])).toEqual([
      [6, 11.2],
      [7, 1],
      [2, 0.86],
    ]);
    expect(second.rows).toBe(3);
    expect(second.cursor).toEqual({
      path: 'updated_at',
      from: T(4),
      to: T(6),
      boundaryKeys: ['[2]'],
      duplicatesDropped: 2,
    });
    expect(second.partition).not.toBe(first.partition);
    // The first window is still there: a second run never replaces it.
    expect(await readManifest(store, 'rates', day, first.partition)).toEqual(first);
    expect(await readManifest(store, 'rates', day, second.partition)).toEqual(second);

    // Nothing new: an empty window that keeps the state where it was.
    const third = await runRates(store, stateOf(second));
    expect(third.rows).toBe(0);
    expect(third.cursor).toMatchObject({ from: T(6), to: T(6), boundaryKeys: ['[2]'], duplicatesDropped: 1 });
  });

  it('a failed run commits nothing and its retry with the same state reads the same records', async () => {
    const store = makeStore();
    const state: CursorState = { lastValue: T(2), boundaryKeys: ['[2]'] };
    failPage = 2;
    const partition = windowPartition();
    const failing = ingestApi({
      source: 'rates',
      interval: day,
      store,
      partition,
      request: { url: `${base}/rates` },
      records: 'data',
      paginate: { type: 'page', pageSize: 2 },
      retry: { attempts: 1 },
      incremental,
      cursorState: state,
    });
    await expect(failing).rejects.toMatchObject({ code: 'HTTP_STATUS', status: 500 });
    expect(await readManifest(store, 'rates', day, partition)).toBeUndefined();
    expect(await listKeys(store, `rates/${partition}/`)).not.toContainEqual(
      expect.stringMatching(/part-.*\.ndjson\.gz$/),
    );
    failPage = undefined;
    const retry = await runRates(store, state);
    expect(
      (
        await landed(
          store,
          retry.files.map((f) => f.key),
        )
      ).map((r) => r.id),
    ).toEqual([3, 4, 5]);
    expect(retry.cursor).toMatchObject({ from: T(2), to: T(4), duplicatesDropped: 1 });
  });
});

describe('incremental API options', () => {
  const store = (): ObjectStore => createFsStore({ root: join(tempDir(), `opt-${++n}`) });

  it('lag re-reads before the last value; end_value is exclusive and sent as end_param', async () => {
    const m = await runRates(
      store(),
      { lastValue: T(4), boundaryKeys: ['[4]', '[5]'] },
      { lag: 7200, endValue: T(4), endParam: 'updated_before' },
    );
    expect(requests[0]?.get('updated_since')).toBe('2024-05-01T02:00:00.000Z');
    expect(requests[0]?.get('updated_before')).toBe(T(4));
    expect(m.rows).toBe(2);
    expect(m.cursor).toMatchObject({
      from: '2024-05-01T02:00:00.000Z',
      to: T(4),
      boundaryKeys: ['[4]', '[5]'],
    });
  });

  it('row_order asc stops paging at the first record past end_value', async () => {
    const m = await runRates(store(), undefined, { endValue: T(2), rowOrder: 'asc' });
    expect(m.rows).toBe(1);
    // Page 1 holds ids 1 and 2 (2 is at the exclusive end): no page 2 is asked for.
    expect(requests.map((q) => q.get('page'))).toEqual(['1']);
    const unordered = await runRates(store(), undefined, { endValue: T(2) });
    expect(unordered.rows).toBe(1);
    expect(requests.map((q) => q.get('page'))).toEqual(['1', '1', '2', '3']);
  });

  it('a record without a cursor value fails the run by default, naming the record and page', async () => {
    rates.push({ id: 9, currency: 'XXX', rate: 0, updated_at: '' });
    const error = await runRates(store()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(IngestError);
    expect((error as IngestError).message).toBe(
      'rates: record 0 of page 1 has no cursor value at updated_at (set on_cursor_value_missing: include or exclude to accept it)',
    );
    const included = await runRates(store(), undefined, { onCursorValueMissing: 'include' });
    expect(included.rows).toBe(6);
    expect(included.cursor?.to).toBe(T(4));
  });

  it('JSONPath cursor and records paths read the same records as the dotted ones', async () => {
    const m = await ingestApi({
      source: 'rates',
      interval: day,
      store: store(),
      partition: windowPartition(),
      request: { url: `${base}/rates` },
      records: '$.data[*]',
      paginate: { type: 'page', pageSize: 2 },
      incremental: { ...incremental, cursorPath: '$.updated_at', primaryKey: ['$.currency'] },
    });
    expect(m.rows).toBe(5);
    expect(m.cursor).toMatchObject({ path: '$.updated_at', to: T(4), boundaryKeys: ['["CHF"]', '["SEK"]'] });
  });
});
