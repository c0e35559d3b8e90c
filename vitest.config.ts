import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources through the `source` export condition,
// so tests never depend on a prior build (or a stale one). Vite resolves server-side modules with
// the `ssr` conditions, so both lists carry it.
const resolve = { conditions: ['source', 'node', 'development|production'] };
const ssr = { resolve: { conditions: ['source', 'node', 'development|production'] } };

export default defineConfig({
  resolve,
  ssr,
  test: {
    projects: [
      {
        resolve,
        ssr,
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
          // Some unit tests spawn processes (python3 for the generated DAGs, tsx): on a loaded
          // machine (load average 7) 5 s was not enough. No test may depend on an idle machine.
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        resolve,
        ssr,
        test: {
          name: 'integration',
          include: ['packages/*/test/**/*.int.test.ts', 'apps/*/test/**/*.int.test.ts'],
          globalSetup: ['packages/testkit/src/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          pool: 'forks',
        },
      },
    ],
  },
});
