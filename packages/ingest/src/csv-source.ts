import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { IngestError } from './errors.js';
import { httpGet } from './http-client.js';
import type { Logger } from './logger.js';
import { redactUrl } from './redact.js';
import type { RetryPolicy } from './retry.js';
import { guardBody, loadS3Sdk, type S3ClientOptions, s3ClientConfig, s3Error } from './s3-client.js';

/** Where a CSV comes from, after template rendering. */
export type SourceLocation =
  | { kind: 'file'; path: string; display: string }
  | { kind: 'http'; url: string; display: string }
  | { kind: 's3'; bucket: string; key: string; display: string };

/** Classifies a rendered location: `s3://bucket/key`, `http(s)://…`, `file://…` or a local path. */
export function parseSourceLocation(location: string, cwd: string): SourceLocation {
  if (/^https?:\/\//i.test(location)) return { kind: 'http', url: location, display: redactUrl(location) };
  if (/^s3:\/\//i.test(location)) {
    const rest = location.slice(5);
    const slash = rest.indexOf('/');
    if (slash <= 0 || slash === rest.length - 1) {
      throw new IngestError('INVALID_URL', 'an s3 location must be s3://bucket/key');
    }
    return { kind: 's3', bucket: rest.slice(0, slash), key: rest.slice(slash + 1), display: location };
  }
  if (/^file:/i.test(location)) {
    const path = /^file:\/\/\//i.test(location)
      ? fileURLToPath(location)
      : resolve(cwd, decodeURIComponent(location.replace(/^file:(\/\/)?/i, '')));
    return { kind: 'file', path, display: path };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
    throw new IngestError(
      'INVALID_URL',
      `unsupported location scheme: ${location.slice(0, location.indexOf(':'))}`,
    );
  }
  const path = isAbsolute(location) ? location : resolve(cwd, location);
  return { kind: 'file', path, display: path };
}

/** True when the location names a gzip file (`.gz`, ignoring a URL query/fragment). */
export function isGzipLocation(location: SourceLocation): boolean {
  const name =
    location.kind === 'file'
      ? location.path
      : location.kind === 's3'
        ? location.key
        : new URL(location.url).pathname;
  return /\.gz$/i.test(name);
}

export interface OpenSourceOptions {
  source: string;
  signal?: AbortSignal;
  logger: Logger;
  retry: RetryPolicy;
  timeoutMs: number;
  headers?: Record<string, string>;
  s3?: S3ClientOptions;
}

/** An opened CSV location: its bytes, and how many there are when the source says (for an ETA). */
export interface OpenedSource {
  stream: Readable;
  /** A file's size, an HTTP response's `content-length`, an S3 object's `ContentLength`. */
  totalBytes?: number;
}

/** The `content-length` of a response, when it is one non-negative integer. */
export function contentLength(headers: Record<string, string | string[] | undefined>): number | undefined {
  const value = headers['content-length'];
  if (typeof value !== 'string' || !/^\d+$/.test(value.trim())) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}

const withTotal = (stream: Readable, totalBytes: number | undefined): OpenedSource =>
  totalBytes === undefined ? { stream } : { stream, totalBytes };

/** Opens the byte stream of a CSV location (no decoding, no gunzip). */
export async function openSource(
  location: SourceLocation,
  options: OpenSourceOptions,
): Promise<OpenedSource> {
  const { source, signal } = options;
  switch (location.kind) {
    case 'file': {
      let size: number;
      try {
        const info = await stat(location.path);
        if (!info.isFile()) throw Object.assign(new Error('not a file'), { code: 'ENOENT' });
        size = info.size;
      } catch (cause) {
        const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
        throw new IngestError(
          missing ? 'NOT_FOUND' : 'SOURCE',
          `${source}: cannot read ${location.display}`,
          {
            source,
            location: location.display,
            cause,
          },
        );
      }
      return withTotal(
        createReadStream(location.path, { highWaterMark: 1 << 20, ...(signal ? { signal } : {}) }),
        size,
      );
    }
    case 'http':
      return httpGet({
        url: location.url,
        headers: options.headers ?? {},
        timeoutMs: options.timeoutMs,
        retry: options.retry,
        logger: options.logger,
        source,
        streamBody: true,
        ...(signal ? { signal } : {}),
        consume: async (res) => withTotal(res.body, contentLength(res.headers)),
      });
    case 's3': {
      const { GetObjectCommand, S3Client } = await loadS3Sdk();
      const client = new S3Client(
        s3ClientConfig({
          ...options.s3,
          ...(options.s3?.endpoint || !(process.env.AWS_ENDPOINT_URL_S3 || process.env.DATAFLOW_S3_ENDPOINT)
            ? {}
            : { endpoint: (process.env.AWS_ENDPOINT_URL_S3 || process.env.DATAFLOW_S3_ENDPOINT) as string }),
        }),
      );
      try {
        const res = await client.send(
          new GetObjectCommand({ Bucket: location.bucket, Key: location.key }),
          signal ? { abortSignal: signal } : {},
        );
        const body = res.Body as Readable | undefined;
        if (!body || typeof body.pipe !== 'function') throw new Error('GetObject returned no stream');
        body.once('close', () => client.destroy());
        return withTotal(guardBody(body, location.display), res.ContentLength);
      } catch (error) {
        client.destroy();
        const mapped = s3Error('get', location.display, error);
        throw new IngestError(mapped.code, `${source}: ${mapped.message}`, {
          source,
          location: location.display,
          retryable: mapped.retryable,
          cause: error,
        });
      }
    }
  }
}
