import { Readable } from 'node:stream';
import { expect, it } from 'vitest';
import { IngestError, type ObjectStore } from '../src/index.js';
import { failingStream, listKeys, readObject } from './helpers.js';

/**
 * The ObjectStore contract, run against every adapter. `afterFailure` asserts adapter-specific
 * cleanup (no open multipart upload / no temp file).
 */
export function storeContract(
  name: string,
  open: () => ObjectStore,
  afterFailure: () => Promise<void>,
): void {
  it(`${name}: put/get/exists/list/delete round-trip with sorted relative keys`, async () => {
    const store = open();
    const big = Buffer.alloc(3 * 1024 * 1024, 'x');
    const res = await store.put('a/b/big.bin', Readable.from([big.subarray(0, 1000), big.subarray(1000)]));
    expect(res.bytes).toBe(big.length);
    await store.putBytes('a/b/small.txt', 'hello');
    await store.putBytes('a/a.txt', new Uint8Array([1, 2, 3]));
    await store.putBytes('b/other.txt', 'x');
    expect((await readObject(store, 'a/b/big.bin')).equals(big)).toBe(true);
    expect((await readObject(store, 'a/b/small.txt')).toString()).toBe('hello');
    expect(await store.exists('a/b/small.txt')).toBe(true);
    expect(await store.exists('a/b/missing.txt')).toBe(false);
    const listed: Array<{ key: string; size: number }> = [];
    for await (const o of store.list('a/')) listed.push({ key: o.key, size: o.size });
    expect(listed).toEqual([
      { key: 'a/a.txt', size: 3 },
      { key: 'a/b/big.bin', size: big.length },
      { key: 'a/b/small.txt', size: 5 },
    ]);
    expect(await listKeys(store, 'a/b/s')).toEqual(['a/b/small.txt']);
    await store.delete(['a/b/small.txt', 'a/never-existed.txt']);
    expect(await listKeys(store, 'a/')).toEqual(['a/a.txt', 'a/b/big.bin']);
    await store.delete(['a/a.txt', 'a/b/big.bin', 'b/other.txt']);
    expect(await listKeys(store, '')).toEqual([]);
  });

  it(`${name}: get of a missing key is NOT_FOUND`, async () => {
    const store = open();
    const error = await store.get('nope/missing.csv').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IngestError);
    expect((error as IngestError).code).toBe('NOT_FOUND');
  });

  it(`${name}: keys that could escape the root are INVALID_KEY`, async () => {
    const store = open();
    for (const key of ['../x', '/abs', 'a//b', 'a/./b', '']) {
      const error = await store.putBytes(key, 'x').catch((e: unknown) => e);
      expect((error as IngestError).code).toBe('INVALID_KEY');
    }
  });

  it(`${name}: a body failing mid-stream leaves no object and no partial upload`, async () => {
    const store = open();
    // 12 MiB before the failure, so S3 has already started a multipart upload with parts.
    const chunk = Buffer.alloc(1024 * 1024, 'y');
    const body = failingStream(
      Array.from({ length: 12 }, () => chunk),
      new Error('source broke'),
    );
    const error = await store.put('fail/obj.bin', body).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IngestError);
    expect(await store.exists('fail/obj.bin')).toBe(false);
    expect(await listKeys(store, 'fail/')).toEqual([]);
    await afterFailure();
  });

  it(`${name}: an aborted put rejects with ABORTED and leaves nothing`, async () => {
    const store = open();
    const controller = new AbortController();
    const body = new Readable({ read() {} });
    const chunk = Buffer.alloc(1024 * 1024, 'z');
    for (let i = 0; i < 7; i++) body.push(chunk);
    const pending = store.put('abort/obj.bin', body, { signal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    const error = await pending.catch((e: unknown) => e);
    expect((error as IngestError).code).toBe('ABORTED');
    expect(await listKeys(store, 'abort/')).toEqual([]);
    await afterFailure();
  });
}
