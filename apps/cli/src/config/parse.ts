import type { ProjectDefinition } from '@dataflow/modeling';
// The leaf module, not the package: every command loads the config, few need the compiler.
import { defineProject } from '@dataflow/modeling/define';
import { CliError } from '../errors.js';
import { splitTsConfig, TS_CONFIG_FILE } from '../ts-config.js';
import { applyEnvOverrides } from './env.js';
import { formatConfigIssue } from './issues.js';
import { finishConfig, prepareConfig } from './prepare.js';
import { configSchema, type ProjectConfig } from './schema.js';

/**
 * Validates already-parsed YAML. Pure: `env` is injected. Throws a one-line CliError naming the file
 * and key path on the first problem.
 *
 * @example
 * const { config, secrets } = parseConfig(parseYaml(text), process.env);
 */
export function parseConfig(
  raw: unknown,
  env: Record<string, string | undefined>,
  file = 'dataflow.yml',
): { config: ProjectConfig; secrets: string[] } {
  const { data, secrets } = prepareConfig(raw, env, file);
  return finishConfig(validateConfig(data, file), secrets, file);
}

/**
 * Validates `dataflow.config.ts`'s exported value with the same schema as `dataflow.yml`. Pure:
 * `env` is injected. No `${ENV}` interpolation (the file reads `process.env` itself); the env
 * overrides still apply, and URL passwords, secret keys, auth credentials and credential-like
 * headers are reported as secrets exactly as for YAML.
 *
 * @example
 * const { config, tsProject } = parseTsConfig(defineConfig({ name: 'shop', models: [stgOrders] }), process.env);
 */
export function parseTsConfig(
  exported: unknown,
  env: Record<string, string | undefined>,
  file = TS_CONFIG_FILE,
): { config: ProjectConfig; secrets: string[]; tsProject?: ProjectDefinition } {
  const { plain, models, project } = splitTsConfig(exported, file);
  const secrets: string[] = [];
  const withOverrides = applyEnvOverrides(plain, env, secrets);
  const out: { config: ProjectConfig; secrets: string[]; tsProject?: ProjectDefinition } = finishConfig(
    validateConfig(withOverrides, file),
    secrets,
    file,
  );
  if (project) out.tsProject = project;
  else if (models) out.tsProject = { ...emptyTsProject(out.config.name), models };
  return out;
}

/** A TypeScript project with no models (models then come from a dbt-style layout, if any). */
export function emptyTsProject(name: string): ProjectDefinition {
  return defineProject({ name, models: [] });
}

/**
 * zod-validates a prepared config object (see `prepareConfig`); the first problem becomes a
 * one-line CliError naming the file and key path. The rules across keys are `finishConfig`'s.
 *
 * @example
 * const config = validateConfig({ name: 'shop' }, 'dataflow.yml'); // config.warehouse.schema === 'public'
 */
export function validateConfig(data: Record<string, unknown>, file: string): ProjectConfig {
  const parsed = configSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const message = issue ? formatConfigIssue(file, issue, data) : `${file}: invalid`;
    throw new CliError('CONFIG_INVALID', message);
  }
  return parsed.data;
}
