import { type Readable, pipeline as streamPipeline, Transform } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Upload } from '@aws-sdk/lib-storage';
import { IngestError } from './errors.js';
import type { PutOptions } from './object-store.js';
import { loadS3Package } from './optional-dependency.js';
import { s3Error } from './s3-client.js';

/** Where and how {@link uploadStream} writes. */
export interface UploadTarget {
  /** The client, awaited only once the body is wired (so a body failing meanwhile is handled). */
  client(): Promise<S3Client>;
  bucket: string;
  /** Full object key (store prefix included). */
  fullKey: string;
  /** Key relative to the store root, for messages and callbacks. */
  key: string;
  partSize: number;
  queueSize: number;
}

/**
 * Streams `body` to one object through lib-storage's `Upload` (bounded memory: `queueSize ×
 * partSize`) and aborts the multipart upload on every failure, including a failing or aborted
 * body. `onIncomplete` learns the UploadId as soon as the first part is stored, so a run killed
 * later can have its upload aborted by id.
 */
export async function uploadStream(
  target: UploadTarget,
  body: Readable,
  options: PutOptions = {},
): Promise<{ bytes: number }> {
  const { key } = target;
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
  const { signal } = options;
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    // Loaded on the first upload only: the SDK is heavy and most commands never write to S3.
    const [{ Upload }, client] = await Promise.all([
      loadS3Package('@aws-sdk/lib-storage', () => import('@aws-sdk/lib-storage')),
      target.client(),
    ]);
    const upload = new Upload({
      client,
      partSize: target.partSize,
      queueSize: target.queueSize,
      leavePartsOnError: false,
      params: {
        Bucket: target.bucket,
        Key: target.fullKey,
        Body: counted,
        ...(options.contentType ? { ContentType: options.contentType } : {}),
      },
    });
    if (options.onIncomplete) reportUploadId(upload, key, options.onIncomplete);
    await upload.done();
  } catch (error) {
    const streamError = counted.errored ?? body.errored;
    counted.destroy();
    if (streamError instanceof IngestError) throw streamError;
    throw s3Error('put', key, error);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  return { bytes };
}

/** Calls `report` once with the multipart UploadId (lib-storage sets it before the first part). */
function reportUploadId(upload: Upload, key: string, report: NonNullable<PutOptions['onIncomplete']>): void {
  const started = new Date();
  const listener = (): void => {
    // Not in lib-storage's typings, but a stable field of the class since v3.0.
    const id = (upload as unknown as { uploadId?: string }).uploadId;
    if (id === undefined) return;
    upload.off('httpUploadProgress', listener);
    report({ key, id, started });
  };
  upload.on('httpUploadProgress', listener);
}
