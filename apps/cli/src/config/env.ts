import { CliError } from '../errors.js';
import { TIMEOUT_ENV } from '../pool-timeouts.js';

const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
/** A value that is one reference with an empty default: `${VAR:-}`. */
const OPTIONAL_REF = /^\$\{([A-Za-z_][A-Za-z0-9_]*):-\}$/;

/** The result of {@link interpolateEnv}. */
export interface Interpolated {
  value: unknown;
  /** Every substituted value: never printed or stored. */
  secrets: string[];
}

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string value of the parsed YAML (never in keys,
 * never in the raw text, so a value cannot inject YAML). An unset `${VAR}` is an error naming the
 * variable and the key: a typo must not quietly fall back to the embedded database. A value that
 * is exactly `${VAR:-}` with VAR unset or empty is absent (an optional key then takes its
 * default): the explicit way to say "optional". Substituted values are reported as secrets.
 *
 * @example
 * interpolateEnv({ url: '${DB}' }, { DB: 'postgres://u:p@h/d' }, 'dataflow.yml').value // { url: 'postgres://u:p@h/d' }
 * interpolateEnv({ url: '${DB:-}' }, {}, 'dataflow.yml').value // {}
 */
export function interpolateEnv(
  value: unknown,
  env: Record<string, string | undefined>,
  file: string,
): Interpolated {
  const secrets: string[] = [];
  const substitute = (text: string, path: readonly string[]): string | undefined => {
    const optional = OPTIONAL_REF.exec(text);
    if (optional?.[1] !== undefined && !env[optional[1]]) return undefined;
    return text.replace(ENV_REF, (_m, name: string, fallback: string | undefined) => {
      const got = env[name];
      if (got !== undefined && got !== '') {
        secrets.push(got);
        return got;
      }
      if (fallback !== undefined) return fallback;
      if (got === '') return '';
      throw new CliError(
        'CONFIG_INVALID',
        `${file}: ${path.join('.')}: environment variable ${name} is not set (write \${${name}:-} if it is optional)`,
      );
    });
  };
  const walk = (v: unknown, path: string[]): unknown => {
    if (typeof v === 'string') return substitute(v, path);
    if (Array.isArray(v)) return v.map((item, i) => walk(item, [...path, String(i)]));
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v)) {
        const next = walk(item, [...path, k]);
        if (next !== undefined) out[k] = next;
      }
      return out;
    }
    return v;
  };
  return { value: walk(value, []), secrets };
}

/**
 * `DATAFLOW_DATABASE_URL`, `DATAFLOW_LAKE_URL`, `DATAFLOW_S3_ENDPOINT` and the timeouts
 * (`DATAFLOW_CONNECT_TIMEOUT`, `DATAFLOW_STATEMENT_TIMEOUT`, `DATAFLOW_LOCK_TIMEOUT`) win over the file. The
 * database URL is reported as a secret.
 *
 * @example
 * applyEnvOverrides({ name: 'x' }, { DATAFLOW_LAKE_URL: 's3://lake/raw' }, []); // { name: 'x', lake: { url: 's3://lake/raw' } }
 */
export function applyEnvOverrides(
  value: Record<string, unknown>,
  env: Record<string, string | undefined>,
  secrets: string[],
): Record<string, unknown> {
  const out = { ...value };
  const section = (key: string) => ({ ...((out[key] as Record<string, unknown> | undefined) ?? {}) });
  if (env.DATAFLOW_DATABASE_URL) {
    out.warehouse = { ...section('warehouse'), url: env.DATAFLOW_DATABASE_URL };
    secrets.push(env.DATAFLOW_DATABASE_URL);
  }
  for (const [key, name] of Object.entries(TIMEOUT_ENV)) {
    if (env[name]) out.warehouse = { ...section('warehouse'), [key]: env[name] };
  }
  if (env.DATAFLOW_LAKE_URL) out.lake = { ...section('lake'), url: env.DATAFLOW_LAKE_URL };
  if (env.DATAFLOW_S3_ENDPOINT) out.lake = { ...section('lake'), endpoint: env.DATAFLOW_S3_ENDPOINT };
  return out;
}
