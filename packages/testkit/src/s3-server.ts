import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
        uploads.push(`<Upload><Key>${escapeXml(key)}</Key><UploadId>${escapeXml(id)}</UploadId></Upload>`);
      }
      ctx.status = 200;
      ctx.type = 'application/xml';
      ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult><Bucket>${escapeXml(bucket)}</Bucket><Prefix>${escapeXml(prefix)}</Prefix><IsTruncated>false</IsTruncated>${uploads.join('')}</ListMultipartUploadsResult>`;
      return;
    }
    await next();
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
