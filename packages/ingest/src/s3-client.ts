import { createRequire } from 'node:module';
import { finished, PassThrough, type Readable } from 'node:stream';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { IngestError } from './errors.js';
import { loadS3Package, requireS3Package } from './optional-dependency.js';

/** Connection settings for an S3 client built by this package. */
export interface S3ClientOptions {
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Path-style addressing; defaults to true whenever an endpoint is set (MinIO, s3rver, ...). */
  forcePathStyle?: boolean;
  /**
   * `when_required` (default when an endpoint is set) sends checksums only where S3 requires
   * them, for S3-compatible stores that reject the SDK's default CRC32 headers.
   */
  checksum?: 'when_required' | 'when_supported';
}

/** The AWS SDK's S3 module, loaded on first use so commands without an `s3://` location never pay for it. */
export type S3Sdk = typeof import('@aws-sdk/client-s3');

let sdk: Promise<S3Sdk> | undefined;

/**
 * Loads `@aws-sdk/client-s3` once. The package has no `exports` map, so `import()` and
 * `require()` both resolve to its CommonJS build: one module instance for both paths.
 */
export const loadS3Sdk = (): Promise<S3Sdk> => {
  sdk ??= loadS3Package('@aws-sdk/client-s3', () => import('@aws-sdk/client-s3'));
  return sdk;
};

/**
 * The S3Client configuration for plain options: path-style and WHEN_REQUIRED checksums when an
 * endpoint is set, the region from the options, `AWS_REGION`, `AWS_DEFAULT_REGION`, else us-east-1.
 *
 * @example
 * s3ClientConfig({ endpoint: 'http://localhost:9000' }).forcePathStyle; // true
 */
export function s3ClientConfig(options: S3ClientOptions = {}): S3ClientConfig {
  const checksum = options.checksum ?? (options.endpoint ? 'when_required' : 'when_supported');
  const mode = checksum === 'when_required' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED';
  return {
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    region: options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(options.credentials ? { credentials: options.credentials } : {}),
    forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
    requestChecksumCalculation: mode,
    responseChecksumValidation: mode,
  };
}

/**
 * Builds an S3Client from plain options (see {@link s3ClientConfig}). Synchronous, so it loads the
 * SDK with `require` on its first call; the package's own code awaits {@link loadS3Sdk} instead.
 *
 * @example
 * const client = createS3Client({ endpoint: 'http://localhost:9000', region: 'us-east-1' });
 */
export function createS3Client(options: S3ClientOptions = {}): S3Client {
  const { S3Client: Client } = requireS3Package(
    '@aws-sdk/client-s3',
    () => createRequire(import.meta.url)('@aws-sdk/client-s3') as S3Sdk,
  );
  return new Client(s3ClientConfig(options));
}

interface SdkErrorShape {
  name?: string;
  code?: unknown;
  errno?: unknown;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  errors?: unknown[];
}

/**
 * The reason of an SDK or network failure in a few words, for the one-line message: the S3 error
 * name (`NoSuchBucket`, `AccessDenied`), else the system error code (`ECONNREFUSED`, `ENOSPC`).
 * Never the raw message, which may echo request details.
 *
 * @example
 * causeReason(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })); // 'ECONNREFUSED'
 */
export function causeReason(cause: unknown): string | undefined {
  const e = cause as SdkErrorShape | undefined;
  if (e === null || typeof e !== 'object') return undefined;
  if (typeof e.code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(e.code)) return e.code;
  if (e.name && e.name !== 'Error' && e.name !== 'AggregateError' && /^[A-Za-z][\w.]*$/.test(e.name))
    return e.name;
  for (const inner of [...(e.errors ?? []), (e as { cause?: unknown }).cause]) {
    const reason = inner === cause ? undefined : causeReason(inner);
    if (reason) return reason;
  }
  return undefined;
}

/** Converts an SDK error for `key` into an IngestError (NOT_FOUND for 404s), keeping the reason. */
export function s3Error(op: string, key: string, cause: unknown): IngestError {
  if (cause instanceof IngestError) return cause;
  const e = cause as SdkErrorShape;
  const status = e?.$metadata?.httpStatusCode;
  if (e?.name === 'NoSuchKey' || e?.name === 'NotFound' || (status === 404 && e?.name !== 'NoSuchBucket')) {
    return new IngestError('NOT_FOUND', `object not found: ${key}`, { location: key, cause, status: 404 });
  }
  if (e?.name === 'AbortError')
    return new IngestError('ABORTED', `s3 ${op} aborted: ${key}`, { location: key, cause });
  // A missing bucket or refused credentials will not fix themselves on a retry.
  const permanent = ['NoSuchBucket', 'AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch'];
  const reason = causeReason(cause);
  const retryable =
    !permanent.includes(reason ?? '') && (status === undefined || status === 429 || status >= 500);
  const detail = [status ? `HTTP ${status}` : undefined, reason].filter(Boolean).join(' ');
  return new IngestError('STORE', `s3 ${op} failed for ${key}${detail ? ` (${detail})` : ''}`, {
    location: key,
    retryable,
    cause,
    ...(status ? { status } : {}),
  });
}

/**
 * Re-emits the errors of an S3 response body as {@link IngestError}s that name the object and the
 * reason, so a body stream that dies mid-read (ECONNRESET, a truncated response) is reported as
 * an S3 read failure, never as a failure of whatever the bytes were flowing into.
 */
export function guardBody(body: Readable, key: string): Readable {
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  finished(body, (error) => {
    if (!error || out.destroyed) return;
    const reason = causeReason(error);
    out.destroy(
      new IngestError('STORE', `s3 get: body of ${key} failed mid-stream${reason ? ` (${reason})` : ''}`, {
        location: key,
        retryable: true,
        cause: error,
      }),
    );
  });
  // Not pipeline(): it would destroy `out` with the raw error before it could be mapped.
  body.pipe(out);
  // Destroying the reader (e.g. an aborted load) releases the HTTP response too.
  out.once('close', () => {
    if (!body.destroyed) body.destroy();
  });
  return out;
}
