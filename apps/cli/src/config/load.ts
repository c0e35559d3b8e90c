import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ProjectDefinition } from '@dataflow/modeling';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { CliError } from '../errors.js';
import { importTsConfig, TS_CONFIG_FILE } from '../ts-config.js';
import { finishConfig, prepareConfig } from './prepare.js';
import { quickConfig } from './quick-check.js';
import type { ProjectConfig } from './schema.js';

/** A loaded project: where it is, what it says, and which values are secrets. */
export interface LoadedProject {
  dir: string;
  /** `dataflow.yml`, `dataflow.config.ts`, or `dbt_project.yml` for a dbt-style project. */
  file: string;
  kind: 'dataflow' | 'typescript' | 'dbt';
  config: ProjectConfig;
  /** Values that came from `${ENV}` or env overrides, and credentials: never print or store them. */
  secrets: string[];
  /**
   * The TypeScript models of a `dataflow.config.ts` project (`project`, or `models` grouped under
   * the config's name); absent when models come from the directory (dbt-style).
   */
  tsProject?: ProjectDefinition;
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError('CONFIG_INVALID', `cannot read ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function parseYamlText(text: string, file: string): unknown {
  try {
    return parseYaml(text, { prettyErrors: true });
  } catch (error) {
    if (error instanceof YAMLParseError) {
      const pos = error.linePos?.[0];
      const at = pos ? `:${pos.line}:${pos.col}` : '';
      // prettyErrors: the first line says what is wrong, the rest is the code frame with a caret.
      const [first = '', ...frame] = error.message.split('\n');
      const detail = frame.join('\n').replace(/^\n+|\s+$/g, '');
      throw new CliError('CONFIG_INVALID', `${file}${at}: invalid YAML: ${first.replace(/:$/, '')}`, {
        cause: error,
        ...(detail ? { detail } : {}),
      });
    }
    throw error;
  }
}

/**
 * Reads the project in `dir`: `dataflow.yml` or `dataflow.config.ts` (not both), or a dbt-style
 * project (`dbt_project.yml` alone) read as a modeling-only project with embedded defaults.
 * A TypeScript config without `models` / `project` takes its models from `dbt_project.yml`'s
 * directory layout when that file exists, else has none.
 *
 * @example
 * const project = await loadProject('.', process.env); // project.config.name, project.dir, project.secrets
 */
export async function loadProject(
  dir: string,
  env: Record<string, string | undefined>,
  cwd: string = process.cwd(),
): Promise<LoadedProject> {
  const abs = resolve(cwd, dir);
  const text = await readIfExists(join(abs, 'dataflow.yml'));
  const hasTs = await isFile(join(abs, TS_CONFIG_FILE));
  if (text !== undefined && hasTs) {
    throw new CliError(
      'CONFIG_INVALID',
      `both dataflow.yml and ${TS_CONFIG_FILE} in ${abs}; keep one of them (they are alternatives)`,
    );
  }
  if (text !== undefined) {
    const { config, secrets } = await readConfig(parseYamlText(text, 'dataflow.yml'), env, 'dataflow.yml');
    return { dir: abs, file: 'dataflow.yml', kind: 'dataflow', config, secrets };
  }
  const dbt = await readIfExists(join(abs, 'dbt_project.yml'));
  if (hasTs) {
    const { emptyTsProject, parseTsConfig } = await import('./parse.js');
    const { config, secrets, tsProject } = parseTsConfig(await importTsConfig(abs), env);
    const project: LoadedProject = { dir: abs, file: TS_CONFIG_FILE, kind: 'typescript', config, secrets };
    const models = tsProject ?? (dbt === undefined ? emptyTsProject(config.name) : undefined);
    if (models) project.tsProject = models;
    return project;
  }
  if (dbt !== undefined) {
    const raw = parseYamlText(dbt, 'dbt_project.yml') as { name?: unknown } | null;
    const name = typeof raw?.name === 'string' ? raw.name : 'project';
    const { config, secrets } = await readConfig({ name }, env, 'dbt_project.yml');
    return { dir: abs, file: 'dbt_project.yml', kind: 'dbt', config, secrets };
  }
  throw new CliError(
    'CONFIG_NOT_FOUND',
    `no dataflow.yml or ${TS_CONFIG_FILE} (or dbt_project.yml) in ${abs}; pass --project DIR or run 'dataflow init DIR'`,
  );
}

/**
 * `parseConfig` without zod for the common case: the quick check returns what the schema would,
 * and only a config outside its subset (or with a problem, which the schema words) loads zod.
 */
async function readConfig(
  raw: unknown,
  env: Record<string, string | undefined>,
  file: string,
): Promise<{ config: ProjectConfig; secrets: string[] }> {
  const { data, secrets } = prepareConfig(raw, env, file);
  const config = quickConfig(data) ?? (await import('./parse.js')).validateConfig(data, file);
  return finishConfig(config, secrets, file);
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
