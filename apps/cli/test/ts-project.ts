import { fileURLToPath } from 'node:url';
import { tempProject } from './helpers.js';

/** The monorepo root (apps/cli/test → ../../..). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * A temp project with a `dataflow.config.ts`. A temp dir has no node_modules, so its
 * `tsconfig.json` maps `@dataflow/*` to the workspace TypeScript sources (what the `source`
 * export condition does for vitest); tsx applies the project's tsconfig paths when loading the
 * config. `"type": "module"` makes the .ts files ES modules.
 */
export function tsConfigProject(files: Record<string, string>): Promise<string> {
  return tempProject({
    'package.json': JSON.stringify({ name: 'ts-project', private: true, type: 'module' }),
    'tsconfig.json': JSON.stringify({
      compilerOptions: {
        baseUrl: ROOT,
        paths: {
          '@dataflow/cli': ['apps/cli/src/index.ts'],
          '@dataflow/*': ['packages/*/src/index.ts'],
        },
      },
    }),
    ...files,
  });
}
