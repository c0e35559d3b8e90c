import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll } from 'vitest';
import type { Logger, ObjectStore } from '../src/index.js';

/** Reads a whole (small) object's stored bytes. Tests only. */
export async function readRaw(store: ObjectStore, key: string): Promise<Buffer> {
  const stream = await store.get(key);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Reads a whole (small) object back, gunzipping `.gz` keys. Tests only. */
export async function readObject(store: ObjectStore, key: string): Promise<Buffer> {
  const raw = await readRaw(store, key);
  return key.endsWith('.gz') ? gunzipSync(raw) : raw;
}

/** Parses a stored CSV part into records (header included). */
export async function readCsvRecords(store: ObjectStore, key: string): Promise<string[][]> {
  return parse(await readObject(store, key), { bom: false }) as string[][];
}

export async function listKeys(store: ObjectStore, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list(prefix)) keys.push(o.key);
  return keys;
}

/** A temp directory removed after the file's tests. */
export function useTempDir(): () => string {
  let dir: string | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dataflow-ingest-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return () => {
    if (!dir) throw new Error('useTempDir(): used outside a test');
    return dir;
  };
}

/** A logger that records every call, to assert what was (not) logged. */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (level: string) => (obj: object, msg?: string) => {
    lines.push(
      `${level} ${msg ?? ''} ${JSON.stringify(obj, (_k, v) => (v instanceof Error ? { message: v.message, code: (v as { code?: unknown }).code } : v))}`,
    );
  };
  return { lines, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

/** A readable that yields `chunks`, then fails with `error`. */
export function failingStream(chunks: Array<string | Buffer>, error: Error): Readable {
  return Readable.from(
    (async function* () {
      for (const c of chunks) yield typeof c === 'string' ? Buffer.from(c) : c;
      throw error;
    })(),
  );
}
