import { CliError } from '../errors.js';
import { checkConfig } from './checks.js';
import { applyEnvOverrides, interpolateEnv } from './env.js';
import type { ProjectConfig } from './schema.js';
import { configSecrets } from './secrets.js';

// The steps around validation that every way of reading `dataflow.yml` shares (the zod schema in
// `parse.ts`, the zod-free quick check in `quick-check.ts`); nothing here imports zod.

/**
 * Parsed YAML → the object to validate: `${ENV}` interpolated, env overrides applied, and the
 * values that came from the environment (secrets). Pure: `env` is injected.
 *
 * @example
 * prepareConfig({ name: 'shop', warehouse: { url: '${DB}' } }, { DB: 'postgres://…' }, 'dataflow.yml').secrets; // ['postgres://…']
 */
export function prepareConfig(
  raw: unknown,
  env: Record<string, string | undefined>,
  file: string,
): { data: Record<string, unknown>; secrets: string[] } {
  if (raw === null || raw === undefined) throw new CliError('CONFIG_INVALID', `${file}: the file is empty`);
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new CliError('CONFIG_INVALID', `${file}: expected a mapping at the top level`);
  }
  const { value, secrets } = interpolateEnv(raw, env, file);
  return { data: applyEnvOverrides(value as Record<string, unknown>, env, secrets), secrets };
}

/**
 * A validated config → the rules that span keys (`checkConfig`), and every secret: those from
 * the environment and the credentials the config holds.
 *
 * @example
 * const { config, secrets } = finishConfig(validated, prepared.secrets, 'dataflow.yml');
 */
export function finishConfig(
  config: ProjectConfig,
  secrets: readonly string[],
  file: string,
): { config: ProjectConfig; secrets: string[] } {
  checkConfig(config, file);
  return {
    config,
    secrets: [...new Set([...secrets, ...configSecrets(config)].filter((s) => s.length > 0))],
  };
}
