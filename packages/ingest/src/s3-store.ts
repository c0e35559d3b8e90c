import { Readable, pipeline as streamPipeline, Transform } from 'node:stream';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { IngestError } from './errors.js';
import { assertKey, type ObjectInfo, type ObjectStore, type PutOptions } from './object-store.js';

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

/** Options for {@link createS3Store}. */
export interface S3StoreOptions extends S3ClientOptions {
  bucket: string;
  /** Key prefix of the store root, with or without a trailing slash. */
  prefix?: string;
  /** An injected client; the store then never destroys it. */
  client?: S3Client;
  /** Multipart part size in bytes (S3 minimum 5 MiB). Default 8 MiB. */
  partSize?: number;
  /** Parts uploaded concurrently per object. Default 4. */
  queueSize?: number;
}

/**
 * Builds an S3Client from plain options (path-style and WHEN_REQUIRED checksums when an endpoint is set).
 *
 * @example
 * const client = createS3Client({ endpoint: 'http://localhost:9000', region: 'us-east-1' });
 */
export function createS3Client(options: S3ClientOptions = {}): S3Client {
  const checksum = options.checksum ?? (options.endpoint ? 'when_required' : 'when_supported');
  const mode = checksum === 'when_required' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED';
  return new S3Client({
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    region: options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(options.credentials ? { credentials: options.credentials } : {}),
    forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
    requestChecksumCalculation: mode,
    responseChecksumValidation: mode,
  });
}

const MIN_PART_SIZE = 5 * 1024 * 1024; // S3 rejects non-final parts below 5 MiB.

/** Converts an SDK error for `key` into an IngestError (NOT_FOUND for 404s). */
export function s3Error(op: string, key: string, cause: unknown): IngestError {
  if (cause instanceof IngestError) return cause;
  const e = cause as { name?: string; $metadata?: { httpStatusCode?: number }; code?: string };
  const status = e?.$metadata?.httpStatusCode;
  if (e?.name === 'NoSuchKey' || e?.name === 'NotFound' || status === 404) {
    return new IngestError('NOT_FOUND', `object not found: ${key}`, { location: key, cause, status: 404 });
  }
  if (e?.name === 'AbortError')
    return new IngestError('ABORTED', `s3 ${op} aborted: ${key}`, { location: key, cause });
  const retryable = status === undefined || status === 429 || status >= 500;
  return new IngestError('STORE', `s3 ${op} failed for ${key}${status ? ` (HTTP ${status})` : ''}`, {
    location: key,
    retryable,
    cause,
    ...(status ? { status } : {}),
  });
}

/**
 * An {@link ObjectStore} on S3 or an S3-compatible server. `put` streams through lib-storage's
 * `Upload` (bounded memory: `queueSize × partSize`) and aborts the multipart upload on every
 * failure, including a failing or aborted body stream.
 *
 * @example
 * const store = createS3Store({ bucket: 'lake', prefix: 'raw', endpoint: 'http://127.0.0.1:9000',
 *   credentials: { accessKeyId: 'minio', secretAccessKey: 'minio123' } });
 */
export function createS3Store(options: S3StoreOptions): ObjectStore {
  const ownsClient = options.client === undefined;
  const client = options.client ?? createS3Client(options);
  const bucket = options.bucket;
  const base = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
  const rootPrefix = base === '' ? '' : `${base}/`;
  const partSize = Math.max(MIN_PART_SIZE, options.partSize ?? 8 * 1024 * 1024);
  const queueSize = Math.max(1, options.queueSize ?? 4);
  const fullKey = (key: string): string => {
    assertKey(key);
    return rootPrefix + key;
  };

  return {
    url: `s3://${bucket}/${rootPrefix}`,

    async put(key: string, body: Readable, putOptions: PutOptions = {}): Promise<{ bytes: number }> {
      const Key = fullKey(key);
      let bytes = 0;
      const counted = new Transform({
        readableHighWaterMark: 1 << 20,
        writableHighWaterMark: 1 << 20,
        transform(chunk: Buffer, _enc, done) {
          bytes += chunk.length;
          done(null, chunk);
        },
      });
      // Errors of either side destroy both; the Upload sees a failing body and aborts.
      streamPipeline(body, counted, () => undefined);
      // Abort by failing the body: lib-storage then aborts the multipart upload *before* done()
      // rejects (upload.abort() would reject done() first and abort in the background).
      const onAbort = (): void => {
        counted.destroy(new IngestError('ABORTED', `upload aborted: ${key}`, { location: key }));
      };
      const { signal } = putOptions;
      if (signal?.aborted) onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const upload = new Upload({
          client,
          partSize,
          queueSize,
          leavePartsOnError: false,
          params: {
            Bucket: bucket,
            Key,
            Body: counted,
            ...(putOptions.contentType ? { ContentType: putOptions.contentType } : {}),
          },
        });
        await upload.done();
      } catch (error) {
        const streamError = counted.errored ?? body.errored;
        counted.destroy();
        if (streamError instanceof IngestError) throw streamError;
        if (error instanceof IngestError) throw error;
        throw s3Error('put', key, error);
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
      return { bytes };
    },

    async putBytes(key, body, putOptions = {}) {
      try {
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: fullKey(key),
            Body: body,
            // Explicit, so an empty body is not mistaken for a stream of unknown length.
            ContentLength: typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength,
            ...(putOptions.contentType ? { ContentType: putOptions.contentType } : {}),
          }),
        );
      } catch (error) {
        throw s3Error('putBytes', key, error);
      }
    },

    async get(key, getOptions = {}) {
      try {
        const res = await client.send(
          new GetObjectCommand({ Bucket: bucket, Key: fullKey(key) }),
          getOptions.signal ? { abortSignal: getOptions.signal } : {},
        );
        const stream = res.Body;
        if (!(stream instanceof Readable)) throw new Error('GetObject returned no Node.js stream body');
        return stream;
      } catch (error) {
        throw s3Error('get', key, error);
      }
    },

    async exists(key) {
      try {
        await client.send(new HeadObjectCommand({ Bucket: bucket, Key: fullKey(key) }));
        return true;
      } catch (error) {
        const mapped = s3Error('head', key, error);
        if (mapped.code === 'NOT_FOUND') return false;
        throw mapped;
      }
    },

    async *list(prefix: string): AsyncIterable<ObjectInfo> {
      let token: string | undefined;
      do {
        let page: import('@aws-sdk/client-s3').ListObjectsV2CommandOutput;
        try {
          page = await client.send(
            new ListObjectsV2Command({
              Bucket: bucket,
              Prefix: rootPrefix + prefix,
              ContinuationToken: token,
            }),
          );
        } catch (error) {
          throw s3Error('list', prefix, error);
        }
        for (const o of page.Contents ?? []) {
          if (o.Key?.startsWith(rootPrefix)) yield { key: o.Key.slice(rootPrefix.length), size: o.Size ?? 0 };
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },

    async delete(keys) {
      // DeleteObjects takes at most 1000 keys per request.
      for (let i = 0; i < keys.length; i += 1000) {
        const batch = keys.slice(i, i + 1000).map((k) => ({ Key: fullKey(k) }));
        let res: import('@aws-sdk/client-s3').DeleteObjectsCommandOutput;
        try {
          res = await client.send(
            new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch, Quiet: true } }),
          );
        } catch (error) {
          throw s3Error('delete', batch[0]?.Key ?? '', error);
        }
        const failed = res.Errors?.[0];
        if (failed) {
          throw new IngestError(
            'STORE',
            `s3 delete failed for ${failed.Key ?? '?'}: ${failed.Code ?? 'unknown'}`,
            {
              location: failed.Key ?? '',
              retryable: true,
            },
          );
        }
      }
    },

    close() {
      if (ownsClient) client.destroy();
    },
  };
}
