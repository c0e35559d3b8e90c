import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { isIngestError } from '../src/errors.js';
import { isPackageNotFound, loadS3Package, requireS3Package } from '../src/optional-dependency.js';

// Real resolution failures, not hand-made objects: the message format is Node's.
const missingImport = (name: string) =>
  import(/* @vite-ignore */ name).then(
    () => undefined,
    (e: unknown) => e,
  );
const missingRequire = (name: string) => {
  try {
    createRequire(import.meta.url)(name);
    return undefined;
  } catch (error) {
    return error;
  }
};

describe('isPackageNotFound', () => {
  it('recognises a package that import() and require() cannot find, by name', async () => {
    const imported = await missingImport('@aws-sdk/not-installed-here');
    expect(isPackageNotFound(imported, '@aws-sdk/not-installed-here')).toBe(true);
    expect(isPackageNotFound(imported, '@aws-sdk/client-s3')).toBe(false);
    const required = missingRequire('@aws-sdk/not-installed-here');
    expect(isPackageNotFound(required, '@aws-sdk/not-installed-here')).toBe(true);
    expect(isPackageNotFound(missingRequire('tsx-not-installed/esm/api'), 'tsx-not-installed')).toBe(true);
  });

  it('is false for other errors and non-errors', () => {
    expect(
      isPackageNotFound(new Error("Cannot find package '@aws-sdk/client-s3'"), '@aws-sdk/client-s3'),
    ).toBe(false);
    expect(isPackageNotFound(undefined, 'x')).toBe(false);
    expect(isPackageNotFound('MODULE_NOT_FOUND', 'x')).toBe(false);
  });
});

describe('loading the AWS SDK', () => {
  it('a missing SDK is MISSING_DEPENDENCY naming both packages to install', async () => {
    // Node's message for an import() of a package that is not installed (the SDK is, here).
    const notFound = Object.assign(
      new Error(
        "Cannot find package '@aws-sdk/client-s3' imported from /app/node_modules/@dataflow/ingest/dist/s3-client.js",
      ),
      { code: 'ERR_MODULE_NOT_FOUND' },
    );
    const error = await loadS3Package('@aws-sdk/client-s3', () => Promise.reject(notFound)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isIngestError(error, 'MISSING_DEPENDENCY')).toBe(true);
    expect((error as Error).message).toBe(
      's3:// locations need the AWS SDK, an optional dependency this install left out: npm install @aws-sdk/client-s3 @aws-sdk/lib-storage',
    );
    expect((error as { retryable: boolean }).retryable).toBe(false);
    expect((error as Error).cause).toBe(notFound);
  });

  it('the synchronous form maps the same way; other failures pass through unchanged', async () => {
    expect(() =>
      requireS3Package('@aws-sdk/lib-storage', () => {
        throw Object.assign(new Error("Cannot find module '@aws-sdk/lib-storage'"), {
          code: 'MODULE_NOT_FOUND',
        });
      }),
    ).toThrow(/npm install @aws-sdk\/client-s3 @aws-sdk\/lib-storage/);
    const boom = new Error('the SDK threw while loading');
    await expect(loadS3Package('@aws-sdk/client-s3', () => Promise.reject(boom))).rejects.toBe(boom);
    expect(await loadS3Package('@aws-sdk/client-s3', async () => 'sdk')).toBe('sdk');
  });
});
