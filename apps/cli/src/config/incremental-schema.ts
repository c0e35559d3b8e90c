import { apiAuthSchema } from '@dataflow/ingest';
import { z } from 'zod';
import type {
  ApiIncrementalOptions,
  CsvIncrementalOptions,
  NestedOption,
  OAuth2ClientCredentialsAuth,
} from '../pipeline/incremental.js';

// The YAML (snake_case) of issue 16's source keys, and their mapping to ingest's camelCase options.

const name = z.string().min(1);
const cursorValue = z.union([z.string().min(1), z.number()]);
const keyList = z.union([name, z.array(name).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]));

/** Fields both cursor kinds share. */
const cursorFields = {
  initial_value: cursorValue,
  end_value: cursorValue.optional(),
  /** Re-read this far behind the last value: seconds for timestamps, units for numbers. */
  lag: z.number().nonnegative().optional(),
  on_cursor_value_missing: z.enum(['raise', 'include', 'exclude']).optional(),
  /** Boundary de-duplication key (default: the source's `primary_key`, else the whole record). */
  primary_key: keyList.optional(),
};

/** `incremental:` on an API source. */
export const apiIncrementalSchema = z.strictObject({
  cursor_path: name,
  param: name,
  end_param: name.optional(),
  row_order: z.enum(['asc', 'desc']).optional(),
  ...cursorFields,
});

/** `incremental:` on a CSV source (an append-only feed). */
export const csvIncrementalSchema = z.strictObject({ cursor_column: name, ...cursorFields });

/** `nested:` on an API source: `jsonb` (default) or `{ flatten: depth }`. */
export const nestedSchema = z.union([
  z.literal('jsonb'),
  z.strictObject({ flatten: z.number().int().min(1).max(10) }),
]);

const oauth2Schema = z.strictObject({
  type: z.literal('oauth2_client_credentials'),
  token_url: z.string().url(),
  client_id: name,
  client_secret: name,
  scope: z.string().optional(),
  audience: z.string().optional(),
});

/** `auth:` on an API source: ingest's kinds plus OAuth2 client credentials. */
export const apiAuthWithOAuth2Schema = z.union([apiAuthSchema, oauth2Schema]);

type ApiIncrementalYaml = z.output<typeof apiIncrementalSchema>;
type CsvIncrementalYaml = z.output<typeof csvIncrementalSchema>;
type CursorYaml = ApiIncrementalYaml | CsvIncrementalYaml;

function cursorOptions(y: CursorYaml, sourceKey: readonly string[] | undefined) {
  const primaryKey = y.primary_key ?? sourceKey;
  return {
    initialValue: y.initial_value,
    ...(y.end_value !== undefined ? { endValue: y.end_value } : {}),
    ...(y.lag !== undefined ? { lag: y.lag } : {}),
    ...(y.on_cursor_value_missing ? { onCursorValueMissing: y.on_cursor_value_missing } : {}),
    ...(primaryKey?.length ? { primaryKey: [...primaryKey] } : {}),
  };
}

/**
 * An API source's `incremental:` as ingest's options; the source's `primary_key` is the boundary
 * key unless the block names one.
 *
 * @example
 * apiIncrementalOptions({ cursor_path: 'updated_at', param: 'updated_since', initial_value: '2024-01-01' }, ['id']);
 * // { cursorPath: 'updated_at', param: 'updated_since', initialValue: '2024-01-01', primaryKey: ['id'] }
 */
export function apiIncrementalOptions(
  y: ApiIncrementalYaml,
  sourceKey: readonly string[] | undefined,
): ApiIncrementalOptions {
  return {
    cursorPath: y.cursor_path,
    param: y.param,
    ...(y.end_param ? { endParam: y.end_param } : {}),
    ...(y.row_order ? { rowOrder: y.row_order } : {}),
    ...cursorOptions(y, sourceKey),
  };
}

/**
 * A CSV source's `incremental:` as ingest's options.
 *
 * @example
 * csvIncrementalOptions({ cursor_column: 'id', initial_value: 0 }, undefined); // { cursorColumn: 'id', initialValue: 0 }
 */
export function csvIncrementalOptions(
  y: CsvIncrementalYaml,
  sourceKey: readonly string[] | undefined,
): CsvIncrementalOptions {
  return { cursorColumn: y.cursor_column, ...cursorOptions(y, sourceKey) };
}

/**
 * `nested:` as ingest's option.
 *
 * @example
 * nestedOption({ flatten: 2 }); // { flatten: 2 }
 */
export function nestedOption(y: z.output<typeof nestedSchema>): NestedOption {
  return y === 'jsonb' ? 'jsonb' : { flatten: y.flatten };
}

/**
 * OAuth2 `auth:` as ingest's option; other kinds are ingest's own mapping (undefined here).
 *
 * @example
 * oauth2Auth({ type: 'oauth2_client_credentials', token_url: 'https://id.test/token', client_id: 'a', client_secret: 's' });
 * // { type: 'oauth2_client_credentials', tokenUrl: 'https://id.test/token', clientId: 'a', clientSecret: 's' }
 */
export function oauth2Auth(
  y: z.output<typeof apiAuthWithOAuth2Schema>,
): OAuth2ClientCredentialsAuth | undefined {
  if (y.type !== 'oauth2_client_credentials') return undefined;
  return {
    type: y.type,
    tokenUrl: y.token_url,
    clientId: y.client_id,
    clientSecret: y.client_secret,
    ...(y.scope ? { scope: y.scope } : {}),
    ...(y.audience ? { audience: y.audience } : {}),
  };
}
