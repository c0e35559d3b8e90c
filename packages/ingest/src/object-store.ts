import type { Readable } from 'node:stream';
import { IngestError } from './errors.js';

/** One object under a store root. */
export interface ObjectInfo {
  /** Key relative to the store root. */
  key: string;
  size: number;
  /** When the object was last written (grace periods and sweeps compare against it). */
  lastModified: Date;
}

/**
 * An incomplete write left under a prefix: an open S3 multipart upload, or a hidden `.tmp-` file
 * of the filesystem store. A killed run leaves these behind; {@link ObjectStore.abortIncomplete}
 * removes one by id.
 */
export interface IncompleteWrite {
  /** The key being written. */
  key: string;
  /** S3 UploadId, or the temp file's name. */
  id: string;
  started: Date;
}

/** Options for {@link ObjectStore.put}. */
export interface PutOptions {
  contentType?: string;
  signal?: AbortSignal;
  /** Called with the id of the incomplete write (S3 UploadId) once the store knows it. */
  onIncomplete?: (write: IncompleteWrite) => void;
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
  /**
   * Creates `key` only if it does not exist: `created`, `exists`, or `unsupported` when the store
   * cannot do it atomically (an S3-compatible server that ignores `If-None-Match`, found by a probe).
   */
  putIfAbsent?(key: string, body: string): Promise<'created' | 'exists' | 'unsupported'>;
  /** Incomplete writes under `prefix` (open multipart uploads, temp files). */
  listIncomplete?(prefix: string): AsyncIterable<IncompleteWrite>;
  /** Aborts one incomplete write by id; an already finished or aborted one is not an error. */
  abortIncomplete?(write: IncompleteWrite): Promise<void>;
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
