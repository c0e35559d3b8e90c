import type { CursorWindowOptions } from './cursor-window.js';
import type { NestedMode } from './flatten.js';
import type { Interval } from './interval.js';
import type { Logger } from './logger.js';
import type { CursorState } from './manifest.js';
import type { OAuth2ClientCredentials } from './oauth2.js';
import type { ObjectStore } from './object-store.js';
import type { PartitionLease } from './partition-lock.js';
import type { RetryOptions } from './retry.js';

/** Authentication of API requests. Secrets never appear in errors or logs. */
export type ApiAuth =
  | { type: 'bearer'; token: string }
  | { type: 'basic'; username: string; password: string }
  | { type: 'api_key'; name: string; value: string; in: 'header' | 'query' }
  | OAuth2ClientCredentials;

/** How to walk the pages of an API (defaults: `offset`/`limit`, `page` from 1). */
export type ApiPaginate =
  | { type: 'none' }
  | { type: 'cursor'; cursorPath: string; cursorParam: string }
  | { type: 'next_url'; nextUrlPath: string }
  | { type: 'link_header' }
  | { type: 'offset'; limit: number; offsetParam?: string; limitParam?: string }
  | { type: 'page'; pageParam?: string; startPage?: number; pageSize?: number; sizeParam?: string };

/**
 * An incremental (cursor) API source: each run asks for records from the remembered last value
 * (minus `lag`) by sending it as `param`, and records the range it read in `manifest.cursor`.
 */
export interface IncrementalOptions extends CursorWindowOptions {
  /** Where a record's cursor value is: a dotted path or JSONPath (`updated_at`, `$.meta.updated`). */
  cursorPath: string;
  /** Query parameter that receives the window start. */
  param: string;
  /** Query parameter that receives `endValue`, when there is one. */
  endParam?: string;
}

/** The GET request of the first page. `url` and `params` values may use `{{ ds }}`-style placeholders. */
export interface ApiRequest {
  url: string;
  params?: Record<string, string>;
  headers?: Record<string, string>;
  auth?: ApiAuth;
  /** Per-request timeout (headers and body). Default 30 s. */
  timeoutMs?: number;
}

/** What an API source says (the camelCase form of its YAML; see `apiSourceSchema`). */
export interface ApiSourceOptions {
  request: ApiRequest;
  /** Dotted path to the records array in the JSON body; `''` (default) means the body is the array. */
  records?: string;
  paginate?: ApiPaginate;
  /** At most this many pages. Default 10,000. */
  maxPages?: number;
  /** `fail` (default): more pages than `maxPages` is a MAX_PAGES error. `stop`: commit what was read. */
  onMaxPages?: 'fail' | 'stop';
  retry?: RetryOptions;
  /** `ndjson` (default): one JSON object per line. `csv`: the declared `columns`, header first. */
  format?: 'ndjson' | 'csv';
  /** Required for `csv`: the columns, in order. Objects/arrays are written as JSON text; null as empty. */
  columns?: string[];
  /** Declared types by column (`columns:` of the YAML): they win over inference in `manifest.schema`. */
  columnTypes?: Record<string, string>;
  /** Nested objects: one `jsonb` value (default) or `{ flatten: depth }` into `parent__child` keys. */
  nested?: NestedMode;
  /** Read by a cursor instead of (or within) the interval. */
  incremental?: IncrementalOptions;
  /** Gzip the stored parts. Default true. */
  gzip?: boolean;
  /** zlib level 0-9. Default 1. */
  gzipLevel?: number;
  /** Close a part once its uncompressed bytes reach about this many. Default 64 MiB. */
  partBytes?: number;
}

/** Arguments of `ingestApi`: the source's options plus where and when to land it. */
export interface IngestApiOptions extends ApiSourceOptions {
  source: string;
  interval: Interval;
  store: ObjectStore;
  runId?: string;
  signal?: AbortSignal;
  logger?: Logger;
  /** Serialises commits of the partition (e.g. a PostgreSQL advisory lease); default a store lock. */
  lease?: PartitionLease;
  /** Files of other attempts younger than this are never deleted. Default 1 h. */
  graceMs?: number;
  /** The cursor state of the previous runs (read from the warehouse); absent: `initialValue`. */
  cursorState?: CursorState;
  /** The lake partition: `w=<id>` (see `windowPartition`) for a cursor run; default `dt=<interval start>`. */
  partition?: string;
}
