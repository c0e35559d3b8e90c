import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { IngestError } from './errors.js';
import { assertKey, type ObjectStore } from './object-store.js';
import {
  guardBody,
  loadS3Sdk,
  type S3ClientOptions,
  type S3Sdk,
  s3ClientConfig,
  s3Error,
} from './s3-client.js';
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

/** The SDK and the store's client, loaded together on the store's first operation. */
interface S3Connection {
  sdk: S3Sdk;
  client: S3Client;
}

/** The parts of a store that talk to S3, shared by its methods and the helpers below. */
interface S3Root {
  connect(): Promise<S3Connection>;
  bucket: string;
  rootPrefix: string;
  fullKey(key: string): string;
}

/**
 * An {@link ObjectStore} on S3 or an S3-compatible server. `put` streams through lib-storage's
 * `Upload` and aborts the multipart upload on every failure. `putIfAbsent` uses
 * `If-None-Match: *` only after a probe saw the server answer 412 on an existing key (s3rver
 * and some S3-compatible servers ignore the header; there it reports `unsupported`). The AWS SDK
 * is imported on the first operation, not when the store is created.
 *
 * @example
 * const store = createS3Store({ bucket: 'lake', prefix: 'raw', endpoint: 'http://127.0.0.1:9000',
 *   credentials: { accessKeyId: 'minio', secretAccessKey: 'minio123' } });
 */
export function createS3Store(options: S3StoreOptions): ObjectStore {
  const ownsClient = options.client === undefined;
  const lazy = lazyConnection(options);
  const { connect } = lazy;
  const { bucket } = options;
  const base = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
  const rootPrefix = base === '' ? '' : `${base}/`;
  const fullKey = (key: string): string => {
    assertKey(key);
    return rootPrefix + key;
  };
  const s3: S3Root = { connect, bucket, rootPrefix, fullKey };
  const partSize = Math.max(MIN_PART_SIZE, options.partSize ?? 8 * 1024 * 1024);
  const queueSize = Math.max(1, options.queueSize ?? 4);
  let conditional: Promise<boolean> | undefined;
  const putSmall = (key: string, body: string | Uint8Array, extra: PutExtra) =>
    putObject(s3, key, body, extra);

  return {
    url: `s3://${bucket}/${rootPrefix}`,
    put: (key, body, putOptions = {}) => {
      const client = async () => (await connect()).client;
      return uploadStream(
        { client, bucket, fullKey: fullKey(key), key, partSize, queueSize },
        body,
        putOptions,
      );
    },

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
        const { sdk, client } = await connect();
        const res = await client.send(
          new sdk.GetObjectCommand({ Bucket: bucket, Key: fullKey(key) }),
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
        const { sdk, client } = await connect();
        await client.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: fullKey(key) }));
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
      const { sdk, client } = await connect();
      await client
        .send(
          new sdk.AbortMultipartUploadCommand({
            Bucket: bucket,
            Key: fullKey(write.key),
            UploadId: write.id,
          }),
        )
        .catch((error: unknown) => {
          // Already completed or aborted: nothing left to collect.
          if ((error as { name?: string })?.name === 'NoSuchUpload') return;
          throw s3Error('abortMultipartUpload', write.key, error);
        });
    },

    delete: (keys) => deleteObjects(s3, keys),

    close() {
      // A store that never ran an operation has no client (and never loaded the SDK).
      if (ownsClient)
        void lazy
          .current()
          ?.then(({ client }) => client.destroy())
          .catch(() => undefined);
    },
  };
}

/** The store's connection, made on the first `connect()` (SDK import and client). */
interface LazyConnection {
  connect(): Promise<S3Connection>;
  /** The connection once one was started, for `close()`. */
  current(): Promise<S3Connection> | undefined;
}

function lazyConnection(options: S3StoreOptions): LazyConnection {
  let connection: Promise<S3Connection> | undefined;
  return {
    connect() {
      connection ??= loadS3Sdk().then((sdk) => ({
        sdk,
        client: options.client ?? new sdk.S3Client(s3ClientConfig(options)),
      }));
      return connection;
    },
    current: () => connection,
  };
}

type PutExtra = { ContentType?: string; IfNoneMatch?: string };

/** PutObject of a small in-memory body. */
async function putObject(s3: S3Root, key: string, body: string | Uint8Array, extra: PutExtra) {
  const { sdk, client } = await s3.connect();
  return client.send(
    new sdk.PutObjectCommand({
      Bucket: s3.bucket,
      Key: s3.fullKey(key),
      Body: body,
      // Explicit, so an empty body is not mistaken for a stream of unknown length.
      ContentLength: typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength,
      ...extra,
    }),
  );
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
  const { sdk, client } = await s3.connect();
  let token: string | undefined;
  do {
    const page = await client
      .send(
        new sdk.ListObjectsV2Command({
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
  const { sdk, client } = await s3.connect();
  do {
    const page = await client
      .send(
        new sdk.ListMultipartUploadsCommand({
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
  const { sdk, client } = await s3.connect();
  // DeleteObjects takes at most 1000 keys per request.
  for (let i = 0; i < keys.length; i += 1000) {
    const batch = keys.slice(i, i + 1000).map((k) => ({ Key: s3.fullKey(k) }));
    const res = await client
      .send(new sdk.DeleteObjectsCommand({ Bucket: s3.bucket, Delete: { Objects: batch, Quiet: true } }))
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
