/** How a snapshot detects a changed row: a newer `updated_at`, or different values in `check_cols`. */
export type SnapshotStrategy = 'timestamp' | 'check';

/**
 * What happens to the current version of a key that left the source: `ignore` keeps it current,
 * `invalidate` closes it (`dbt_valid_to` = snapshot time), `new_record` closes it and adds a
 * version flagged `dbt_is_deleted = 'True'`.
 */
export type HardDeletes = 'ignore' | 'invalidate' | 'new_record';

/** Names of the metadata columns a snapshot table carries (dbt's `snapshot_meta_column_names`). */
export interface SnapshotMetaColumns {
  validFrom: string;
  validTo: string;
  scdId: string;
  updatedAt: string;
  isDeleted: string;
}

/** A snapshot's resolved configuration: plain data, safe to serialise in the compiled graph. */
export interface SnapshotConfig {
  strategy: SnapshotStrategy;
  /** Column names; several make a composite key. */
  uniqueKey: string[];
  /** The source column holding the row's change time (required by `timestamp`, optional for `check`). */
  updatedAt?: string;
  /** `check` only: `'all'` source columns, or the listed ones. */
  checkCols?: 'all' | string[];
  hardDeletes: HardDeletes;
  /**
   * SQL expression stored in `dbt_valid_to` of current rows instead of NULL (dbt's
   * `dbt_valid_to_current`, e.g. `'9999-12-31'::timestamp`). Project SQL, like a model's.
   */
  validToCurrent?: string;
  columns: SnapshotMetaColumns;
}

/** Default metadata column names. */
export const DEFAULT_SNAPSHOT_COLUMNS: SnapshotMetaColumns = {
  validFrom: 'dbt_valid_from',
  validTo: 'dbt_valid_to',
  scdId: 'dbt_scd_id',
  updatedAt: 'dbt_updated_at',
  isDeleted: 'dbt_is_deleted',
};

const META_KEYS: Record<string, keyof SnapshotMetaColumns> = {
  dbt_valid_from: 'validFrom',
  dbt_valid_to: 'validTo',
  dbt_scd_id: 'scdId',
  dbt_updated_at: 'updatedAt',
  dbt_is_deleted: 'isDeleted',
};

const nonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.trim().length > 0;

function stringList(value: unknown): string[] | undefined {
  if (nonEmptyString(value)) return [value.trim()];
  if (Array.isArray(value) && value.length > 0 && value.every(nonEmptyString))
    return value.map((v) => v.trim());
  return undefined;
}

function hardDeletesOf(raw: Record<string, unknown>, problems: string[]): HardDeletes {
  const legacy = raw.invalidate_hard_deletes;
  const mode = raw.hard_deletes;
  if (legacy !== undefined && mode !== undefined) {
    problems.push('set either hard_deletes or the older invalidate_hard_deletes, not both');
    return 'ignore';
  }
  if (legacy !== undefined) {
    if (typeof legacy !== 'boolean') problems.push('invalidate_hard_deletes must be true or false');
    return legacy === true ? 'invalidate' : 'ignore';
  }
  if (mode === undefined || mode === 'ignore' || mode === 'invalidate' || mode === 'new_record')
    return mode ?? 'ignore';
  problems.push(`hard_deletes must be ignore, invalidate or new_record, got ${JSON.stringify(mode)}`);
  return 'ignore';
}

function metaColumnsOf(value: unknown, problems: string[]): SnapshotMetaColumns {
  const columns = { ...DEFAULT_SNAPSHOT_COLUMNS };
  if (value === undefined) return columns;
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    problems.push('snapshot_meta_column_names must be a mapping such as { dbt_valid_from: start_at }');
    return columns;
  }
  for (const [key, name] of Object.entries(value)) {
    const field = META_KEYS[key];
    if (!field)
      problems.push(
        `snapshot_meta_column_names: unknown key ${key} (expected ${Object.keys(META_KEYS).join(', ')})`,
      );
    else if (!nonEmptyString(name)) problems.push(`snapshot_meta_column_names.${key} must be a column name`);
    else columns[field] = name;
  }
  if (new Set(Object.values(columns)).size < Object.keys(columns).length)
    problems.push('snapshot_meta_column_names gives two metadata columns the same name');
  return columns;
}

function checkColsOf(value: unknown, problems: string[]): 'all' | string[] | undefined {
  if (value === 'all') return 'all';
  const list = stringList(value);
  if (!list)
    problems.push(`check_cols must be "all" or a list of column names, got ${JSON.stringify(value)}`);
  return list;
}

/**
 * Resolves a snapshot's dbt configuration (`strategy`, `unique_key`, `updated_at`, `check_cols`,
 * `hard_deletes` / `invalidate_hard_deletes`, `dbt_valid_to_current`,
 * `snapshot_meta_column_names`) into a {@link SnapshotConfig}, collecting every problem.
 *
 * @example
 * resolveSnapshotConfig({ strategy: 'check', unique_key: ['id', 'region'], check_cols: 'all' });
 * // { config: { strategy: 'check', uniqueKey: ['id', 'region'], checkCols: 'all', hardDeletes: 'ignore', columns: {...} }, problems: [] }
 */
export function resolveSnapshotConfig(raw: Record<string, unknown>): {
  config?: SnapshotConfig;
  problems: string[];
} {
  const problems: string[] = [];
  const strategy = raw.strategy;
  if (strategy !== 'timestamp' && strategy !== 'check')
    problems.push(`strategy must be timestamp or check, got ${JSON.stringify(strategy)}`);
  const uniqueKey = stringList(raw.unique_key);
  if (!uniqueKey) problems.push('unique_key is required: a column name or a list of column names');
  const updatedAt = raw.updated_at;
  if (updatedAt !== undefined && !nonEmptyString(updatedAt))
    problems.push('updated_at must be a column name');
  if (strategy === 'timestamp' && updatedAt === undefined)
    problems.push('the timestamp strategy needs updated_at');
  let checkCols: 'all' | string[] | undefined;
  if (strategy === 'check') {
    if (raw.check_cols === undefined) problems.push('the check strategy needs check_cols ("all" or a list)');
    else checkCols = checkColsOf(raw.check_cols, problems);
  }
  const hardDeletes = hardDeletesOf(raw, problems);
  const validToCurrent = raw.dbt_valid_to_current;
  if (validToCurrent !== undefined && !nonEmptyString(validToCurrent))
    problems.push('dbt_valid_to_current must be a SQL expression such as "\'9999-12-31\'::timestamp"');
  const columns = metaColumnsOf(raw.snapshot_meta_column_names, problems);
  if (problems.length > 0 || !uniqueKey || (strategy !== 'timestamp' && strategy !== 'check'))
    return { problems };
  return {
    config: {
      strategy,
      uniqueKey,
      ...(nonEmptyString(updatedAt) ? { updatedAt: updatedAt.trim() } : {}),
      ...(checkCols ? { checkCols } : {}),
      hardDeletes,
      ...(nonEmptyString(validToCurrent) ? { validToCurrent: validToCurrent.trim() } : {}),
      columns,
    },
    problems,
  };
}
