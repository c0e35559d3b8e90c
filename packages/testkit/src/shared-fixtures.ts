import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is `packages/testkit/src/shared-fixtures.ts`). */
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * The directory of dbt packages as `dbt deps` installs them (`dbt_utils`, `dbt_date`), shared by
 * all checkouts at `../shared/fixtures/dbt_packages` from the repository root (a worktree under
 * `wt/<name>` finds it one level further up; `DATAFLOW_SHARED_FIXTURES` overrides). Test input
 * only: tests link it into a temp project, never copy it into the repository. Throws, naming every
 * place looked at, when it is missing.
 *
 * @example
 * await symlink(join(dbtPackagesFixture(), 'dbt_utils'), join(projectDir, 'dbt_packages/dbt_utils'));
 */
export function dbtPackagesFixture(): string {
  const candidates = [
    ...(process.env.DATAFLOW_SHARED_FIXTURES
      ? [join(process.env.DATAFLOW_SHARED_FIXTURES, 'dbt_packages')]
      : []),
    join(REPO_ROOT, '../shared/fixtures/dbt_packages'),
    join(REPO_ROOT, '../../shared/fixtures/dbt_packages'),
    // Where the development and CI machines keep the shared files (as the csv-spectrum tests read them).
    '/work/shared/fixtures/dbt_packages',
  ];
  const found = candidates.find((c) => existsSync(join(c, 'dbt_utils', 'dbt_project.yml')));
  if (!found)
    throw new Error(
      `dbt package fixtures missing: none of ${candidates.join(', ')} holds dbt_utils/dbt_project.yml (set DATAFLOW_SHARED_FIXTURES to the shared fixtures directory)`,
    );
  return found;
}
