export { getFreePort, type PostgresServerHandle, startPostgresServer } from './postgres-server.js';
export { type S3ServerHandle, startS3Server } from './s3-server.js';
export { createTestS3Client, startTestServices, type TestServices } from './services.js';
export { dbtPackagesFixture } from './shared-fixtures.js';
export {
  createScratchDatabase,
  emptyPrefix,
  listOpenUploads,
  type ScratchDatabase,
  type TestBucket,
  type TestDatabase,
  testServices,
  useTestBucket,
  useTestDatabase,
} from './test-context.js';
