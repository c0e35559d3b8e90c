import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { type PostgresServerHandle, startPostgresServer } from './postgres-server.js';
import { type S3ServerHandle, startS3Server } from './s3-server.js';

/** Where the test services are; plain data so vitest can hand it to every test file. */
export interface TestServices {
  databaseUrl: string;
  s3: {
    endpoint: string;
    bucket: string;
    region: string;
    accessKeyId: string;
    secretAccessKey: string;
  };
}

/** Builds an S3 client for the test store: path-style, checksums only when an operation needs them. */
export function createTestS3Client(s3: TestServices['s3']): S3Client {
  return new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/**
 * Starts (or, with `DATAFLOW_TEST_DATABASE_URL` / `DATAFLOW_TEST_S3_ENDPOINT`, adopts) the
 * PostgreSQL and S3 servers for one test run. `stop()` tears down only what it started.
 */
export async function startTestServices(env: NodeJS.ProcessEnv = process.env): Promise<{
  services: TestServices;
  stop(): Promise<void>;
}> {
  const started: Array<PostgresServerHandle | S3ServerHandle> = [];
  const stop = async () => {
    await Promise.allSettled(started.map((s) => s.stop()));
  };
  try {
    let databaseUrl = env.DATAFLOW_TEST_DATABASE_URL;
    if (!databaseUrl) {
      const pg = await startPostgresServer();
      started.push(pg);
      databaseUrl = pg.url;
    }
    let s3: TestServices['s3'];
    if (env.DATAFLOW_TEST_S3_ENDPOINT) {
      s3 = {
        endpoint: env.DATAFLOW_TEST_S3_ENDPOINT,
        bucket: env.DATAFLOW_TEST_S3_BUCKET ?? 'dataflow-test',
        region: env.AWS_REGION ?? 'us-east-1',
        accessKeyId: env.AWS_ACCESS_KEY_ID ?? 'minioadmin',
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? 'minioadmin',
      };
      const client = createTestS3Client(s3);
      try {
        await client.send(new CreateBucketCommand({ Bucket: s3.bucket }));
      } catch (error) {
        const name = (error as { name?: string }).name;
        if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw error;
      } finally {
        client.destroy();
      }
    } else {
      const server = await startS3Server();
      started.push(server);
      s3 = {
        endpoint: server.endpoint,
        bucket: server.bucket,
        region: server.region,
        accessKeyId: server.accessKeyId,
        secretAccessKey: server.secretAccessKey,
      };
    }
    return { services: { databaseUrl, s3 }, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
