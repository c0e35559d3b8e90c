import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { defineProject, type ProjectDefinition } from '@dataflow/modeling';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { warehouseTimeoutFields } from './connection-options.js';
import { CliError } from './errors.js';
import { importTsConfig, splitTsConfig, TS_CONFIG_FILE } from './ts-config.js';

const DISPOSITIONS = ['append', 'replace', 'replace_partition', 'merge'] as const;
const identifier = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a plain identifier ([A-Za-z_][A-Za-z0-9_]*)');
const stringList = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : [v]));
/** Declared column types by header name (validated at ingest, used as PostgreSQL types at load). */
const columnsSchema = z.record(z.string(), z.string());

/** Loading options shared by every source type (what `@dataflow/warehouse` needs). */
const loadFields = {
  table: identifier.optional(),
  primary_key: stringList.optional(),
  disposition: z.enum(DISPOSITIONS).default('replace_partition'),
  schema_evolution: z.enum(['evolve', 'freeze']).optional(),
  max_rejects: z.number().int().nonnegative().optional(),
  columns: columnsSchema.optional(),
};

const csvSource = z.strictObject({
  type: z.literal('csv'),
  location: z.string().min(1),
  gzip: z.boolean().optional(),
  part_bytes: z.number().int().positive().optional(),
  delimiter: z.string().length(1).optional(),
  on_bad_row: z.enum(['fail', 'reject']).optional(),
  timeout_ms: z.number().int().positive().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  ...loadFields,
});

const authSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('bearer'), token: z.string().min(1) }),
  z.strictObject({ type: z.literal('basic'), username: z.string(), password: z.string() }),
  z.strictObject({
    type: z.literal('api_key'),
    name: z.string().min(1),
    value: z.string().min(1),
    in: z.enum(['header', 'query']).default('header'),
  }),
]);

const paginateSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('none') }),
  z.strictObject({ type: z.literal('cursor'), cursor_path: z.string(), cursor_param: z.string() }),
  z.strictObject({ type: z.literal('next_url'), next_url_path: z.string() }),
  z.strictObject({ type: z.literal('link_header') }),
  z.strictObject({
    type: z.literal('offset'),
    offset_param: z.string().optional(),
    limit_param: z.string().optional(),
    limit: z.number().int().positive(),
  }),
  z.strictObject({
    type: z.literal('page'),
    page_param: z.string().optional(),
    start_page: z.number().int().optional(),
    size_param: z.string().optional(),
    page_size: z.number().int().positive().optional(),
  }),
]);

const apiSource = z.strictObject({
  type: z.literal('api'),
  url: z.string().min(1),
  params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  records: z.string().optional(),
  paginate: paginateSchema.optional(),
  max_pages: z.number().int().positive().optional(),
  auth: authSchema.optional(),
  timeout_ms: z.number().int().positive().optional(),
  retry: z
    .strictObject({
      attempts: z.number().int().positive().optional(),
      base_delay_ms: z.number().int().nonnegative().optional(),
      max_delay_ms: z.number().int().nonnegative().optional(),
    })
    .optional(),
  format: z.enum(['ndjson', 'csv']).default('ndjson'),
  gzip: z.boolean().optional(),
  part_bytes: z.number().int().positive().optional(),
  ...loadFields,
});

/** The `dataflow.yml` schema. dbt-style keys (`model-paths`, `vars`, `models`, …) are read by modeling. */
export const configSchema = z.strictObject({
  name: z.string().min(1),
  version: z.union([z.string(), z.number()]).optional(),
  profile: z.string().optional(),
  'config-version': z.number().optional(),
  warehouse: z
    .strictObject({
      url: z.string().min(1).optional(),
      schema: identifier.default('public'),
      pool_size: z.number().int().positive().default(8),
      ...warehouseTimeoutFields,
    })
    .default({ schema: 'public', pool_size: 8 }),
  metadata: z
    .strictObject({
      url: z.string().min(1).optional(),
      schema: identifier.default('dataflow'),
    })
    .default({ schema: 'dataflow' }),
  lake: z
    .strictObject({
      url: z.string().min(1).optional(),
      endpoint: z.string().min(1).optional(),
      region: z.string().optional(),
      access_key_id: z.string().optional(),
      secret_access_key: z.string().optional(),
      checksum: z.enum(['when_required', 'when_supported']).optional(),
    })
    .default({}),
  sources: z.record(identifier, z.discriminatedUnion('type', [csvSource, apiSource])).default({}),
  build: z
    .strictObject({
      threads: z.number().int().positive().default(4),
      fail_fast: z.boolean().default(false),
    })
    .default({ threads: 4, fail_fast: false }),
  'model-paths': stringList.optional(),
  'seed-paths': stringList.optional(),
  'test-paths': stringList.optional(),
  'macro-paths': stringList.optional(),
  'analysis-paths': stringList.optional(),
  'snapshot-paths': stringList.optional(),
  'target-path': z.string().optional(),
  'clean-targets': stringList.optional(),
  vars: z.record(z.string(), z.unknown()).optional(),
  models: z.record(z.string(), z.unknown()).optional(),
  seeds: z.record(z.string(), z.unknown()).optional(),
  tests: z.record(z.string(), z.unknown()).optional(),
  data_tests: z.record(z.string(), z.unknown()).optional(),
});

/** A validated project configuration. */
export type ProjectConfig = z.infer<typeof configSchema>;
/** One entry of `sources:` in `dataflow.yml`, validated (CSV or API). */
export type SourceConfig = ProjectConfig['sources'][string];
/** A validated CSV source (`type: csv`). */
export type CsvSourceConfig = z.infer<typeof csvSource>;
/** A validated REST API source (`type: api`). */
export type ApiSourceConfig = z.infer<typeof apiSource>;

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

const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

interface Interpolated {
  value: unknown;
  secrets: string[];
  /** key path → env var, for values that were exactly `${VAR}` with VAR unset (now absent). */
  unset: Map<string, string>;
}

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string value of the parsed YAML (never in keys,
 * never in the raw text, so a value cannot inject YAML). A value that is exactly `${VAR}` with VAR
 * unset becomes absent (an optional key then takes its default); inside a longer string an unset
 * VAR is an error. Substituted values are reported as secrets.
 *
 * @example
 * interpolateEnv({ url: '${DB}' }, { DB: 'postgres://u:p@h/d' }, 'dataflow.yml').value // { url: 'postgres://u:p@h/d' }
 */
export function interpolateEnv(
  value: unknown,
  env: Record<string, string | undefined>,
  file: string,
): Interpolated {
  const secrets: string[] = [];
  const unset = new Map<string, string>();
  const walk = (v: unknown, path: string[]): unknown => {
    if (typeof v === 'string') {
      const whole = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(v);
      if (whole?.[1] && env[whole[1]] === undefined) {
        unset.set(path.join('.'), whole[1]);
        return undefined;
      }
      return v.replace(ENV_REF, (_m, name: string, fallback: string | undefined) => {
        const got = env[name];
        if (got !== undefined && got !== '') {
          secrets.push(got);
          return got;
        }
        if (fallback !== undefined) return fallback;
        if (got === '') return '';
        throw new CliError(
          'CONFIG_INVALID',
          `${file}: ${path.join('.')}: environment variable ${name} is not set`,
        );
      });
    }
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
  return { value: walk(value, []), secrets, unset };
}

/** Levenshtein distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] ?? 0;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j] ?? 0;
      prev[j] = Math.min((prev[j] ?? 0) + 1, (prev[j - 1] ?? 0) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length] ?? 0;
}

/**
 * The closest candidate within a small edit distance, if any.
 *
 * @example
 * didYouMean('sorces', ['sources', 'models']); // 'sources'
 */
export function didYouMean(input: string, candidates: Iterable<string>): string | undefined {
  let best: { c: string; d: number } | undefined;
  for (const c of candidates) {
    const d = editDistance(input.toLowerCase(), c.toLowerCase());
    if (d <= Math.max(2, Math.floor(c.length / 3)) && (!best || d < best.d)) best = { c, d };
  }
  return best?.c;
}

/** Known keys of the object schema at a key path (for typo hints). */
function knownKeysAt(path: readonly PropertyKey[], data: unknown): string[] {
  let schema: z.ZodType = configSchema;
  let value: unknown = data;
  for (const seg of path) {
    schema = unwrap(schema);
    value = (value as Record<string, unknown> | undefined)?.[String(seg)];
    if (schema instanceof z.ZodObject) {
      const next = (schema.shape as Record<string, z.ZodType>)[String(seg)];
      if (!next) return [];
      schema = next;
    } else if (schema instanceof z.ZodRecord) {
      schema = schema.valueType as z.ZodType;
    } else return [];
  }
  schema = unwrap(schema);
  if (schema instanceof z.ZodDiscriminatedUnion) {
    const type = (value as { type?: unknown } | undefined)?.type;
    for (const option of schema.options as z.ZodType[]) {
      const shape = (option as z.ZodObject).shape as Record<string, z.ZodType>;
      const lit = shape.type;
      if (lit instanceof z.ZodLiteral && lit.values.has(type as never)) return Object.keys(shape);
    }
    return [];
  }
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (let i = 0; i < 5; i++) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodNullable) {
      s = s.unwrap() as z.ZodType;
    } else if (s instanceof z.ZodPipe) {
      s = s.in as z.ZodType;
    } else break;
  }
  return s;
}

/** One line per problem: `file: key.path: what was expected`. */
export function formatConfigIssue(
  file: string,
  issue: z.core.$ZodIssue,
  data: unknown,
  unset: Map<string, string> = new Map(),
): string {
  const path = issue.path.map(String);
  const where = (p: string[]) => (p.length ? p.join('.') : '(root)');
  switch (issue.code) {
    case 'unrecognized_keys': {
      const key = issue.keys[0] ?? '';
      const hint = didYouMean(key, knownKeysAt(issue.path, data));
      return `${file}: ${where([...path, key])}: unknown key${hint ? ` (did you mean '${hint}'?)` : ''}`;
    }
    case 'invalid_value':
      return `${file}: ${where(path)}: expected one of ${issue.values.map(String).join('|')}`;
    case 'invalid_union': {
      const disc = (issue as { discriminator?: string }).discriminator;
      if (disc !== undefined) {
        const full = path.at(-1) === disc ? path : [...path, disc];
        const options = discriminatorOptions(full.slice(0, -1));
        return `${file}: ${where(full)}: expected one of ${options.join('|')}`;
      }
      return `${file}: ${where(path)}: ${issue.message}`;
    }
    case 'invalid_type': {
      const envVar = unset.get(path.join('.'));
      if (envVar) return `${file}: ${where(path)}: environment variable ${envVar} is not set`;
      const got = getAt(data, path);
      if (got === undefined) return `${file}: ${where(path)}: required (expected ${issue.expected})`;
      return `${file}: ${where(path)}: expected ${issue.expected}, got ${describe(got)}`;
    }
    case 'invalid_key':
      return `${file}: ${where(path)}: invalid key: ${issue.issues[0]?.message ?? issue.message}`;
    default:
      return `${file}: ${where(path)}: ${issue.message}`;
  }
}

function discriminatorOptions(path: string[]): string[] {
  // Sources, auth and paginate are the discriminated unions; name their types.
  const last = path.at(-1);
  if (path[0] === 'sources' && path.length === 2) return ['csv', 'api'];
  if (last === 'auth') return ['bearer', 'basic', 'api_key'];
  if (last === 'paginate') return ['none', 'cursor', 'next_url', 'link_header', 'offset', 'page'];
  return [];
}

function getAt(data: unknown, path: string[]): unknown {
  let v = data;
  for (const p of path) v = (v as Record<string, unknown> | undefined)?.[p];
  return v;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return typeof v;
}

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
  if (raw === null || raw === undefined) throw new CliError('CONFIG_INVALID', `${file}: the file is empty`);
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new CliError('CONFIG_INVALID', `${file}: expected a mapping at the top level`);
  }
  const { value, secrets, unset } = interpolateEnv(raw, env, file);
  const withOverrides = applyEnvOverrides(value as Record<string, unknown>, env, secrets);
  const config = validateConfig(withOverrides, file, unset);
  return {
    config,
    secrets: [...new Set([...secrets, ...configSecrets(config)].filter((s) => s.length > 0))],
  };
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
  const config = validateConfig(withOverrides, file, new Map());
  const out: { config: ProjectConfig; secrets: string[]; tsProject?: ProjectDefinition } = {
    config,
    secrets: [...new Set([...secrets, ...configSecrets(config)].filter((s) => s.length > 0))],
  };
  if (project) out.tsProject = project;
  else if (models) out.tsProject = { ...emptyTsProject(config.name), models };
  return out;
}

function emptyTsProject(name: string): ProjectDefinition {
  return defineProject({ name, models: [] });
}

/** zod-validates a config object; the first problem becomes a one-line CliError. */
function validateConfig(
  data: Record<string, unknown>,
  file: string,
  unset: Map<string, string>,
): ProjectConfig {
  const parsed = configSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const message = issue ? formatConfigIssue(file, issue, data, unset) : `${file}: invalid`;
    throw new CliError('CONFIG_INVALID', message);
  }
  return parsed.data;
}

/** Values of a validated config that are credentials even when written literally. */
function configSecrets(config: ProjectConfig): string[] {
  const secrets: string[] = [];
  for (const url of [config.warehouse.url, config.metadata.url, config.lake.url]) {
    const password = url ? passwordOf(url) : undefined;
    if (password) secrets.push(password);
  }
  if (config.lake.secret_access_key) secrets.push(config.lake.secret_access_key);
  for (const source of Object.values(config.sources)) {
    for (const [name, value] of Object.entries(source.headers ?? {})) {
      if (SECRET_HEADER.test(name)) secrets.push(value.replace(/^(Bearer|Basic|Token)\s+/i, ''), value);
    }
    if (source.type !== 'api' || !source.auth) continue;
    const a = source.auth;
    secrets.push(a.type === 'bearer' ? a.token : a.type === 'basic' ? a.password : a.value);
  }
  return secrets;
}

/** Request headers whose values are credentials even when written literally in the file. */
const SECRET_HEADER = /authorization|token|secret|api[-_]?key|password|cookie/i;

/** `DATAFLOW_DATABASE_URL`, `DATAFLOW_LAKE_URL`, `DATAFLOW_S3_ENDPOINT` win over the file. */
function applyEnvOverrides(
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
  if (env.DATAFLOW_LAKE_URL) out.lake = { ...section('lake'), url: env.DATAFLOW_LAKE_URL };
  if (env.DATAFLOW_S3_ENDPOINT) out.lake = { ...section('lake'), endpoint: env.DATAFLOW_S3_ENDPOINT };
  return out;
}

function passwordOf(url: string): string | undefined {
  try {
    const p = new URL(url).password;
    return p ? decodeURIComponent(p) : undefined;
  } catch {
    // Not a URL (e.g. a socket path): there is no password in it to register.
    return undefined;
  }
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
      throw new CliError('CONFIG_INVALID', `${file}${at}: invalid YAML: ${error.message.split('\n')[0]}`, {
        cause: error,
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
    const { config, secrets } = parseConfig(parseYamlText(text, 'dataflow.yml'), env, 'dataflow.yml');
    return { dir: abs, file: 'dataflow.yml', kind: 'dataflow', config, secrets };
  }
  const dbt = await readIfExists(join(abs, 'dbt_project.yml'));
  if (hasTs) {
    const { config, secrets, tsProject } = parseTsConfig(await importTsConfig(abs), env);
    const project: LoadedProject = { dir: abs, file: TS_CONFIG_FILE, kind: 'typescript', config, secrets };
    const models = tsProject ?? (dbt === undefined ? emptyTsProject(config.name) : undefined);
    if (models) project.tsProject = models;
    return project;
  }
  if (dbt !== undefined) {
    const raw = parseYamlText(dbt, 'dbt_project.yml') as { name?: unknown } | null;
    const name = typeof raw?.name === 'string' ? raw.name : 'project';
    const { config, secrets } = parseConfig({ name }, env, 'dbt_project.yml');
    return { dir: abs, file: 'dbt_project.yml', kind: 'dbt', config, secrets };
  }
  throw new CliError(
    'CONFIG_NOT_FOUND',
    `no dataflow.yml or ${TS_CONFIG_FILE} (or dbt_project.yml) in ${abs}; pass --project DIR or run 'dataflow init DIR'`,
  );
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
