import { randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import { createTestS3Client, type TestServices } from './services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dataflowTestServices: TestServices;
  }
}

/** The services started by the global setup (integration project only). */
export function testServices(): TestServices {
  const services = inject('dataflowTestServices');
  if (!services) throw new Error('test services are not running: is this an *.int.test.ts file?');
  return services;
}

const uniqueName = (prefix: string) => `${prefix}_${randomBytes(5).toString('hex')}`;

/** A per-test-file PostgreSQL schema with a pool whose search_path points at it. */
export interface TestDatabase {
  readonly url: string;
  readonly schema: string;
  readonly pool: pg.Pool;
  /** A pool connected to the same server with the same search_path, for code under test that builds its own. */
  connectionString(): string;
}

/**
 * Registers beforeAll/afterAll hooks that create an isolated schema for this test file and drop it
 * afterwards, even when tests fail. Fields are usable inside tests and hooks.
 *
 * @example
 * const db = useTestDatabase();
 * it('reads back', async () => { await db.pool.query('select 1'); });
 */
export function useTestDatabase(): TestDatabase {
  let state: { url: string; schema: string; pool: pg.Pool } | undefined;
  const get = () => {
    if (!state) throw new Error('useTestDatabase(): used outside a test');
    return state;
  };
  beforeAll(async () => {
    const url = testServices().databaseUrl;
    const schema = uniqueName('t');
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(`create schema "${schema}"`);
    } finally {
      await admin.end();
    }
    const pool = new pg.Pool({ connectionString: url, options: `-c search_path="${schema}",public`, max: 8 });
    pool.on('error', () => undefined);
    state = { url, schema, pool };
  });
  afterAll(async () => {
    if (!state) return;
    const { pool, schema } = state;
    await pool.query(`drop schema if exists "${schema}" cascade`).catch(() => undefined);
    await pool.end();
  });
  return {
    get url() {
      return get().url;
    },
    get schema() {
      return get().schema;
    },
    get pool() {
      return get().pool;
    },
    connectionString() {
      const u = new URL(get().url);
      u.searchParams.set('options', `-c search_path=${get().schema},public`);
      return u.toString();
    },
  };
}

/** A per-test-file key prefix in the test bucket, with a client configured for the store. */
export interface TestBucket {
  readonly client: S3Client;
  readonly bucket: string;
  readonly prefix: string;
  readonly s3: TestServices['s3'];
}

/**
 * Registers hooks that give this test file its own prefix in the test bucket and, afterwards,
 * delete every object and abort every multipart upload under it.
 */
export function useTestBucket(): TestBucket {
  let state: { client: S3Client; s3: TestServices['s3']; prefix: string } | undefined;
  const get = () => {
    if (!state) throw new Error('useTestBucket(): used outside a test');
    return state;
  };
  beforeAll(() => {
    const s3 = testServices().s3;
    state = { client: createTestS3Client(s3), s3, prefix: `${uniqueName('t')}/` };
  });
  afterAll(async () => {
    if (!state) return;
    const { client, s3, prefix } = state;
    try {
      await emptyPrefix(client, s3.bucket, prefix);
    } finally {
      client.destroy();
    }
  });
  return {
    get client() {
      return get().client;
    },
    get bucket() {
      return get().s3.bucket;
    },
    get prefix() {
      return get().prefix;
    },
    get s3() {
      return get().s3;
    },
  };
}

/** Deletes every object and aborts every multipart upload under a prefix. */
export async function emptyPrefix(client: S3Client, bucket: string, prefix: string): Promise<void> {
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
    if (keys.length > 0) {
      await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
  for (const u of uploads.Uploads ?? []) {
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
  }
}

/** Lists open multipart uploads under a prefix (tests assert this is empty after failures). */
export async function listOpenUploads(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const res = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
  return (res.Uploads ?? []).flatMap((u) => (u.Key ? [u.Key] : []));
}

/** A whole database of its own on the test server, for code that uses fixed schema names. */
export interface ScratchDatabase {
  readonly name: string;
  readonly url: string;
  /** A small pool on the database (closed by `drop()`). */
  readonly pool: pg.Pool;
  /** Closes the pool and drops the database, forcing out lingering connections. */
  drop(): Promise<void>;
}

/**
 * Creates a fresh database (`<prefix>_<random>`) on the test server. Call `drop()` in `afterAll`.
 *
 * @example
 * const scratch = await createScratchDatabase('shop');
 * // ... run code that creates schemas `analytics` and `dataflow` in scratch.url
 * await scratch.drop();
 */
export async function createScratchDatabase(prefix = 'scratch'): Promise<ScratchDatabase> {
  const serverUrl = testServices().databaseUrl;
  const name = uniqueName(prefix);
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`create database "${name}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
  pool.on('error', () => undefined); // a dropped database terminates idle clients: expected here
  return {
    name,
    url: url.toString(),
    pool,
    async drop() {
      await pool.end();
      await admin(`drop database if exists "${name}" with (force)`);
    },
  };
}
