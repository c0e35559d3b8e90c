import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = (file: string): string => new URL(`../src/${file}`, import.meta.url).href;

/**
 * Runs `body` in a fresh Node process (TypeScript through tsx) and returns how many files of the
 * AWS SDK and of undici that process had loaded when `body` finished. Both are CommonJS packages
 * (no `exports` map), so every file they load lands in the shared `require` cache.
 */
function loadedAfter(body: string): { aws: number; undici: number; jsonpath: number } {
  const script = `
import { createRequire } from 'node:module';
${body}
const files = Object.keys(createRequire(import.meta.url).cache);
console.log(JSON.stringify({
  aws: files.filter((f) => f.includes('/node_modules/@aws-sdk/')).length,
  undici: files.filter((f) => f.includes('/node_modules/undici/')).length,
  jsonpath: files.filter((f) => f.includes('/node_modules/jsonpath-plus/')).length,
}));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '');
}

describe('lazy imports', { timeout: 60_000 }, () => {
  it('importing the package and opening an s3:// lake loads neither the AWS SDK nor undici', () => {
    const loaded = loadedAfter(`
const ingest = await import(${JSON.stringify(src('index.ts'))});
const lake = ingest.openLake('s3://bucket/raw', { endpoint: 'http://127.0.0.1:9' });
if (lake.url !== 's3://bucket/raw/') throw new Error('unexpected url ' + lake.url);
lake.close?.();
ingest.openLake('file:///tmp/lake').close?.();`);
    expect(loaded).toEqual({ aws: 0, undici: 0, jsonpath: 0 });
  });

  it('createS3Client loads the AWS SDK on its call (and not undici)', () => {
    const loaded = loadedAfter(`
const ingest = await import(${JSON.stringify(src('index.ts'))});
ingest.createS3Client({ endpoint: 'http://127.0.0.1:9' }).destroy();`);
    expect(loaded.aws).toBeGreaterThan(0);
    expect(loaded.undici).toBe(0);
  });

  it('an s3 store loads the AWS SDK on its first operation', () => {
    const loaded = loadedAfter(`
const ingest = await import(${JSON.stringify(src('index.ts'))});
const store = ingest.createS3Store({ bucket: 'b', endpoint: 'http://127.0.0.1:9',
  credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
await store.exists('x').then(() => { throw new Error('exists succeeded'); }, (e) => {
  if (!ingest.isIngestError(e)) throw e;
});
store.close?.();`);
    expect(loaded.aws).toBeGreaterThan(0);
  });

  it('an http request loads undici on its call', () => {
    const loaded = loadedAfter(`
const { httpGet } = await import(${JSON.stringify(src('http-client.ts'))});
const logger = { warn() {}, info() {}, debug() {}, error() {} };
await httpGet({ url: 'http://127.0.0.1:9/x', headers: {}, timeoutMs: 5000, logger, source: 's',
  retry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0, minRetryAfterMs: 0 }, consume: async () => 1 })
  .then(() => { throw new Error('request succeeded'); }, (e) => { if (e.code !== 'CONNECTION') throw e; });`);
    expect(loaded.undici).toBeGreaterThan(0);
    expect(loaded.aws).toBe(0);
  });

  it('dotted paths never load jsonpath-plus; the first $ path does', () => {
    const dotted = loadedAfter(`
const ingest = await import(${JSON.stringify(src('index.ts'))});
if (ingest.readPath({ a: { b: 1 } }, 'a.b') !== 1) throw new Error('dotted');`);
    expect(dotted.jsonpath).toBe(0);
    const jsonPath = loadedAfter(`
const ingest = await import(${JSON.stringify(src('index.ts'))});
if (ingest.readPath({ a: [{ b: 1 }] }, '$.a[*].b') !== 1) throw new Error('jsonpath');`);
    expect(jsonPath.jsonpath).toBeGreaterThan(0);
  });
});
