import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createFsStore,
  dailyInterval,
  type IngestApiOptions,
  ingestApi,
  readManifest,
} from '../src/index.js';
import { readObject, useTempDir } from './helpers.js';

const tempDir = useTempDir();
const day = dailyInterval('2024-05-01');
const RECORDS = [
  {
    id: 1,
    big: 1,
    amount: 10,
    paid: true,
    at: '2024-05-01T10:00:00+02:00',
    local: '2024-05-01 10:00:00',
    on: '2024-05-01',
    code: '007',
    payload: { a: 'x', geo: { lat: 1.5 } },
    tags: ['new', 'eu'],
  },
  {
    id: 2,
    big: 5_000_000_000,
    amount: 10.25,
    paid: false,
    at: '2024-05-01T08:00:00Z',
    local: '2024-05-02',
    on: '2024-05-02',
    code: '008',
    payload: { a: 'y', geo: { lat: -3 } },
    tags: [],
    note: null,
  },
];

let server: Server;
let base = '';
beforeAll(async () => {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ result: { items: RECORDS } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

let n = 0;
const land = (over: Partial<IngestApiOptions>) => {
  const store = createFsStore({ root: join(tempDir(), `lake-${++n}`) });
  return {
    store,
    manifest: ingestApi({
      source: 'orders',
      interval: day,
      store,
      request: { url: `${base}/orders` },
      records: '$.result.items',
      ...over,
    }),
  };
};

describe('typed API records', () => {
  it('infers every column from every record into manifest.schema, declared types winning', async () => {
    const { store, manifest } = land({ columnTypes: { code: 'varchar(3)' } });
    const m = await manifest;
    expect(m.schema).toEqual([
      { name: 'id', type: 'integer', nullable: false },
      { name: 'big', type: 'bigint', nullable: false },
      { name: 'amount', type: 'numeric', nullable: false },
      { name: 'paid', type: 'boolean', nullable: false },
      { name: 'at', type: 'timestamptz', nullable: false },
      { name: 'local', type: 'timestamp', nullable: false },
      { name: 'on', type: 'date', nullable: false },
      { name: 'code', type: 'text', nullable: false, declared: true, declaredType: 'varchar(3)' },
      { name: 'payload', type: 'jsonb', nullable: false },
      { name: 'tags', type: 'jsonb', nullable: false },
      { name: 'note', type: 'text', nullable: true },
    ]);
    expect(await readManifest(store, 'orders', day)).toEqual(m);
    const lines = (await readObject(store, m.files[0]?.key ?? '')).toString().trim().split('\n');
    expect(JSON.parse(lines[0] ?? '')).toEqual(RECORDS[0]);
  });

  it('nested: flatten writes parent__child columns up to the depth, deeper objects and arrays as jsonb', async () => {
    const { store, manifest } = land({ nested: { flatten: 1 } });
    const m = await manifest;
    expect(m.columns).toEqual([
      'id',
      'big',
      'amount',
      'paid',
      'at',
      'local',
      'on',
      'code',
      'payload__a',
      'payload__geo',
      'tags',
      'note',
    ]);
    expect(m.schema?.filter((c) => c.name.startsWith('payload'))).toEqual([
      { name: 'payload__a', type: 'text', nullable: false },
      { name: 'payload__geo', type: 'jsonb', nullable: false },
    ]);
    const first = JSON.parse(
      (await readObject(store, m.files[0]?.key ?? '')).toString().split('\n')[0] ?? '',
    );
    expect(first).toMatchObject({ payload__a: 'x', payload__geo: { lat: 1.5 }, tags: ['new', 'eu'] });
    const deep = await land({ nested: { flatten: 2 } }).manifest;
    expect(deep.schema?.find((c) => c.name === 'payload__geo__lat')).toEqual({
      name: 'payload__geo__lat',
      type: 'numeric',
      nullable: false,
    });
  });
});
