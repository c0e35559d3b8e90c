import { IngestError } from './errors.js';

/** The AWS SDK packages `s3://` locations need: optional dependencies, left out by `npm install --omit=optional`. */
export const S3_SDK_PACKAGES = ['@aws-sdk/client-s3', '@aws-sdk/lib-storage'] as const;

/**
 * Whether `error` says that the package `name` (not one of its own imports) could not be found:
 * Node's `ERR_MODULE_NOT_FOUND` (import) or `MODULE_NOT_FOUND` (require) naming that package. Pure.
 *
 * @example
 * isPackageNotFound(Object.assign(new Error("Cannot find package '@aws-sdk/client-s3' imported from /x.js"), { code: 'ERR_MODULE_NOT_FOUND' }), '@aws-sdk/client-s3'); // true
 */
export function isPackageNotFound(error: unknown, name: string): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  if (e === null || typeof e !== 'object') return false;
  if (e.code !== 'ERR_MODULE_NOT_FOUND' && e.code !== 'MODULE_NOT_FOUND') return false;
  // The first quoted name in Node's message is the specifier that failed, not the importer.
  const missing = typeof e.message === 'string' ? /['"]([^'"]+)['"]/.exec(e.message)?.[1] : undefined;
  return missing === name || (missing?.startsWith(`${name}/`) ?? false);
}

/** The error for an `s3://` location when the AWS SDK was left out of the install; names what to install. */
function missingS3Sdk(cause: unknown): IngestError {
  return new IngestError(
    'MISSING_DEPENDENCY',
    `s3:// locations need the AWS SDK, an optional dependency this install left out: npm install ${S3_SDK_PACKAGES.join(' ')}`,
    { cause, retryable: false },
  );
}

/**
 * Runs `load` (an `import()` or `require()` of an AWS SDK package) and turns "package not found"
 * into an IngestError `MISSING_DEPENDENCY` naming the packages to install; other errors pass through.
 *
 * @example
 * const { Upload } = await loadS3Package('@aws-sdk/lib-storage', () => import('@aws-sdk/lib-storage'));
 */
export async function loadS3Package<T>(
  name: (typeof S3_SDK_PACKAGES)[number],
  load: () => Promise<T>,
): Promise<T> {
  try {
    return await load();
  } catch (error) {
    throw isPackageNotFound(error, name) ? missingS3Sdk(error) : error;
  }
}

/**
 * The synchronous form of {@link loadS3Package}, for `require()`.
 *
 * @example
 * const sdk = requireS3Package('@aws-sdk/client-s3', () => require('@aws-sdk/client-s3'));
 */
export function requireS3Package<T>(name: (typeof S3_SDK_PACKAGES)[number], load: () => T): T {
  try {
    return load();
  } catch (error) {
    throw isPackageNotFound(error, name) ? missingS3Sdk(error) : error;
  }
}
