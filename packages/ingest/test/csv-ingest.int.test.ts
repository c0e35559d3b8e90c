import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pipeline, Transform } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { listOpenUploads, useTestBucket } from '@dataflow/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createFsStore,
  createS3Store,
  dailyInterval,
  IngestError,
  ingestCsv,
  listPartitions,
  type ObjectStore,
  readManifest,
} from '../src/index.js';
import { listKeys, readCsvRecords, readObject, readRaw, recordingLogger, useTempDir } from './helpers.js';

const s3 = useTestBucket();
const tempDir = useTempDir();
const JAFFLE = '/work/shared/fixtures/jaffle_shop';
const day = dailyInterval('2024-01-15');

let inputs = '';
beforeAll(async () => {
  inputs = join(tempDir(), 'inputs');
  await mkdir(inputs, { recursive: true });
});

async function input(name: string, content: string | Buffer): Promise<string> {
  const path = join(inputs, name);
  await writeFile(path, content);
  return path;
}

const s3Store = (name: string): ObjectStore =>
  createS3Store({
    client: s3.client,
    bucket: s3.bucket,
    prefix: `${s3.prefix}${name}`,
    partSize: 5 * 1024 * 1024,
  });
const fsStore = (name: string): ObjectStore => createFsStore({ root: join(tempDir(), 'lakes', name) });

const catchError = async (p: Promise<unknown>): Promise<IngestError> => {
  const e = await p.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(e instanceof IngestError)) throw new Error(`expected an IngestError, got ${String(e)}`);
  return e;
};

/** A CSV of `rows` data rows (id,name,amount) of roughly `rowBytes` each. */
function generated(rows: number, tail = ''): string {
  let out = 'id,name,amount\n';
  for (let i = 1; i <= rows; i++) out += `${i},"customer ${i}, ${'x'.repeat(40)}",${(i * 1.25).toFixed(2)}\n`;
  return out + tail;
}

describe.each([
  ['s3', s3Store],
  ['fs', fsStore],
] as const)('ingestCsv into the %s store', (kind, open) => {
  it.each([
    ['by default, plain', undefined, 'none', '.csv'],
    ['with gzip: true, gzipped', true, 'gzip', '.csv.gz'],
  ] as const)(
    'writes the lake layout (%s parts), split into parts, with a manifest that describes every file',
    async (_label, gzip, compression, extension) => {
      const store = open(`layout-${kind}-${compression}`);
      const logger = recordingLogger();
      const manifest = await ingestCsv({
        source: 'orders',
        location: join(JAFFLE, 'raw_orders.csv'),
        interval: day,
        store,
        runId: 'run-1',
        logger,
        options: { partBytes: 1024, ...(gzip !== undefined ? { gzip } : {}) },
      });
      const header = ['id', 'user_id', 'order_date', 'status'];
      expect(manifest).toMatchObject({
        version: 1,
        source: 'orders',
        partition: 'dt=2024-01-15',
        interval: { start: '2024-01-15', end: '2024-01-16' },
        runId: 'run-1',
        format: 'csv',
        compression,
        columns: header,
        rows: 99,
      });
      expect(manifest.attempt).toMatch(/^[0-9a-f]{8}$/);
      expect(manifest.files.length).toBeGreaterThan(2);
      const keys = await listKeys(store, 'orders/');
      expect(keys).toEqual(
        [
          ...manifest.files.map((f, i) => {
            expect(f.key).toBe(
              `orders/dt=2024-01-15/part-${String(i).padStart(5, '0')}-${manifest.attempt}${extension}`,
            );
            return f.key;
          }),
          'orders/dt=2024-01-15/_SUCCESS',
          'orders/dt=2024-01-15/_manifest.json',
        ].sort(),
      );
      let total = 0;
      const ids: string[] = [];
      for (const file of manifest.files) {
        const stored = await readObject(store, file.key);
        const raw = await readRaw(store, file.key);
        expect(raw.length).toBe(file.bytes);
        expect(createHash('sha256').update(raw).digest('hex')).toBe(file.sha256);
        expect(stored.toString()).toMatch(/^id,user_id,order_date,status\n/);
        expect(stored.length).toBeLessThanOrEqual(1024);
        const [h, ...rows] = await readCsvRecords(store, file.key);
        expect(h).toEqual(header);
        expect(rows).toHaveLength(file.rows);
        total += file.rows;
        ids.push(...rows.map((r) => r[0] as string));
      }
      expect(total).toBe(99);
      expect(ids).toEqual(Array.from({ length: 99 }, (_, i) => String(i + 1)));
      expect(manifest.bytes).toBe(manifest.files.reduce((n, f) => n + f.bytes, 0));
      expect(await readManifest(store, 'orders', day)).toEqual(manifest);
      expect(await listPartitions(store, 'orders')).toEqual(['2024-01-15']);
      expect(logger.lines.some((l) => l.startsWith('info ingest: partition committed'))).toBe(true);
    },
  );

  it('re-ingesting a partition replaces it and removes the previous attempt and stale rejects', async () => {
    const store = open(`rerun-${kind}`);
    const first = await ingestCsv({
      source: 'people',
      location: await input(`people-v1-${kind}.csv`, 'id,name\n1,a\nnot-a-row\n2,b\n3,c\n'),
      interval: day,
      store,
      options: { onBadRow: 'reject', gzip: false },
    });
    expect(first.rows).toBe(3);
    expect(first.rejects?.rows).toBe(1);
    const second = await ingestCsv({
      source: 'people',
      location: await input(`people-v2-${kind}.csv`, 'id,name\n10,x\n11,y\n'),
      interval: day,
      store,
      options: { gzip: false },
    });
    expect(second.attempt).not.toBe(first.attempt);
    expect(second.rejects).toBeUndefined();
    expect(await listKeys(store, 'people/')).toEqual(
      [second.files[0]?.key, 'people/dt=2024-01-15/_SUCCESS', 'people/dt=2024-01-15/_manifest.json'].sort(),
    );
    expect(await readCsvRecords(store, second.files[0]?.key ?? '')).toEqual([
      ['id', 'name'],
      ['10', 'x'],
      ['11', 'y'],
    ]);
    expect((await readManifest(store, 'people', day))?.attempt).toBe(second.attempt);
  });

  it('a failure mid-upload leaves the previous committed partition intact and nothing of the failed attempt', async () => {
    const store = open(`midfail-${kind}`);
    const good = await ingestCsv({
      source: 'big',
      location: await input(`big-good-${kind}.csv`, 'id,name,amount\n1,a,2\n'),
      interval: day,
      store,
    });
    const before = await listKeys(store, 'big/');
    // ~12 MB of good rows (the S3 upload is multipart by then), then a row with a missing field.
    const bad = await input(`big-bad-${kind}.csv`, generated(170_000, '170001,broken\n'));
    const logger = recordingLogger();
    const error = await catchError(
      ingestCsv({ source: 'big', location: bad, interval: day, store, logger, options: { gzip: false } }),
    );
    expect(error).toMatchObject({ code: 'BAD_ROW', line: 170_002, source: 'big', location: bad });
    expect(error.message).toContain('has 2 fields, expected 3');
    expect(await listKeys(store, 'big/')).toEqual(before);
    expect(await readManifest(store, 'big', day)).toEqual(good);
    if (kind === 's3') expect(await listOpenUploads(s3.client, s3.bucket, s3.prefix)).toEqual([]);
    else {
      const files = await readdir(join(tempDir(), 'lakes', `midfail-${kind}`), { recursive: true });
      expect(files.filter((f) => f.includes('.tmp-'))).toEqual([]);
    }
    expect(logger.lines.some((l) => l.startsWith('warn ingest: attempt discarded'))).toBe(true);
  });

  it('a failure after some parts were stored deletes those parts', async () => {
    const store = open(`partsfail-${kind}`);
    const error = await catchError(
      ingestCsv({
        source: 'parts',
        location: await input(`parts-${kind}.csv`, generated(2000, '2001,x,bad,extra\n')),
        interval: day,
        store,
        options: { partBytes: 16 * 1024 },
      }),
    );
    expect(error.code).toBe('BAD_ROW');
    expect(await listKeys(store, 'parts/')).toEqual([]);
    expect(await listPartitions(store, 'parts')).toEqual([]);
    if (kind === 's3') expect(await listOpenUploads(s3.client, s3.bucket, s3.prefix)).toEqual([]);
  });

  it('a store failure in a later part (while the next part is produced) removes every part of the attempt', async () => {
    const real = open(`storefail-${kind}`);
    const good = await ingestCsv({
      source: 'sf',
      location: await input(`sf-good-${kind}.csv`, 'id,name,amount\n1,a,2\n'),
      interval: day,
      store: real,
    });
    const attempted: string[] = [];
    // Fault injection around the real store: the body of part 1 breaks after 64 KiB.
    const flaky: ObjectStore = {
      ...real,
      url: real.url,
      list: (prefix) => real.list(prefix),
      put: (key, body, options) => {
        attempted.push(key);
        if (!key.includes('/part-00001-')) return real.put(key, body, options);
        let seen = 0;
        const broken = new Transform({
          transform(chunk: Buffer, _e, done) {
            seen += chunk.length;
            done(seen > 64 * 1024 ? new Error('disk on fire') : null, chunk);
          },
        });
        return real.put(
          key,
          pipeline(body, broken, () => undefined),
          options,
        );
      },
    };
    const error = await catchError(
      ingestCsv({
        source: 'sf',
        location: await input(`sf-bad-${kind}.csv`, generated(60_000)),
        interval: day,
        store: flaky,
        options: { partBytes: 1024 * 1024, gzip: false },
      }),
    );
    expect(error.code).toBe('STORE');
    expect(attempted.length).toBeGreaterThanOrEqual(2);
    expect(await listKeys(real, 'sf/')).toEqual(
      [good.files[0]?.key, 'sf/dt=2024-01-15/_SUCCESS', 'sf/dt=2024-01-15/_manifest.json'].sort(),
    );
    expect(await readManifest(real, 'sf', day)).toEqual(good);
    if (kind === 's3') expect(await listOpenUploads(s3.client, s3.bucket, s3.prefix)).toEqual([]);
  });

  it('an ingest aborted after its first part was stored fails with ABORTED and leaves nothing', async () => {
    const store = open(`abort-${kind}`);
    const controller = new AbortController();
    const logger = recordingLogger();
    const abortingLogger = {
      ...logger,
      debug: (obj: object, msg?: string) => {
        logger.debug(obj, msg);
        if (msg === 'ingest: part written') controller.abort();
      },
    };
    const error = await catchError(
      ingestCsv({
        source: 'aborted',
        location: await input(`abort-${kind}.csv`, generated(100_000)),
        interval: day,
        store,
        signal: controller.signal,
        logger: abortingLogger,
        options: { gzip: false, partBytes: 1024 * 1024 },
      }),
    );
    expect(error.code).toBe('ABORTED');
    expect(
      logger.lines.filter((l) => l.startsWith('debug ingest: part written')).length,
    ).toBeGreaterThanOrEqual(1);
    expect(await listKeys(store, 'aborted/')).toEqual([]);
    if (kind === 's3') expect(await listOpenUploads(s3.client, s3.bucket, s3.prefix)).toEqual([]);
  });
});

describe('ingestCsv bad input (fs store)', () => {
  const store = (): ObjectStore => fsStore('bad');

  for (const parser of ['auto', 'csv-parse'] as const) {
    it(`wrong field count → BAD_ROW naming source, file, line, expected and got (parser ${parser})`, async () => {
      const path = await input('short.csv', 'a,b,c\n1,2,3\n"multi\nline",5,6\n7,8\n');
      const error = await catchError(
        ingestCsv({ source: 'short', location: path, interval: day, store: store(), options: { parser } }),
      );
      expect(error).toMatchObject({
        code: 'BAD_ROW',
        source: 'short',
        location: path,
        line: 5,
        retryable: false,
      });
      expect(error.message).toBe(`short: line 5 of ${path} has 2 fields, expected 3 (header)`);
      expect(await listKeys(store(), 'short/')).toEqual([]);
    });

    it(`a bad byte after a multi-line quoted field → BAD_ENCODING with its physical line (parser ${parser})`, async () => {
      const path = await input(
        'late-enc.csv',
        Buffer.concat([Buffer.from('a,b\n"x\ny",1\nʤ,2\n3,'), Buffer.from([0xc3, 0x28]), Buffer.from('\n')]),
      );
      const error = await catchError(
        ingestCsv({ source: 'lateenc', location: path, interval: day, store: store(), options: { parser } }),
      );
      expect(error).toMatchObject({ code: 'BAD_ENCODING', line: 5 });
    });

    it(`malformed quoting → BAD_ROW with the line (parser ${parser})`, async () => {
      const path = await input('quotes.csv', 'a,b\n1,2\n3,"x"y\n');
      const error = await catchError(
        ingestCsv({ source: 'quotes', location: path, interval: day, store: store(), options: { parser } }),
      );
      expect(error).toMatchObject({ code: 'BAD_ROW', line: 3 });
      expect(error.message).not.toContain('x"y');
    });

    it(`blank lines are skipped and CRLF becomes LF (parser ${parser})`, async () => {
      const m = await ingestCsv({
        source: `blank-${parser}`,
        location: await input('blank.csv', 'a,b\r\n\r\n1,2\r\n\r\n3,4'),
        interval: day,
        store: store(),
        options: { parser, gzip: false },
      });
      expect(m.rows).toBe(2);
      expect((await readObject(store(), m.files[0]?.key ?? '')).toString()).toBe('a,b\n1,2\n3,4\n');
    });
  }

  it('an undecodable byte → BAD_ENCODING with its line', async () => {
    const path = await input(
      'latin1.csv',
      Buffer.concat([Buffer.from('a,b\n1,ok\n2,caf'), Buffer.from([0xe9]), Buffer.from('\n')]),
    );
    const error = await catchError(
      ingestCsv({ source: 'enc', location: path, interval: day, store: store() }),
    );
    expect(error).toMatchObject({ code: 'BAD_ENCODING', line: 3, source: 'enc' });
    expect(await listKeys(store(), 'enc/')).toEqual([]);
  });

  it('a truncated gzip input → BAD_GZIP', async () => {
    const full = gzipSync(Buffer.from(generated(500)));
    const path = await input('cut.csv.gz', full.subarray(0, full.length - 100));
    const error = await catchError(
      ingestCsv({ source: 'gz', location: path, interval: day, store: store() }),
    );
    expect(error.code).toBe('BAD_GZIP');
    expect(await listKeys(store(), 'gz/')).toEqual([]);
  });

  it('a complete .gz input is gunzipped on read', async () => {
    const path = await input('ok.csv.gz', gzipSync(Buffer.from('a,b\n1,2\n')));
    const m = await ingestCsv({ source: 'gzok', location: path, interval: day, store: store() });
    expect(await readCsvRecords(store(), m.files[0]?.key ?? '')).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
  });

  for (const parser of ['auto', 'csv-parse'] as const) {
    it(`a value that does not parse as its declared type → BAD_VALUE with column and line, no value in the message (parser ${parser})`, async () => {
      const path = await input(
        `typed-${parser}.csv`,
        'id,amount,day,note\r\n1,1.5,2024-01-01,"a\nb"\r\n2,,"2024-02-30",x\r\n',
      );
      const error = await catchError(
        ingestCsv({
          source: 'typed',
          location: path,
          interval: day,
          store: store(),
          options: { parser, columns: { id: 'integer', amount: 'numeric', day: 'date', note: 'text' } },
        }),
      );
      expect(error).toMatchObject({ code: 'BAD_VALUE', source: 'typed', column: 'day', line: 4 });
      expect(error.message).toBe(`typed: line 4 of ${path}: column day is not a valid date`);
      expect(error.message).not.toContain('2024-02-30');
    });

    it(`declared types that all parse are accepted, quoted or not (empty = NULL) (parser ${parser})`, async () => {
      const path = await input(
        `typed-ok-${parser}.csv`,
        'id,ok,at,n,d\n1,true,2024-01-01 10:00:00,"-1.5e3",2024-02-29\n2,,,"",""\n"+3",F,2024-01-01,.5,"2000-01-31"\n',
      );
      const m = await ingestCsv({
        source: 'typedok',
        location: path,
        interval: day,
        store: store(),
        options: {
          parser,
          columns: { id: 'bigint', ok: 'boolean', at: 'timestamp', n: 'numeric', d: 'date' },
        },
      });
      expect(m.rows).toBe(3);
      expect(await readCsvRecords(store(), m.files[0]?.key ?? '')).toEqual([
        ['id', 'ok', 'at', 'n', 'd'],
        ['1', 'true', '2024-01-01 10:00:00', '-1.5e3', '2024-02-29'],
        ['2', '', '', '', ''],
        ['+3', 'F', '2024-01-01', '.5', '2000-01-31'],
      ]);
    });

    it(`a bad header fails with BAD_HEADER before any typed record is checked (parser ${parser})`, async () => {
      const path = await input(`typed-dup-${parser}.csv`, 'id,id\nx,2\n');
      const error = await catchError(
        ingestCsv({
          source: 'dup',
          location: path,
          interval: day,
          store: store(),
          options: { parser, columns: { id: 'integer' } },
        }),
      );
      expect(error.code).toBe('BAD_HEADER');
    });
  }

  it('a declared column missing from the header → BAD_HEADER', async () => {
    const path = await input('nocol.csv', 'id\n1\n');
    const error = await catchError(
      ingestCsv({
        source: 'nocol',
        location: path,
        interval: day,
        store: store(),
        options: { columns: { amount: 'numeric' } },
      }),
    );
    expect(error).toMatchObject({ code: 'BAD_HEADER', column: 'amount' });
  });

  it('a duplicate header name → BAD_HEADER', async () => {
    const path = await input('dup.csv', 'id,id\n1,2\n');
    const error = await catchError(
      ingestCsv({ source: 'dup', location: path, interval: day, store: store() }),
    );
    expect(error.code).toBe('BAD_HEADER');
  });

  it('an empty file (0 bytes, or only a BOM) → EMPTY_FILE, nothing committed', async () => {
    for (const [name, content] of [
      ['empty.csv', ''],
      ['bom-only.csv', '\uFEFF'],
    ] as const) {
      const error = await catchError(
        ingestCsv({ source: 'empty', location: await input(name, content), interval: day, store: store() }),
      );
      expect(error.code).toBe('EMPTY_FILE');
    }
    expect(await listPartitions(store(), 'empty')).toEqual([]);
  });

  it('a header-only file commits an empty partition with one header-only part', async () => {
    const m = await ingestCsv({
      source: 'headeronly',
      location: await input('header.csv', 'a,b\n'),
      interval: day,
      store: store(),
    });
    expect(m).toMatchObject({ rows: 0, columns: ['a', 'b'] });
    expect(m.files).toHaveLength(1);
    expect(await readCsvRecords(store(), m.files[0]?.key ?? '')).toEqual([['a', 'b']]);
  });

  it("onBadRow 'reject' writes bad rows to _rejects/ with line, reason and raw text, and counts them", async () => {
    const m = await ingestCsv({
      source: 'rej',
      location: await input('rej.csv', 'id,amount\n1,10\n2\n3,abc\n4,40\n'),
      interval: day,
      store: store(),
      options: { onBadRow: 'reject', columns: { amount: 'integer' } },
    });
    expect(m.rows).toBe(2);
    expect(m.rejects).toEqual({ key: `rej/dt=2024-01-15/_rejects/part-00000-${m.attempt}.csv`, rows: 2 });
    expect(await readCsvRecords(store(), m.rejects?.key ?? '')).toEqual([
      ['line', 'reason', 'raw'],
      ['3', 'BAD_ROW', '2'],
      ['4', 'BAD_VALUE', '3,abc'],
    ]);
    const [, ...rows] = await readCsvRecords(store(), m.files[0]?.key ?? '');
    expect(rows).toEqual([
      ['1', '10'],
      ['4', '40'],
    ]);
  });

  it('more rejects than maxRejects → TOO_MANY_REJECTS and nothing committed', async () => {
    const error = await catchError(
      ingestCsv({
        source: 'toomany',
        location: await input('toomany.csv', 'a,b\n1\n2\n3\n'),
        interval: day,
        store: store(),
        options: { onBadRow: 'reject', maxRejects: 2 },
      }),
    );
    expect(error).toMatchObject({ code: 'TOO_MANY_REJECTS', line: 4 });
    expect(await listKeys(store(), 'toomany/')).toEqual([]);
  });

  it('renders the interval into the location and reads a relative path against cwd', async () => {
    await input('sales_20240115.csv', 'x\n1\n');
    const m = await ingestCsv({
      source: 'sales',
      location: 'sales_{{ ds_nodash }}.csv',
      cwd: inputs,
      interval: day,
      store: store(),
    });
    expect(m.rows).toBe(1);
    const missing = await catchError(
      ingestCsv({
        source: 'sales',
        location: 'nope_{{ ds }}.csv',
        cwd: inputs,
        interval: day,
        store: store(),
      }),
    );
    expect(missing.code).toBe('NOT_FOUND');
    const template = await catchError(
      ingestCsv({
        source: 'sales',
        location: 'x_{{ yesterday }}.csv',
        cwd: inputs,
        interval: day,
        store: store(),
      }),
    );
    expect(template.code).toBe('TEMPLATE');
  });

  it('invalid options → INVALID_OPTIONS before anything is read or written', async () => {
    const location = await input('opts.csv', 'a\n1\n');
    for (const options of [{ gzipLevel: 11 }, { delimiter: '""' }, { columns: { a: 'money' as never } }]) {
      const error = await catchError(
        ingestCsv({ source: 'opts', location, interval: day, store: store(), options }),
      );
      expect(error.code).toBe('INVALID_OPTIONS');
    }
    const bad = await catchError(ingestCsv({ source: '../up', location, interval: day, store: store() }));
    expect(bad.code).toBe('INVALID_OPTIONS');
    expect(await listKeys(store(), 'opts/')).toEqual([]);
  });

  it('a custom delimiter is re-serialised as comma-separated RFC 4180', async () => {
    const m = await ingestCsv({
      source: 'semi',
      location: await input('semi.csv', 'a;b\n1,5;x\n'),
      interval: day,
      store: store(),
      options: { delimiter: ';', gzip: false },
    });
    expect((await readObject(store(), m.files[0]?.key ?? '')).toString()).toBe('a,b\n"1,5",x\n');
  });
});

describe('ingestCsv remote sources', () => {
  let server: Server;
  let base = '';
  let hits: Record<string, number> = {};
  const body = 'id,v\n1,a\n2,b\n';
  beforeAll(async () => {
    server = createServer((req, res) => {
      const path = req.url ?? '';
      hits[path] = (hits[path] ?? 0) + 1;
      if (path.startsWith('/data/2024-01-15.csv')) {
        res.writeHead(200, { 'content-type': 'text/csv' });
        res.write(body.slice(0, 7));
        setTimeout(() => res.end(body.slice(7)), 20);
      } else if (path === '/cut.csv') {
        res.writeHead(200, { 'content-type': 'text/csv', 'content-length': '100000' });
        res.write(generated(200));
        setTimeout(() => res.destroy(), 20);
      } else if (path === '/flaky.csv') {
        if ((hits[path] ?? 0) < 3) {
          res.writeHead(503).end();
          return;
        }
        res.writeHead(200).end(body);
      } else {
        res.writeHead(404).end('nope');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  it('streams an http(s) URL with the interval rendered into it', async () => {
    hits = {};
    const m = await ingestCsv({
      source: 'web',
      location: `${base}/data/{{ ds }}.csv?token=s3cr3t`,
      interval: day,
      store: fsStore('remote'),
    });
    expect(m.rows).toBe(2);
    expect(hits['/data/2024-01-15.csv?token=s3cr3t']).toBe(1);
  });

  it('an HTTP 404 → HTTP_STATUS, not retryable, URL redacted, tried once', async () => {
    hits = {};
    const error = await catchError(
      ingestCsv({
        source: 'web',
        location: `${base}/missing.csv?api_key=s3cr3t`,
        interval: day,
        store: fsStore('remote'),
      }),
    );
    expect(error).toMatchObject({ code: 'HTTP_STATUS', status: 404, retryable: false });
    expect(error.message).not.toContain('s3cr3t');
    expect(error.location).toBe(`${base}/missing.csv?api_key=***`);
    expect(hits['/missing.csv?api_key=s3cr3t']).toBe(1);
  });

  it('a connection cut mid-body → SOURCE (retryable), nothing committed', async () => {
    const store = fsStore('remote-cut');
    const error = await catchError(
      ingestCsv({ source: 'cut', location: `${base}/cut.csv`, interval: day, store }),
    );
    expect(error).toMatchObject({ code: 'SOURCE', retryable: true, source: 'cut' });
    expect(await listKeys(store, 'cut/')).toEqual([]);
  });

  it('HTTP 503 is retried until the file is served', async () => {
    hits = {};
    const m = await ingestCsv({
      source: 'flaky',
      location: `${base}/flaky.csv`,
      interval: day,
      store: fsStore('remote'),
      options: { retry: { baseDelayMs: 5 } },
    });
    expect(m.rows).toBe(2);
    expect(hits['/flaky.csv']).toBe(3);
  });

  it('reads an s3:// object', async () => {
    const key = `${s3.prefix}src/in.csv`;
    await s3.client.send(
      new PutObjectCommand({
        Bucket: s3.bucket,
        Key: key,
        Body: readFileSync(join(JAFFLE, 'raw_customers.csv')),
      }),
    );
    const m = await ingestCsv({
      source: 'customers',
      location: `s3://${s3.bucket}/${key}`,
      interval: day,
      store: fsStore('remote'),
      options: {
        s3: {
          endpoint: s3.s3.endpoint,
          region: s3.s3.region,
          credentials: { accessKeyId: s3.s3.accessKeyId, secretAccessKey: s3.s3.secretAccessKey },
        },
      },
    });
    expect(m).toMatchObject({ rows: 100, columns: ['id', 'first_name', 'last_name'] });
    const missing = await catchError(
      ingestCsv({
        source: 'customers',
        location: `s3://${s3.bucket}/${s3.prefix}src/missing.csv`,
        interval: day,
        store: fsStore('remote'),
        options: {
          s3: {
            endpoint: s3.s3.endpoint,
            credentials: { accessKeyId: s3.s3.accessKeyId, secretAccessKey: s3.s3.secretAccessKey },
          },
        },
      }),
    );
    expect(missing.code).toBe('NOT_FOUND');
  });
});
