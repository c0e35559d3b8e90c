import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { z } from 'zod';
import { ModelingError } from './errors.js';
import { readYaml } from './read-yaml.js';

const pathList = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : [v]));

const projectFileSchema = z.looseObject({
  name: z.string().min(1),
  version: z.union([z.string(), z.number()]).nullish(),
  'model-paths': pathList.optional(),
  'seed-paths': pathList.optional(),
  'test-paths': pathList.optional(),
  'macro-paths': pathList.optional(),
  'snapshot-paths': pathList.optional(),
  'analysis-paths': pathList.optional(),
  // dbt < 1.0 names of model-paths and seed-paths, still read by dbt with a deprecation warning.
  'source-paths': pathList.optional(),
  'data-paths': pathList.optional(),
  'packages-install-path': z.string().min(1).optional(),
  dispatch: z
    .array(z.looseObject({ macro_namespace: z.string().min(1), search_order: z.array(z.string().min(1)) }))
    .nullish(),
  vars: z.record(z.string(), z.unknown()).nullish(),
  'on-run-start': z.unknown().optional(),
  'on-run-end': z.unknown().optional(),
  models: z.record(z.string(), z.unknown()).nullish(),
  seeds: z.record(z.string(), z.unknown()).nullish(),
  snapshots: z.record(z.string(), z.unknown()).nullish(),
  tests: z.record(z.string(), z.unknown()).nullish(),
  data_tests: z.record(z.string(), z.unknown()).nullish(),
});

/** The parts of `dataflow.yml` / `dbt_project.yml` this package uses. */
export interface ProjectFile {
  name: string;
  /** `version:`, as text (dbt's `Project.version`). */
  version?: string;
  file: string;
  modelPaths: string[];
  seedPaths: string[];
  testPaths: string[];
  macroPaths: string[];
  snapshotPaths: string[];
  analysisPaths: string[];
  /** Where `dataflow deps` installs packages and compile reads them (`dbt_packages`). */
  packagesInstallPath: string;
  /** `dispatch:` entries: the search order of packages per macro namespace. */
  dispatch: { macro_namespace: string; search_order: string[] }[];
  vars: Record<string, unknown>;
  /** `on-run-start` / `on-run-end` as written (a string or a list; Jinja rendered by compile). */
  onRunStart?: unknown;
  onRunEnd?: unknown;
  models: Record<string, unknown>;
  seeds: Record<string, unknown>;
  snapshots: Record<string, unknown>;
  /** Folder config of tests: `data_tests:` (dbt ≥ 1.8), or the older `tests:`. */
  tests: Record<string, unknown>;
}

/** The project file's settings that dbt renders as Jinja when it loads the project (`env_var()`, `var()`). */
const RENDERED_PATH_KEYS = [
  'model-paths',
  'seed-paths',
  'test-paths',
  'macro-paths',
  'snapshot-paths',
  'analysis-paths',
  'source-paths',
  'data-paths',
  'packages-install-path',
] as const;

/**
 * Reads and validates the project file of a dbt-style project directory. With `render`, the path
 * settings are rendered first, as dbt renders them on load (`model-paths: ["{{ env_var('SYNC') }}/models"]`);
 * the `models:` / `seeds:` / `vars:` trees stay raw (their Jinja is rendered per node).
 */
export async function readProjectFile(
  dir: string,
  render?: (text: string, file: string) => string,
): Promise<ProjectFile> {
  for (const file of ['dataflow.yml', 'dbt_project.yml']) {
    let text: string;
    try {
      text = await readFile(join(dir, file), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new ModelingError('PROJECT_NOT_FOUND', `cannot read ${file}`, { file, cause: error });
    }
    let raw: unknown;
    try {
      raw = readYaml(text);
    } catch (error) {
      throw new ModelingError('PROJECT_CONFIG_INVALID', `${file} is not valid YAML`, { file, cause: error });
    }
    if (render && raw !== null && typeof raw === 'object')
      renderPathSettings(raw as Record<string, unknown>, file, render);
    const parsed = projectFileSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ModelingError(
        'PROJECT_CONFIG_INVALID',
        `${file}: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
        { file, cause: parsed.error },
      );
    }
    const p = parsed.data;
    return {
      name: p.name,
      ...(p.version === undefined || p.version === null ? {} : { version: String(p.version) }),
      file,
      modelPaths: p['model-paths'] ?? p['source-paths'] ?? ['models'],
      seedPaths: p['seed-paths'] ?? p['data-paths'] ?? ['seeds'],
      testPaths: p['test-paths'] ?? ['tests'],
      macroPaths: p['macro-paths'] ?? ['macros'],
      snapshotPaths: p['snapshot-paths'] ?? ['snapshots'],
      analysisPaths: p['analysis-paths'] ?? ['analyses'],
      packagesInstallPath: p['packages-install-path'] ?? 'dbt_packages',
      dispatch: p.dispatch ?? [],
      vars: p.vars ?? {},
      ...(p['on-run-start'] != null ? { onRunStart: p['on-run-start'] } : {}),
      ...(p['on-run-end'] != null ? { onRunEnd: p['on-run-end'] } : {}),
      models: p.models ?? {},
      seeds: p.seeds ?? {},
      snapshots: p.snapshots ?? {},
      tests: p.data_tests ?? p.tests ?? {},
    };
  }
  throw new ModelingError('PROJECT_NOT_FOUND', 'no dataflow.yml or dbt_project.yml in the project directory');
}

function renderPathSettings(
  raw: Record<string, unknown>,
  file: string,
  render: (text: string, file: string) => string,
): void {
  const one = (v: unknown) => (typeof v === 'string' ? render(v, file) : v);
  for (const key of RENDERED_PATH_KEYS) {
    const value = raw[key];
    if (value === undefined) continue;
    try {
      raw[key] = Array.isArray(value) ? value.map(one) : one(value);
    } catch (error) {
      throw new ModelingError('PROJECT_CONFIG_INVALID', `${file}: ${key}: ${(error as Error).message}`, {
        file,
        cause: error,
      });
    }
  }
}

/** Files under `dir/sub` (recursively) with one of the extensions; paths relative to `dir`, `/`-separated, sorted. */
export async function listFiles(dir: string, sub: string, extensions: string[]): Promise<string[]> {
  const root = join(dir, sub);
  let entries: string[];
  try {
    entries = await readdir(root, { recursive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return entries
    .filter((e) => extensions.some((ext) => e.endsWith(ext)))
    .map((e) => relative(dir, join(root, e)).split(sep).join('/'))
    .sort();
}

/** Config values collected from folder-level `+key` entries, outermost first. */
export type ConfigLayer = Record<string, unknown>;

const CONFIG_KEYS = new Set([
  'materialized',
  'schema',
  'tags',
  'unique_key',
  'incremental_strategy',
  'enabled',
  'alias',
  'full_refresh',
  'column_types',
  'severity',
  'on_schema_change',
  'database',
  'quote_columns',
  'delimiter',
  'meta',
  'docs',
  // Test configs (`data_tests:`), as dbt accepts them without `+` too.
  'warn_if',
  'error_if',
  'fail_calc',
  'store_failures',
  'store_failures_as',
]);
/** Config keys whose value is a mapping (any other mapping under a folder is a subfolder). */
const DICT_KEYS = new Set(['column_types', 'meta', 'docs']);

/**
 * dbt's folder-level config: `models: { <project>: { +materialized: table, staging: { +materialized: view } } }`.
 * Returns the layers that apply to `pathParts` (folders under the model path, then the file's stem),
 * outermost first. Keys without `+` count as config when they are known config keys with scalar values.
 */
export function folderConfigLayers(
  tree: Record<string, unknown>,
  projectName: string,
  pathParts: string[],
): ConfigLayer[] {
  const layers: ConfigLayer[] = [];
  let node: unknown = tree[projectName];
  const take = (n: unknown) => {
    if (!n || typeof n !== 'object' || Array.isArray(n)) return;
    const layer: ConfigLayer = {};
    for (const [k, v] of Object.entries(n)) {
      if (k.startsWith('+')) layer[k.slice(1)] = v;
      else if (
        CONFIG_KEYS.has(k) &&
        (typeof v !== 'object' || v === null || Array.isArray(v) || DICT_KEYS.has(k))
      )
        layer[k] = v;
    }
    layers.push(layer);
  };
  take(node);
  for (const part of pathParts) {
    if (!node || typeof node !== 'object') break;
    node = (node as Record<string, unknown>)[part];
    take(node);
  }
  return layers;
}
