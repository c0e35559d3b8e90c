import { access, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ModelDefinition, ProjectDefinition } from '@dataflow/modeling';
import { CliError } from './errors.js';
import { tsxMissing } from './optional-dependencies.js';

/** The TypeScript configuration file of a project. */
export const TS_CONFIG_FILE = 'dataflow.config.ts';

/**
 * dbt project-file keys that mean nothing in `dataflow.config.ts` (modeling reads them from
 * `dataflow.yml` / `dbt_project.yml` itself): rejected rather than silently ignored.
 */
const DBT_ONLY_KEYS = [
  'profile',
  'config-version',
  'model-paths',
  'seed-paths',
  'test-paths',
  'macro-paths',
  'analysis-paths',
  'snapshot-paths',
  'clean-targets',
  'seeds',
  'tests',
  'data_tests',
] as const;

/** Keys of `dataflow.yml` that `dataflow.config.ts` does not accept. */
export type DbtOnlyKey = (typeof DBT_ONLY_KEYS)[number];

/** A TypeScript config split into the YAML-shaped part (validated by zod) and the modeling part. */
export interface SplitTsConfig {
  /** Everything but `models` / `project`: validated with the `dataflow.yml` schema. */
  plain: Record<string, unknown>;
  models?: ModelDefinition[];
  project?: ProjectDefinition;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The configuration a `dataflow.config.ts` module exports: the named export `config`, else the
 * default export. A `.ts` file outside a `"type": "module"` package is loaded as CommonJS, where
 * the namespace's `default` is `module.exports`: one level of that wrapper is unwrapped.
 */
export function pickConfigExport(namespace: Record<string, unknown>, file = TS_CONFIG_FILE): unknown {
  if (namespace.config !== undefined) return namespace.config;
  let value = namespace.default;
  if (isRecord(value) && !('name' in value) && ('config' in value || 'default' in value)) {
    value = value.config ?? value.default;
  }
  if (value === undefined) {
    throw new CliError(
      'CONFIG_INVALID',
      `${file}: no configuration exported; use 'export default defineConfig({ ... })' or 'export const config = defineConfig({ ... })'`,
    );
  }
  return value;
}

/**
 * Separates `models` (a list of `defineModel()` results) and `project` (a `defineProject()`
 * result) from the YAML-shaped keys, checking their shape. Pure; throws a one-line CliError
 * naming the file and key path.
 */
export function splitTsConfig(value: unknown, file = TS_CONFIG_FILE): SplitTsConfig {
  if (!isRecord(value)) {
    throw new CliError('CONFIG_INVALID', `${file}: expected the exported configuration to be an object`);
  }
  const { models, project, ...plain } = value;
  for (const key of DBT_ONLY_KEYS) {
    if (key in plain) {
      throw new CliError(
        'CONFIG_INVALID',
        `${file}: ${key}: not supported in ${file} (TypeScript models come from 'models' or 'project'; dbt-style settings belong in dbt_project.yml)`,
      );
    }
  }
  const out: SplitTsConfig = { plain };
  if (models !== undefined && project !== undefined) {
    throw new CliError('CONFIG_INVALID', `${file}: project: use either 'models' or 'project', not both`);
  }
  if (models !== undefined) {
    if (!Array.isArray(models)) {
      throw new CliError('CONFIG_INVALID', `${file}: models: expected a list of defineModel() results`);
    }
    models.forEach((model: unknown, i) => {
      if (!isRecord(model) || model.kind !== 'model-definition' || typeof model.sql !== 'function') {
        throw new CliError('CONFIG_INVALID', `${file}: models.${i}: expected a defineModel() result`);
      }
    });
    out.models = models as ModelDefinition[];
  }
  if (project !== undefined) {
    if (!isRecord(project) || project.kind !== 'project-definition' || !Array.isArray(project.models)) {
      throw new CliError('CONFIG_INVALID', `${file}: project: expected a defineProject() result`);
    }
    out.project = project as unknown as ProjectDefinition;
  }
  return out;
}

/** Whether the nearest package.json above `dir` says `"type": "module"` (how tsx picks the format). */
async function isEsmPackage(dir: string): Promise<boolean> {
  for (let d = dir; ; d = dirname(d)) {
    try {
      const pkg = JSON.parse(await readFile(join(d, 'package.json'), 'utf8')) as { type?: unknown };
      return pkg.type === 'module';
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return false;
    }
    if (dirname(d) === d) return false;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Imports `<dir>/dataflow.config.ts` with tsx (compiled on the fly, no build step) and returns
 * the exported configuration. The project's own `tsconfig.json` (paths, …) applies when present.
 * Every import runs the file afresh. A file that fails to compile, import or evaluate is a
 * configuration error (exit 2) whose message is the first line of the cause.
 */
export async function importTsConfig(dir: string, file = TS_CONFIG_FILE): Promise<unknown> {
  const tsconfig = join(dir, 'tsconfig.json');
  let namespace: Record<string, unknown>;
  try {
    // Loaded lazily: tsx (esbuild) is only needed by projects that have a TypeScript config.
    const { tsImport } = await import('tsx/esm/api');
    namespace = (await tsImport(pathToFileURL(join(dir, file)).href, {
      parentURL: import.meta.url,
      tsconfig: (await exists(tsconfig)) ? tsconfig : false,
    })) as Record<string, unknown>;
  } catch (error) {
    const { isPackageNotFound } = await import('@dataflow/ingest');
    if (isPackageNotFound(error, 'tsx')) throw tsxMissing(file, error);
    const esm = await isEsmPackage(dir);
    // As CommonJS, tsx wraps the module, so its stack lines do not match the file (Node 22+ prints
    // a wrapper line): only esbuild's own compile errors locate a problem there.
    const { at, message } = locateLoadError(error, join(dir, file), esm);
    const hint = esm
      ? ''
      : ` (hint: ${file} is loaded as CommonJS; add "type": "module" to the project's package.json)`;
    const detail = at ? await codeFrame(join(dir, file), at.line, at.column) : undefined;
    throw new CliError(
      'CONFIG_INVALID',
      `${file}${at ? `:${at.line}:${at.column}` : ''}: cannot load: ${message}${hint}`,
      {
        cause: error,
        ...(detail ? { detail } : {}),
      },
    );
  }
  return pickConfigExport(namespace, file);
}

/**
 * Where in the config file a load failed, and why, from an esbuild transform error
 * (`/abs/dataflow.config.ts:3:30: ERROR: Expected "}"`) or the first stack frame in the file (an
 * error thrown while it runs; tsx maps the line to the TypeScript source). Pure.
 *
 * @example
 * locateLoadError(new Error('Transform failed with 1 error:\n/p/dataflow.config.ts:3:30: ERROR: Expected "}"'), '/p/dataflow.config.ts');
 * // { at: { line: 3, column: 31 }, message: 'Expected "}"' }
 */
export function locateLoadError(
  error: unknown,
  path: string,
  trustStack = true,
): { at?: { line: number; column: number }; message: string } {
  const text = String((error as Error)?.message ?? error);
  const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const transform = new RegExp(`${escaped}:(\\d+):(\\d+): ERROR: (.*)`).exec(text);
  if (transform) {
    // esbuild counts columns from 0, V8's stack frames (and editors) from 1.
    return {
      at: { line: Number(transform[1]), column: Number(transform[2]) + 1 },
      message: transform[3] ?? '',
    };
  }
  const first = text.split('\n')[0] ?? '';
  if (!trustStack) return { message: first };
  const frame = new RegExp(`${escaped}(?:\\?[^:\\s)]*)?:(\\d+):(\\d+)`).exec(
    String((error as Error)?.stack ?? ''),
  );
  if (frame) return { at: { line: Number(frame[1]), column: Number(frame[2]) }, message: first };
  return { message: first };
}

/** The failing line of the file with a caret under the (1-based) column. */
async function codeFrame(path: string, line: number, column: number): Promise<string | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  const source = text?.split('\n')[line - 1];
  if (source === undefined) return undefined;
  const gutter = `${line} | `;
  return `${gutter}${source}\n${' '.repeat(gutter.length + Math.max(0, column - 1))}^`;
}
