import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { IngestError } from './errors.js';
import { assertKey, type ObjectStore } from './object-store.js';
import { createS3Client, guardBody, type S3ClientOptions, s3Error } from './s3-client.js';
import { uploadStream } from './s3-upload.js';

export { createS3Client, type S3ClientOptions } from './s3-client.js';

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

const MIN_PART_SIZE = 5 * 1024 * 1024; // S3 rejects non-final parts below 5 MiB.

/** The parts of a store that talk to S3, shared by its methods and the helpers below. */
interface S3Root {
  client: S3Client;
  bucket: string;
  rootPrefix: string;
  fullKey(key: string): string;
}

/**
 * An {@link ObjectStore} on S3 or an S3-compatible server. `put` streams through lib-storage's
 * `Upload` and aborts the multipart upload on every failure. `putIfAbsent` uses
 * `If-None-Match: *` only after a probe saw the server answer 412 on an existing key (s3rver
 * and some S3-compatible servers ignore the header; there it reports `unsupported`).
 *
 * @example
 * const store = createS3Store({ bucket: 'lake', prefix: 'raw', endpoint: 'http://127.0.0.1:9000',
 *   credentials: { accessKeyId: 'minio', secretAccessKey: 'minio123' } });
 */
export function createS3Store(options: S3StoreOptions): ObjectStore {
  const ownsClient = options.client === undefined;
  const client = options.client ?? createS3Client(options);
  const { bucket } = options;
  const base = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
  const rootPrefix = base === '' ? '' : `${base}/`;
  const fullKey = (key: string): string => {
    assertKey(key);
    return rootPrefix + key;
  };
  const s3: S3Root = { client, bucket, rootPrefix, fullKey };
  const partSize = Math.max(MIN_PART_SIZE, options.partSize ?? 8 * 1024 * 1024);
  const queueSize = Math.max(1, options.queueSize ?? 4);
  let conditional: Promise<boolean> | undefined;
  const putSmall = (
    key: string,
    body: string | Uint8Array,
    extra: { ContentType?: string; IfNoneMatch?: string },
  ) =>
    client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: fullKey(key),
        Body: body,
        // Explicit, so an empty body is not mistaken for a stream of unknown length.
        ContentLength: typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength,
        ...extra,
      }),
    );

  return {
    url: `s3://${bucket}/${rootPrefix}`,
    put: (key, body, putOptions = {}) =>
      uploadStream({ client, bucket, fullKey: fullKey(key), key, partSize, queueSize }, body, putOptions),

    async putBytes(key, body, putOptions = {}) {
      await putSmall(key, body, putOptions.contentType ? { ContentType: putOptions.contentType } : {}).catch(
        (error: unknown) => {
          throw s3Error('putBytes', key, error);
        },
      );
    },

    async putIfAbsent(key, body) {
      conditional ??= probeConditionalPut(putSmall, (keys) => deleteObjects(s3, keys));
      if (!(await conditional)) return 'unsupported';
      try {
        await putSmall(key, body, { IfNoneMatch: '*' });
        return 'created';
      } catch (error) {
        if (isPreconditionFailed(error)) return 'exists';
        throw s3Error('putIfAbsent', key, error);
      }
    },

    async get(key, getOptions = {}) {
      try {
        const res = await client.send(
          new GetObjectCommand({ Bucket: bucket, Key: fullKey(key) }),
          getOptions.signal ? { abortSignal: getOptions.signal } : {},
        );
        if (!(res.Body instanceof Readable)) throw new Error('GetObject returned no Node.js stream body');
        return guardBody(res.Body, key);
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

    list: (prefix) => listObjects(s3, prefix),
    listIncomplete: (prefix) => listUploads(s3, prefix),

    async abortIncomplete(write) {
      await client
        .send(
          new AbortMultipartUploadCommand({ Bucket: bucket, Key: fullKey(write.key), UploadId: write.id }),
        )
        .catch((error: unknown) => {
          // Already completed or aborted: nothing left to collect.
          if ((error as { name?: string })?.name === 'NoSuchUpload') return;
          throw s3Error('abortMultipartUpload', write.key, error);
        });
    },

    delete: (keys) => deleteObjects(s3, keys),

    close() {
      if (ownsClient) client.destroy();
    },
  };
}

const isPreconditionFailed = (error: unknown): boolean =>
  (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode === 412 ||
  (error as { name?: string })?.name === 'PreconditionFailed';

/** True when the server refuses `If-None-Match: *` on an existing key (412), as AWS S3 does. */
async function probeConditionalPut(
  putSmall: (key: string, body: string, extra: { IfNoneMatch?: string }) => Promise<unknown>,
  remove: (keys: string[]) => Promise<void>,
): Promise<boolean> {
  const key = `_dataflow/probe-${randomBytes(6).toString('hex')}`;
  try {
    await putSmall(key, 'probe', {});
    await putSmall(key, 'probe', { IfNoneMatch: '*' });
    return false;
  } catch (error) {
    if (isPreconditionFailed(error)) return true;
    throw s3Error('probe conditional put', key, error);
  } finally {
    await remove([key]).catch(() => undefined);
  }
}

async function* listObjects(s3: S3Root, prefix: string) {
  let token: string | undefined;
  do {
    const page = await s3.client
      .send(
        new ListObjectsV2Command({
          Bucket: s3.bucket,
          Prefix: s3.rootPrefix + prefix,
          ContinuationToken: token,
        }),
      )
      .catch((error: unknown) => {
        throw s3Error('list', prefix, error);
      });
    for (const o of page.Contents ?? []) {
      if (o.Key?.startsWith(s3.rootPrefix))
        yield {
          key: o.Key.slice(s3.rootPrefix.length),
          size: o.Size ?? 0,
          lastModified: o.LastModified ?? new Date(0),
        };
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

async function* listUploads(s3: S3Root, prefix: string) {
  let keyMarker: string | undefined;
  let idMarker: string | undefined;
  do {
    const page = await s3.client
      .send(
        new ListMultipartUploadsCommand({
          Bucket: s3.bucket,
          Prefix: s3.rootPrefix + prefix,
          KeyMarker: keyMarker,
          UploadIdMarker: idMarker,
        }),
      )
      .catch((error: unknown) => {
        throw s3Error('listMultipartUploads', prefix, error);
      });
    for (const u of page.Uploads ?? []) {
      if (u.Key?.startsWith(s3.rootPrefix) && u.UploadId)
        yield { key: u.Key.slice(s3.rootPrefix.length), id: u.UploadId, started: u.Initiated ?? new Date(0) };
    }
    keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    idMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
  } while (keyMarker);
}

async function deleteObjects(s3: S3Root, keys: string[]): Promise<void> {
  // DeleteObjects takes at most 1000 keys per request.
  for (let i = 0; i < keys.length; i += 1000) {
    const batch = keys.slice(i, i + 1000).map((k) => ({ Key: s3.fullKey(k) }));
    const res = await s3.client
      .send(new DeleteObjectsCommand({ Bucket: s3.bucket, Delete: { Objects: batch, Quiet: true } }))
      .catch((error: unknown) => {
        throw s3Error('delete', batch[0]?.Key ?? '', error);
      });
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
}
