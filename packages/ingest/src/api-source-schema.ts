import { z } from 'zod';
import type { ApiAuth, ApiPaginate, ApiSourceOptions, IncrementalOptions } from './api-types.js';

const name = z.string().min(1);

/** `paginate:` as written in YAML (snake_case). */
export const apiPaginateSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('none') }),
  z.strictObject({ type: z.literal('cursor'), cursor_path: name, cursor_param: name }),
  z.strictObject({ type: z.literal('next_url'), next_url_path: name }),
  z.strictObject({ type: z.literal('link_header') }),
  z.strictObject({
    type: z.literal('offset'),
    offset_param: name.optional(),
    limit_param: name.optional(),
    limit: z.number().int().positive(),
  }),
  z.strictObject({
    type: z.literal('page'),
    page_param: name.optional(),
    start_page: z.number().int().nonnegative().optional(),
    size_param: name.optional(),
    page_size: z.number().int().positive().optional(),
  }),
]);

/** `auth:` as written in YAML. */
export const apiAuthSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('bearer'), token: z.string().min(1) }),
  z.strictObject({ type: z.literal('basic'), username: z.string(), password: z.string() }),
  z.strictObject({
    type: z.literal('api_key'),
    name: name,
    value: z.string().min(1),
    in: z.enum(['header', 'query']).default('header'),
  }),
  z.strictObject({
    type: z.literal('oauth2_client_credentials'),
    token_url: z.string().min(1),
    client_id: z.string().min(1),
    client_secret: z.string().min(1),
    scope: z.string().min(1).optional(),
    audience: z.string().min(1).optional(),
  }),
]);

const cursorValue = z.union([z.string().min(1), z.number()]);

/** `incremental:` of an API source as written in YAML. */
export const apiIncrementalSchema = z.strictObject({
  cursor_path: name,
  param: name,
  initial_value: cursorValue,
  end_value: cursorValue.optional(),
  end_param: name.optional(),
  lag: z.number().nonnegative().optional(),
  on_cursor_value_missing: z.enum(['raise', 'include', 'exclude']).optional(),
  row_order: z.enum(['asc', 'desc']).optional(),
  primary_key: z.union([name, z.array(name).min(1)]).optional(),
});

/** `nested:` as written in YAML: `jsonb` (default) or `{ flatten: depth }`. */
export const apiNestedSchema = z.union([
  z.literal('jsonb'),
  z.strictObject({ flatten: z.number().int().positive() }),
]);

/**
 * The fields of an API source as written in YAML (snake_case), without a transform so a config
 * schema can extend it with its own keys; {@link apiSourceOptions} maps a parsed value to the
 * camelCase options of `ingestApi`, and {@link apiSourceSchema} does both.
 *
 * @example
 * const source = apiSourceShape.extend({ table: z.string().optional() });
 */
export const apiSourceShape = z.strictObject({
  type: z.literal('api'),
  url: z.string().min(1),
  params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  records: z.string().optional(),
  paginate: apiPaginateSchema.optional(),
  max_pages: z.number().int().positive().optional(),
  on_max_pages: z.enum(['fail', 'stop']).optional(),
  auth: apiAuthSchema.optional(),
  timeout_ms: z.number().int().positive().optional(),
  retry: z
    .strictObject({
      attempts: z.number().int().positive().optional(),
      base_delay_ms: z.number().int().nonnegative().optional(),
      max_delay_ms: z.number().int().nonnegative().optional(),
    })
    .optional(),
  format: z.enum(['ndjson', 'csv']).default('ndjson'),
  /** Declared columns by name (types are the warehouse's); their names are the CSV columns. */
  columns: z.record(z.string(), z.string()).optional(),
  gzip: z.boolean().optional(),
  part_bytes: z.number().int().positive().optional(),
  nested: apiNestedSchema.optional(),
  incremental: apiIncrementalSchema.optional(),
});

/** A parsed YAML `auth:` block. */
export type ApiAuthYaml = z.output<typeof apiAuthSchema>;

/** A parsed YAML API source (the output of {@link apiSourceShape}). */
export type ApiSourceYaml = z.output<typeof apiSourceShape>;

function authOptions(a: ApiAuthYaml): ApiAuth {
  if (a.type !== 'oauth2_client_credentials') return a;
  return {
    type: a.type,
    tokenUrl: a.token_url,
    clientId: a.client_id,
    clientSecret: a.client_secret,
    ...(a.scope !== undefined ? { scope: a.scope } : {}),
    ...(a.audience !== undefined ? { audience: a.audience } : {}),
  };
}

function incrementalOptions(i: z.output<typeof apiIncrementalSchema>): IncrementalOptions {
  const key = i.primary_key;
  return {
    cursorPath: i.cursor_path,
    param: i.param,
    initialValue: i.initial_value,
    ...(i.end_value !== undefined ? { endValue: i.end_value } : {}),
    ...(i.end_param !== undefined ? { endParam: i.end_param } : {}),
    ...(i.lag !== undefined ? { lag: i.lag } : {}),
    ...(i.on_cursor_value_missing ? { onCursorValueMissing: i.on_cursor_value_missing } : {}),
    ...(i.row_order ? { rowOrder: i.row_order } : {}),
    ...(key !== undefined ? { primaryKey: typeof key === 'string' ? [key] : key } : {}),
  };
}

function paginateOptions(p: z.output<typeof apiPaginateSchema>): ApiPaginate {
  switch (p.type) {
    case 'cursor':
      return { type: 'cursor', cursorPath: p.cursor_path, cursorParam: p.cursor_param };
    case 'next_url':
      return { type: 'next_url', nextUrlPath: p.next_url_path };
    case 'offset':
      return {
        type: 'offset',
        limit: p.limit,
        ...(p.offset_param ? { offsetParam: p.offset_param } : {}),
        ...(p.limit_param ? { limitParam: p.limit_param } : {}),
      };
    case 'page':
      return {
        type: 'page',
        ...(p.page_param ? { pageParam: p.page_param } : {}),
        ...(p.start_page !== undefined ? { startPage: p.start_page } : {}),
        ...(p.page_size !== undefined ? { pageSize: p.page_size } : {}),
        ...(p.size_param ? { sizeParam: p.size_param } : {}),
      };
    default:
      return { type: p.type };
  }
}

/**
 * Maps a parsed YAML API source to `ingestApi`'s camelCase options (everything but where and
 * when: `source`, `interval`, `store`, `runId`, `signal`, `logger`).
 *
 * @example
 * apiSourceOptions(apiSourceShape.parse({ type: 'api', url: 'https://x.test/u', max_pages: 5 })).maxPages; // 5
 */
export function apiSourceOptions(s: ApiSourceYaml): ApiSourceOptions {
  const retry = s.retry;
  return {
    request: {
      url: s.url,
      ...(s.params
        ? { params: Object.fromEntries(Object.entries(s.params).map(([k, v]) => [k, String(v)])) }
        : {}),
      ...(s.headers ? { headers: s.headers } : {}),
      ...(s.auth ? { auth: authOptions(s.auth) } : {}),
      ...(s.timeout_ms ? { timeoutMs: s.timeout_ms } : {}),
    },
    ...(s.records !== undefined ? { records: s.records } : {}),
    ...(s.paginate ? { paginate: paginateOptions(s.paginate) } : {}),
    ...(s.max_pages ? { maxPages: s.max_pages } : {}),
    ...(s.on_max_pages ? { onMaxPages: s.on_max_pages } : {}),
    ...(retry
      ? {
          retry: {
            ...(retry.attempts ? { attempts: retry.attempts } : {}),
            ...(retry.base_delay_ms !== undefined ? { baseDelayMs: retry.base_delay_ms } : {}),
            ...(retry.max_delay_ms !== undefined ? { maxDelayMs: retry.max_delay_ms } : {}),
          },
        }
      : {}),
    format: s.format,
    ...(s.columns ? { columns: Object.keys(s.columns), columnTypes: s.columns } : {}),
    ...(s.nested ? { nested: s.nested } : {}),
    ...(s.incremental ? { incremental: incrementalOptions(s.incremental) } : {}),
    ...(s.gzip !== undefined ? { gzip: s.gzip } : {}),
    ...(s.part_bytes ? { partBytes: s.part_bytes } : {}),
  };
}

/**
 * The API source schema of `dataflow.yml` (snake_case), transforming into `ingestApi`'s options.
 *
 * @example
 * const options = apiSourceSchema.parse({ type: 'api', url: 'https://api.test/users', paginate: { type: 'cursor', cursor_path: 'next', cursor_param: 'after' } });
 * await ingestApi({ ...options, source: 'users', interval, store });
 */
export const apiSourceSchema = apiSourceShape.transform(apiSourceOptions);
