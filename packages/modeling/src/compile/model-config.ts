import type { IncrementalStrategy, Materialization, ModelConfig } from '../graph.js';
import type { ConfigLayer } from '../project-files.js';
import { materializationConfig } from './materialization-config.js';

const MATERIALIZATIONS: readonly Materialization[] = ['view', 'table', 'incremental', 'ephemeral'];
const STRATEGIES: readonly IncrementalStrategy[] = ['append', 'delete+insert', 'merge'];

/**
 * Layers configuration like dbt: later layers win key by key (project folders < schema.yml <
 * inline `config()`), except `tags`, which accumulate.
 *
 * @example
 * mergeLayers([{ materialized: 'view', tags: ['a'] }, { materialized: 'table', tags: 'b' }]);
 * // { materialized: 'table', tags: ['a', 'b'] }
 */
export function mergeLayers(layers: ConfigLayer[]): ConfigLayer {
  const out: ConfigLayer = {};
  const tags = new Set<string>();
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) {
      if (k === 'tags') {
        for (const t of Array.isArray(v) ? v : [v]) if (typeof t === 'string') tags.add(t);
      } else if (k in HOOK_KEYS) {
        // dbt runs the hooks of every layer (project folders, schema.yml, config()), in that order.
        const key = HOOK_KEYS[k] as string;
        const more = (Array.isArray(v) ? v : [v]).filter((h) => h !== undefined && h !== null);
        out[key] = [...((out[key] as unknown[] | undefined) ?? []), ...more];
      } else if (MERGED_DICTS.has(k) && isDict(v) && isDict(out[k])) out[k] = { ...out[k], ...v };
      else if (v !== undefined) out[k] = v;
    }
  }
  out.tags = [...tags];
  return out;
}

/** Hook keys as written (`pre_hook` in `config()`) → the key they accumulate under. */
const HOOK_KEYS: Record<string, string> = {
  'pre-hook': 'pre-hook',
  pre_hook: 'pre-hook',
  'post-hook': 'post-hook',
  post_hook: 'post-hook',
};

/** Config dicts dbt merges key by key across layers instead of replacing. */
const MERGED_DICTS = new Set(['meta', 'docs']);
const isDict = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * `enabled` as dbt reads it: a boolean, or the text a Jinja value rendered to (`'False'`).
 *
 * @example
 * isEnabled('False'); // false
 */
export function isEnabled(raw: unknown): boolean {
  if (typeof raw === 'string') return raw.trim().toLowerCase() !== 'false';
  return raw !== false;
}

function uniqueKeyOf(raw: unknown, report: (msg: string) => void): string[] | undefined {
  if (typeof raw === 'string') return [raw];
  if (Array.isArray(raw) && raw.every((k) => typeof k === 'string')) return raw as string[];
  if (raw !== undefined && raw !== null) report('unique_key must be a column name or a list of column names');
  return undefined;
}

function oneOf<T extends string>(
  raw: unknown,
  allowed: readonly T[],
  what: string,
  report: (msg: string) => void,
) {
  // dbt treats a config set to None (`incremental_strategy=none`) as not set.
  if (raw === undefined || raw === null) return undefined;
  if (allowed.includes(raw as T)) return raw as T;
  report(`unknown ${what} ${JSON.stringify(raw)} (expected ${allowed.join(', ')})`);
  return undefined;
}

/**
 * A materialization or strategy named by text that dataflow does not build: kept in
 * `unsupported` and passed to `warn` (dbt compiles such models; building them fails).
 */
function unsupportedSetting(
  raw: ConfigLayer,
  warn: (msg: string) => void,
): ModelConfig['unsupported'] | undefined {
  if (
    typeof raw.materialized === 'string' &&
    !MATERIALIZATIONS.includes(raw.materialized as Materialization)
  ) {
    warn(
      `materialization ${JSON.stringify(raw.materialized)} is not built by dataflow (expected ${MATERIALIZATIONS.join(', ')}): the model compiles, building it fails`,
    );
    return { setting: 'materialized', value: raw.materialized };
  }
  const strategy = raw.incremental_strategy;
  if (
    raw.materialized === 'incremental' &&
    typeof strategy === 'string' &&
    !STRATEGIES.includes(strategy as IncrementalStrategy)
  ) {
    warn(
      `incremental_strategy ${JSON.stringify(strategy)} is not built by dataflow on PostgreSQL (expected ${STRATEGIES.join(', ')}): the first run builds the table, an incremental run fails`,
    );
    return { setting: 'incremental_strategy', value: strategy };
  }
  return undefined;
}

/**
 * A merged config layer as a typed {@link ModelConfig}; each invalid value is reported (and its
 * default kept). Another adapter's materialization or incremental strategy (a string dataflow does
 * not build) goes to `warn` and `unsupported` instead. Without `unique_key` an incremental model appends.
 *
 * @example
 * toModelConfig({ materialized: 'incremental', unique_key: 'id' }, console.error);
 * // { materialized: 'incremental', incrementalStrategy: 'merge', uniqueKey: ['id'], tags: [], enabled: true }
 */
export function toModelConfig(
  raw: ConfigLayer,
  report: (msg: string) => void,
  warn: (msg: string) => void = report,
): ModelConfig {
  const unsupported = unsupportedSetting(raw, warn);
  const materialized =
    unsupported?.setting === 'materialized'
      ? 'view'
      : (oneOf(raw.materialized, MATERIALIZATIONS, 'materialization', report) ?? 'view');
  const uniqueKey = uniqueKeyOf(raw.unique_key, report);
  // A strategy only matters to an incremental model: dbt ignores another adapter's strategy elsewhere.
  const otherAdapterStrategy =
    typeof raw.incremental_strategy === 'string' &&
    !STRATEGIES.includes(raw.incremental_strategy as IncrementalStrategy);
  const strategy =
    unsupported || otherAdapterStrategy
      ? undefined
      : oneOf(raw.incremental_strategy, STRATEGIES, 'incremental_strategy', report);
  const unset = raw.incremental_strategy === undefined || raw.incremental_strategy === null;
  const incrementalStrategy: IncrementalStrategy = strategy ?? (unset && !uniqueKey ? 'append' : 'merge');
  if (!unsupported && materialized === 'incremental' && incrementalStrategy !== 'append' && !uniqueKey)
    report(`incremental_strategy ${incrementalStrategy} needs a unique_key`);
  const config: ModelConfig = {
    materialized,
    incrementalStrategy,
    tags: (raw.tags as string[]) ?? [],
    enabled: isEnabled(raw.enabled),
  };
  if (uniqueKey) config.uniqueKey = uniqueKey;
  if (unsupported) config.unsupported = unsupported;
  if (typeof raw.schema === 'string') config.schema = raw.schema;
  if (typeof raw.alias === 'string') config.alias = raw.alias;
  if (typeof raw.database === 'string') config.database = raw.database;
  if (typeof raw.full_refresh === 'boolean') config.fullRefresh = raw.full_refresh;
  if (raw.meta !== undefined) {
    if (isDict(raw.meta)) config.meta = raw.meta;
    else report('meta must be a mapping');
  }
  if (raw.docs !== undefined) {
    if (isDict(raw.docs)) config.docs = raw.docs;
    else report('docs must be a mapping (show, node_color)');
  }
  return Object.assign(config, materializationConfig(raw, report));
}

/**
 * dbt's default `generate_schema_name`: a custom schema is appended to the target schema.
 *
 * @example
 * schemaFor('analytics', 'staging'); // 'analytics_staging'
 */
export const schemaFor = (target: string, custom: unknown): string =>
  typeof custom === 'string' && custom ? `${target}_${custom}` : target;
