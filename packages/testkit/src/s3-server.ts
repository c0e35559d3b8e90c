import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import S3rver from 's3rver';

/** A running S3-protocol server reachable over HTTP. */
export interface S3ServerHandle {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  stop(): Promise<void>;
}

interface KoaContext {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  status: number;
  type: string;
  body: unknown;
}
type KoaMiddleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

const escapeXml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * s3rver implements multipart create/upload/complete but answers 501/405 to
 * AbortMultipartUpload and ListMultipartUploads. Both are part of the contract
 * the ingest package relies on (every failure path aborts; tests assert no open
 * upload remains), so the test server adds them over s3rver's own upload store.
 */
function multipartExtensions(root: string): KoaMiddleware {
  const uploadsDir = (bucket: string) => join(root, bucket, '._S3rver_uploads');
  return async (ctx, next) => {
    const segments = ctx.path.split('/').filter(Boolean);
    const bucket = segments[0];
    if (bucket && ctx.method === 'DELETE' && typeof ctx.query.uploadId === 'string' && segments.length > 1) {
      const dir = join(uploadsDir(bucket), ctx.query.uploadId);
      const exists = await readFile(join(dir, 'key')).then(
        () => true,
        () => false,
      );
      if (!exists) {
        ctx.status = 404;
        ctx.type = 'application/xml';
        ctx.body =
          '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message></Error>';
        return;
      }
      await rm(dir, { recursive: true, force: true });
      ctx.status = 204;
      ctx.body = '';
      return;
    }
    if (bucket && segments.length === 1 && ctx.method === 'GET' && 'uploads' in ctx.query) {
      const prefix = typeof ctx.query.prefix === 'string' ? ctx.query.prefix : '';
      const ids = await readdir(uploadsDir(bucket)).catch(() => [] as string[]);
      const uploads: string[] = [];
      for (const id of ids.sort()) {
        const key = await readFile(join(uploadsDir(bucket), id, 'key'), 'utf8').catch(() => undefined);
        if (key === undefined || !key.startsWith(prefix)) continue;
        // When the upload was created, as S3 reports it (sweeps of dead uploads compare against it).
        const initiated = await stat(join(uploadsDir(bucket), id, 'key')).then((s) => s.mtime.toISOString());
        uploads.push(
          `<Upload><Key>${escapeXml(key)}</Key><UploadId>${escapeXml(id)}</UploadId><Initiated>${initiated}</Initiated></Upload>`,
        );
      }
      ctx.status = 200;
      ctx.type = 'application/xml';
      ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult><Bucket>${escapeXml(bucket)}</Bucket><Prefix>${escapeXml(prefix)}</Prefix><IsTruncated>false</IsTruncated>${uploads.join('')}</ListMultipartUploadsResult>`;
      return;
    }
    await next();
  };
}

interface S3rverObject {
  bucket: string;
  key: string;
  content: Buffer | NodeJS.ReadableStream;
  metadata: unknown;
}
interface S3rverStore {
  getResourcePath(bucket: string, key: string, kind: 'object'): string;
  putMetadata(bucket: string, key: string, metadata: unknown, md5: string): Promise<void>;
  putObject(object: S3rverObject): Promise<{ size: number; md5: string }>;
}

/**
 * s3rver writes an object in place (and answers a buffered PUT before the bytes are flushed), so two
 * concurrent PUTs of one key interleave into a mix of both and a GET can see half an object. Real S3
 * PUTs are atomic; the test server's are made so too (temp file in the server's root, then rename),
 * or tests of concurrent writers would fail for the server's sake.
 */
function atomicPuts(store: S3rverStore, root: string): void {
  store.putObject = async (object) => {
    const target = store.getResourcePath(object.bucket, object.key, 'object');
    await mkdir(dirname(target), { recursive: true });
    const tmp = join(root, `.put-${randomBytes(8).toString('hex')}`);
    const md5 = createHash('md5');
    let size = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        md5.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    const body = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
    try {
      await pipeline(body, counted, createWriteStream(tmp));
      await rename(tmp, target);
    } finally {
      await rm(tmp, { force: true });
    }
    const digest = md5.digest('hex');
    await store.putMetadata(object.bucket, object.key, object.metadata, digest);
    return { size, md5: digest };
  };
}

/**
 * Starts s3rver on a free loopback port with a fresh bucket, in a temp directory.
 *
 * @example
 * const s3 = await startS3Server({ bucket: 'lake' });
 * // ... new S3Client({ endpoint: s3.endpoint, forcePathStyle: true, ... })
 * await s3.stop();
 */
export async function startS3Server(options: { bucket?: string } = {}): Promise<S3ServerHandle> {
  const bucket = options.bucket ?? 'dataflow-test';
  const directory = await mkdtemp(join(tmpdir(), 'dataflow-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  // Run the extensions before s3rver's router (the last middleware it registers).
  const stack = (server as unknown as { middleware: KoaMiddleware[] }).middleware;
  stack.splice(stack.length - 1, 0, multipartExtensions(directory));
  atomicPuts((server as unknown as { store: S3rverStore }).store, directory);
  const address = (await server.run()) as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    bucket,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    region: 'us-east-1',
    async stop() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
