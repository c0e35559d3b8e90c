import { IngestError } from './errors.js';
import { assertInterval, type Interval } from './interval.js';
import type { ObjectStore } from './object-store.js';

/** One data file of a committed partition. `key` is relative to the store root. */
export interface ManifestFile {
  key: string;
  rows: number;
  bytes: number;
  sha256: string;
}

/** The commit record of a partition, written last as `<source>/dt=<ds>/_manifest.json`. */
export interface PartitionManifest {
  version: 1;
  source: string;
  /** `dt=<ds>`, or `w=<id>` for the window of an incremental (cursor) run. */
  partition: string;
  interval: Interval;
  runId: string;
  attempt: string;
  createdAt: string;
  format: 'csv' | 'ndjson';
  compression: 'gzip' | 'none';
  /** Header order (CSV) or union of top-level keys in first-seen order (NDJSON). */
  columns: string[];
  files: ManifestFile[];
  rows: number;
  /** Sum of stored (possibly compressed) bytes of `files`. */
  bytes: number;
  rejects?: { key: string; rows: number };
  /**
   * The column types of the records (NDJSON sources): inferred from every record in one pass,
   * declared `columns:` types taking precedence. Absent for CSV sources and older manifests.
   */
  schema?: ColumnSchema[];
  /** For an incremental (cursor) run: the cursor range this partition holds. */
  cursor?: CursorRange;
}

/** A PostgreSQL type a record column can land as. */
export type RecordColumnType =
  | 'integer'
  | 'bigint'
  | 'numeric'
  | 'boolean'
  | 'date'
  | 'timestamp'
  | 'timestamptz'
  | 'jsonb'
  | 'text';

/** One column of {@link PartitionManifest.schema}. `declared`: from the source's `columns:`, not inferred. */
export interface ColumnSchema {
  name: string;
  type: RecordColumnType;
  /** True when at least one record had null or lacked the key. */
  nullable: boolean;
  declared?: boolean;
  /** The type as declared in `columns:` (e.g. `uuid`, `numeric(12,2)`), when `declared`. */
  declaredType?: string;
}

/** A cursor value as the API returns it (ISO timestamp text or a number). */
export type CursorValue = string | number;

/**
 * What an incremental source remembers between runs (kept in the warehouse, advanced in the
 * load's publish transaction). `boundaryKeys`: JSON texts of the primary-key values of the
 * records whose cursor equals `lastValue`, dropped when the next window re-reads them (dlt's rule).
 */
export interface CursorState {
  lastValue: CursorValue;
  boundaryKeys: string[];
}

/** The cursor range of one incremental run: what it asked from and the highest value it read. */
export interface CursorRange {
  /** The record field (`cursor_path`) the cursor reads. */
  path: string;
  /** The value sent as the request parameter (the state's `lastValue` minus `lag`, or `initial_value`). */
  from: CursorValue;
  /** The highest cursor value read; equals `from` when no record was read. */
  to: CursorValue;
  /** Keys of the records whose cursor equals `to` (the next state's `boundaryKeys`). */
  boundaryKeys: string[];
  /** Records dropped as boundary duplicates of the previous run. */
  duplicatesDropped: number;
}

export const MANIFEST_NAME = '_manifest.json';
export const SUCCESS_NAME = '_SUCCESS';

const SOURCE_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Throws INVALID_OPTIONS unless `source` is a safe single path segment (letters, digits, `_ . -`). */
export function assertSourceName(source: string): void {
  if (typeof source !== 'string' || !SOURCE_RE.test(source) || source.length > 200) {
    throw new IngestError(
      'INVALID_OPTIONS',
      `invalid source name ${JSON.stringify(source)}: use letters, digits, _ . -`,
    );
  }
}

const PARTITION_RE = /^(dt=\d{4}-\d{2}-\d{2}|w=[0-9A-Za-z][0-9A-Za-z_.-]{0,99})$/;

/**
 * The partition name of a run: `dt=<interval start>` for interval runs, or the given window
 * name (`w=<id>`) for an incremental run, so a second cursor run on one day never replaces the
 * first window. Throws INVALID_OPTIONS for any other shape.
 *
 * @example
 * partitionName(dailyInterval('2024-01-01')); // 'dt=2024-01-01'
 * partitionName(dailyInterval('2024-01-01'), 'w=20240101T101500Z'); // 'w=20240101T101500Z'
 */
export function partitionName(interval: Interval, partition?: string): string {
  assertInterval(interval);
  const name = partition ?? `dt=${interval.start}`;
  if (!PARTITION_RE.test(name)) {
    throw new IngestError(
      'INVALID_OPTIONS',
      `invalid partition ${JSON.stringify(name)}: expected dt=YYYY-MM-DD or w=<letters, digits, _ . ->`,
    );
  }
  return name;
}

/**
 * The key prefix of a partition: `<source>/dt=<ds>/`, or `<source>/w=<id>/` for a cursor window.
 *
 * @example
 * partitionPrefix('orders', dailyInterval('2024-01-01')); // 'orders/dt=2024-01-01/'
 */
export function partitionPrefix(source: string, interval: Interval, partition?: string): string {
  assertSourceName(source);
  return `${source}/${partitionName(interval, partition)}/`;
}

/** Key of the n-th data file of an attempt: `part-00000-<attempt>.<ext>`. */
export function partKey(prefix: string, index: number, attempt: string, extension: string): string {
  return `${prefix}part-${String(index).padStart(5, '0')}-${attempt}.${extension}`;
}

// Checked by hand rather than with zod: every `dataflow load` reads manifests, and zod's start-up
// would cost each of those processes more than the read (issue 13). Unknown keys are dropped.

const RECORD_COLUMN_TYPES: readonly RecordColumnType[] = [
  'integer',
  'bigint',
  'numeric',
  'boolean',
  'date',
  'timestamp',
  'timestamptz',
  'jsonb',
  'text',
];

/** What was wrong with a manifest, by JSON path (the cause of BAD_MANIFEST). */
class ManifestShapeError extends Error {
  constructor(path: string, expected: string) {
    super(`${path || '(root)'}: expected ${expected}`);
    this.name = 'ManifestShapeError';
  }
}

type Json = Record<string, unknown>;

function object(v: unknown, path: string): Json {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new ManifestShapeError(path, 'an object');
  return v as Json;
}
function text(o: Json, key: string, path: string): string {
  if (typeof o[key] !== 'string') throw new ManifestShapeError(`${path}${key}`, 'a string');
  return o[key];
}
function count(o: Json, key: string, path: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw new ManifestShapeError(`${path}${key}`, 'a non-negative integer');
  return v;
}
function flag(o: Json, key: string, path: string): boolean {
  if (typeof o[key] !== 'boolean') throw new ManifestShapeError(`${path}${key}`, 'true or false');
  return o[key];
}
function oneOf<T extends string>(o: Json, key: string, values: readonly T[], path: string): T {
  if (!values.includes(o[key] as T)) throw new ManifestShapeError(`${path}${key}`, values.join(' | '));
  return o[key] as T;
}
function list<T>(o: Json, key: string, path: string, item: (v: unknown, at: string) => T): T[] {
  const v = o[key];
  if (!Array.isArray(v)) throw new ManifestShapeError(`${path}${key}`, 'an array');
  return v.map((x, i) => item(x, `${path}${key}[${i}]`));
}
function cursorValue(o: Json, key: string, path: string): CursorValue {
  const v = o[key];
  if (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) return v;
  throw new ManifestShapeError(`${path}${key}`, 'a string or a number');
}
const stringItem = (v: unknown, at: string): string => {
  if (typeof v !== 'string') throw new ManifestShapeError(at, 'a string');
  return v;
};

function manifestFile(v: unknown, at: string): ManifestFile {
  const o = object(v, at);
  const p = `${at}.`;
  const sha256 = text(o, 'sha256', p);
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new ManifestShapeError(`${p}sha256`, '64 lowercase hex digits');
  return { key: text(o, 'key', p), rows: count(o, 'rows', p), bytes: count(o, 'bytes', p), sha256 };
}

function columnSchema(v: unknown, at: string): ColumnSchema {
  const o = object(v, at);
  const p = `${at}.`;
  return {
    name: text(o, 'name', p),
    type: oneOf(o, 'type', RECORD_COLUMN_TYPES, p),
    nullable: flag(o, 'nullable', p),
    ...(o.declared !== undefined ? { declared: flag(o, 'declared', p) } : {}),
    ...(o.declaredType !== undefined ? { declaredType: text(o, 'declaredType', p) } : {}),
  };
}

function cursorRange(v: unknown): CursorRange {
  const o = object(v, 'cursor');
  const p = 'cursor.';
  return {
    path: text(o, 'path', p),
    from: cursorValue(o, 'from', p),
    to: cursorValue(o, 'to', p),
    boundaryKeys: list(o, 'boundaryKeys', p, stringItem),
    duplicatesDropped: count(o, 'duplicatesDropped', p),
  };
}

/** The manifest in `json`, or a ManifestShapeError naming the first key that is not as written. */
function checkManifest(json: unknown): PartitionManifest {
  const o = object(json, '');
  if (o.version !== 1) throw new ManifestShapeError('version', '1');
  const interval = object(o.interval, 'interval');
  const rejects = o.rejects === undefined ? undefined : object(o.rejects, 'rejects');
  return {
    version: 1,
    source: text(o, 'source', ''),
    partition: text(o, 'partition', ''),
    interval: { start: text(interval, 'start', 'interval.'), end: text(interval, 'end', 'interval.') },
    runId: text(o, 'runId', ''),
    attempt: text(o, 'attempt', ''),
    createdAt: text(o, 'createdAt', ''),
    format: oneOf(o, 'format', ['csv', 'ndjson'] as const, ''),
    compression: oneOf(o, 'compression', ['gzip', 'none'] as const, ''),
    columns: list(o, 'columns', '', stringItem),
    files: list(o, 'files', '', manifestFile),
    rows: count(o, 'rows', ''),
    bytes: count(o, 'bytes', ''),
    ...(rejects
      ? { rejects: { key: text(rejects, 'key', 'rejects.'), rows: count(rejects, 'rows', 'rejects.') } }
      : {}),
    ...(o.schema !== undefined ? { schema: list(o, 'schema', '', columnSchema) } : {}),
    ...(o.cursor !== undefined ? { cursor: cursorRange(o.cursor) } : {}),
  };
}

/**
 * Parses and validates manifest JSON text; BAD_MANIFEST when it is not one.
 *
 * @example
 * const manifest = parseManifest(await readFile('_manifest.json', 'utf8'), 'orders/dt=2026-05-01/_manifest.json');
 * manifest.files.map((f) => f.key); // ['orders/dt=2026-05-01/part-00000-3f9a1c2e.csv.gz']
 */
export function parseManifest(text: string, location: string): PartitionManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new IngestError('BAD_MANIFEST', `manifest is not valid JSON: ${location}`, { location, cause });
  }
  try {
    return checkManifest(json);
  } catch (cause) {
    if (!(cause instanceof ManifestShapeError)) throw cause;
    throw new IngestError(
      'BAD_MANIFEST',
      `manifest does not match the schema: ${location} (${cause.message})`,
      {
        location,
        cause,
      },
    );
  }
}

async function readText(store: ObjectStore, key: string): Promise<string> {
  const stream = await store.get(key);
  stream.setEncoding('utf8');
  let text = '';
  for await (const chunk of stream) text += chunk as string;
  return text;
}

/**
 * The committed manifest of a partition, or `undefined` when the partition was never committed.
 * Files of an attempt that failed before its manifest are never visible through this.
 *
 * @example
 * const m = await readManifest(store, 'orders', dailyInterval('2024-01-01'));
 * for (const f of m?.files ?? []) await store.get(f.key);
 */
export async function readManifest(
  store: ObjectStore,
  source: string,
  interval: Interval,
  partition?: string,
): Promise<PartitionManifest | undefined> {
  const key = partitionPrefix(source, interval, partition) + MANIFEST_NAME;
  let text: string;
  try {
    text = await readText(store, key);
  } catch (error) {
    if (error instanceof IngestError && error.code === 'NOT_FOUND') return undefined;
    throw error;
  }
  return parseManifest(text, key);
}

/**
 * The `dt` values (`YYYY-MM-DD`) of a source's committed partitions, sorted ascending.
 *
 * @example
 * await listPartitions(store, 'orders'); // ['2024-01-01', '2024-01-02']
 */
export async function listPartitions(store: ObjectStore, source: string): Promise<string[]> {
  assertSourceName(source);
  const base = `${source}/dt=`;
  const out: string[] = [];
  for await (const { key } of store.list(base)) {
    const rest = key.slice(base.length);
    const slash = rest.indexOf('/');
    if (slash > 0 && rest.slice(slash + 1) === MANIFEST_NAME) out.push(rest.slice(0, slash));
  }
  return out.sort();
}
