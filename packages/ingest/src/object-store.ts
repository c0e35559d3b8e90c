import type { Readable } from 'node:stream';
import { IngestError } from './errors.js';

/** One object under a store root. */
export interface ObjectInfo {
  /** Key relative to the store root. */
  key: string;
  size: number;
}

/** Options for {@link ObjectStore.put}. */
export interface PutOptions {
  contentType?: string;
  signal?: AbortSignal;
}

/**
 * The small object-store interface the lake is written through. Keys are `/`-separated and
 * relative to the store root. `put` is all-or-nothing: a failed put leaves no object and (S3)
 * no open multipart upload.
 */
export interface ObjectStore {
  /** Display URL of the root, safe to print (no credentials). */
  readonly url: string;
  /** Streams `body` to `key` (S3: multipart `Upload`; fs: temp file + rename). Resolves with bytes stored. */
  put(key: string, body: Readable, options?: PutOptions): Promise<{ bytes: number }>;
  /** Writes a small object in one request. */
  putBytes(key: string, body: string | Uint8Array, options?: { contentType?: string }): Promise<void>;
  /** Reads an object as a stream; IngestError `NOT_FOUND` when missing. */
  get(key: string, options?: { signal?: AbortSignal }): Promise<Readable>;
  exists(key: string): Promise<boolean>;
  /** Objects whose key starts with `prefix`, sorted by key. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** Deletes keys; missing keys are not an error. */
  delete(keys: string[]): Promise<void>;
  close?(): void;
}

/** Rejects keys that could escape the root or are not plain relative paths. */
export function assertKey(key: string): void {
  if (
    typeof key !== 'string' ||
    key.length === 0 ||
    key.startsWith('/') ||
    key.endsWith('/') ||
    key.includes('\\') ||
    key.includes('\0') ||
    key.split('/').some((s) => s === '' || s === '.' || s === '..')
  ) {
    throw new IngestError('INVALID_KEY', `invalid object key ${JSON.stringify(key)}`);
  }
}
