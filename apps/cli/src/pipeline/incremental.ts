// ADAPTER (issue 16, merge seam): the cursor surface of @dataflow/ingest that helper `incr-ingest`
// builds in parallel, typed here as the contract (CONTRACT-16.md) names it, so the CLI compiles
// and runs against an ingest with or without it. At merge: replace these types with ingest's
// exports (`IncrementalOptions`, the CSV `incremental` option, `windowPartition`, the oauth2 auth)
// and `ingestSupportsCursors` with `true`. Nothing else in the CLI declares them.

import type { CursorState, CursorValue } from '@dataflow/ingest';
import * as ingest from '@dataflow/ingest';

/** `IngestApiOptions.incremental` (contract names). */
export interface ApiIncrementalOptions {
  cursorPath: string;
  param: string;
  initialValue: CursorValue;
  endValue?: CursorValue;
  endParam?: string;
  lag?: number;
  onCursorValueMissing?: 'raise' | 'include' | 'exclude';
  rowOrder?: 'asc' | 'desc';
  primaryKey?: string[];
}

/** The CSV source's `incremental` option (contract names). */
export interface CsvIncrementalOptions {
  cursorColumn: string;
  initialValue: CursorValue;
  endValue?: CursorValue;
  lag?: number;
  onCursorValueMissing?: 'raise' | 'include' | 'exclude';
  primaryKey?: string[];
}

/** `nested:` on API sources: keep objects as jsonb (default) or flatten to `parent__child` columns. */
export type NestedOption = 'jsonb' | { flatten: number };

/** OAuth2 client-credentials auth (contract names). */
export interface OAuth2ClientCredentialsAuth {
  type: 'oauth2_client_credentials';
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope?: string;
  audience?: string;
}

/** What a cursor run adds to `ingestApi` / `ingestCsv`'s options. */
export interface CursorRunOptions {
  /** The stored state; absent on the first run (ingest starts at `initialValue`). */
  cursorState?: CursorState;
  /** The window partition (`w=<id>`) the run lands as. */
  partition: string;
}

interface IngestCursorApi {
  windowPartition(now?: Date): string;
}

const cursorApi = ingest as unknown as Partial<IngestCursorApi>;

/** Whether the linked @dataflow/ingest reads API sources by cursor (it exports `windowPartition`). */
export const ingestSupportsCursors: boolean = typeof cursorApi.windowPartition === 'function';

/**
 * Whether `ingestCsv` reads by cursor (top-level `incremental`, `cursorState` and `partition`).
 * Not detectable from ingest's exports: set it to `true` when it lands.
 */
export const ingestSupportsCsvCursors = false;

/**
 * A new window partition name (`w=<UTC yyyymmddThhmmssZ>-<6 hex>`), made by ingest.
 *
 * @example
 * newWindowPartition(); // 'w=20261130T081500Z-3fa9c1'
 */
export function newWindowPartition(now?: Date): string {
  if (!cursorApi.windowPartition) throw new Error('@dataflow/ingest has no cursor support');
  return cursorApi.windowPartition(now);
}

/**
 * The options as `ingestApi` takes them. The cast is the seam: this ingest's `request.auth` type
 * lacks OAuth2 and its options lack the cursor fields until incr-ingest's branch lands.
 */
export function asIngestApiOptions<T extends object>(options: T): ingest.IngestApiOptions {
  return options as unknown as ingest.IngestApiOptions;
}
