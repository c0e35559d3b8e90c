import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IngestError } from './errors.js';
import { createFsStore } from './fs-store.js';
import type { ObjectStore } from './object-store.js';
import { createS3Store, type S3ClientOptions } from './s3-store.js';

/** Options for {@link openLake}. */
export interface OpenLakeOptions extends S3ClientOptions {
  /** Base directory for relative `file://` URLs and plain paths. Default `process.cwd()`. */
  cwd?: string;
  /** Environment to read `AWS_ENDPOINT_URL_S3` / `DATAFLOW_S3_ENDPOINT` from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  partSize?: number;
  queueSize?: number;
}

/**
 * Opens the lake at a URL: `s3://bucket/prefix`, `file:///abs/path`, `file://relative/path`
 * or a plain path. For S3 the endpoint comes from `options.endpoint`, else `AWS_ENDPOINT_URL_S3`,
 * else `DATAFLOW_S3_ENDPOINT`; path-style addressing is used whenever an endpoint is set.
 *
 * @example
 * const lake = openLake('file://.dataflow/lake');
 * const s3lake = openLake('s3://my-bucket/raw', { endpoint: 'http://127.0.0.1:9000' });
 */
export function openLake(url: string, options: OpenLakeOptions = {}): ObjectStore {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  if (/^s3:\/\//i.test(url)) {
    const rest = url.slice('s3://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    const prefix = slash < 0 ? '' : rest.slice(slash + 1);
    if (bucket === '' || /[@:]/.test(bucket))
      throw new IngestError('INVALID_URL', 'lake URL must be s3://bucket[/prefix]');
    const endpoint = options.endpoint ?? (env.AWS_ENDPOINT_URL_S3 || env.DATAFLOW_S3_ENDPOINT || undefined);
    return createS3Store({
      ...options,
      bucket,
      prefix,
      ...(endpoint ? { endpoint } : {}),
      forcePathStyle: options.forcePathStyle ?? endpoint !== undefined,
    });
  }
  if (/^file:/i.test(url)) {
    // file:///abs is a normal file URL; file://relative/path is accepted as relative to cwd.
    if (/^file:\/\/\//i.test(url)) return createFsStore({ root: fileURLToPath(url) });
    const path = decodeURIComponent(url.replace(/^file:(\/\/)?/i, ''));
    if (path === '') throw new IngestError('INVALID_URL', 'file lake URL has no path');
    return createFsStore({ root: isAbsolute(path) ? path : resolve(cwd, path) });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new IngestError('INVALID_URL', `unsupported lake URL scheme: ${url.slice(0, url.indexOf(':'))}`);
  }
  if (url === '') throw new IngestError('INVALID_URL', 'lake URL is empty');
  return createFsStore({ root: resolve(cwd, url) });
}
