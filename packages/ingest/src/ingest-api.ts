import { z } from 'zod';
import { csvLine } from './csv-format.js';
import { abortError, IngestError } from './errors.js';
import { httpGet } from './http-client.js';
import { assertInterval, type Interval, renderLocation } from './interval.js';
import { type Logger, silentLogger } from './logger.js';
import type { PartitionManifest } from './manifest.js';
import type { ObjectStore } from './object-store.js';
import {
  type ApiPaginate,
  firstPageUrl,
  getPath,
  nextPage,
  parsePaginate,
  withParams,
} from './pagination.js';
import { PartitionAttempt, PartQueue } from './partition-writer.js';
import { redactUrl } from './redact.js';
import { type RetryOptions, retryPolicy } from './retry.js';

export type { ApiPaginate } from './pagination.js';

/** Authentication of API requests. Secrets never appear in errors or logs. */
export type ApiAuth =
  | { type: 'bearer'; token: string }
  | { type: 'basic'; username: string; password: string }
  | { type: 'api_key'; name: string; value: string; in: 'header' | 'query' };

/** The GET request of the first page. `url` and `params` values may use `{{ ds }}`-style placeholders. */
export interface ApiRequest {
  url: string;
  params?: Record<string, string>;
  headers?: Record<string, string>;
  auth?: ApiAuth;
  /** Per-request timeout (headers and body). Default 30 s. */
  timeoutMs?: number;
  timeout_ms?: number;
}

/** Arguments of {@link ingestApi}. */
export interface IngestApiOptions {
  source: string;
  request: ApiRequest;
  /** Dotted path to the records array in the JSON body; `''` (default) means the body is the array. */
  records?: string;
  paginate?: ApiPaginate;
  /** Stop after this many pages (a warning is logged). Default 10,000. */
  maxPages?: number;
  max_pages?: number;
  retry?: RetryOptions;
  /** `ndjson` (default): one JSON object per line. `csv`: the declared `columns`, header first. */
  format?: 'ndjson' | 'csv';
  /** Required for `csv`: the columns, in order. Objects/arrays are written as JSON text; null as empty. */
  columns?: string[];
  /** Gzip the stored parts. Default true. */
  gzip?: boolean;
  /** zlib level 0-9. Default 1. */
  gzipLevel?: number;
  /** Close a part once its uncompressed bytes reach about this many. Default 64 MiB. */
  partBytes?: number;
  interval: Interval;
  store: ObjectStore;
  runId?: string;
  signal?: AbortSignal;
  logger?: Logger;
}

const authSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('bearer'), token: z.string().min(1) }),
  z.object({ type: z.literal('basic'), username: z.string(), password: z.string() }),
  z.object({
    type: z.literal('api_key'),
    name: z.string().min(1),
    value: z.string(),
    in: z.enum(['header', 'query']),
  }),
]);

const requestSchema = z.object({
  url: z.string().min(1),
  params: z.record(z.string(), z.string()).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  auth: authSchema.optional(),
  timeoutMs: z.number().int().positive().optional(),
  timeout_ms: z.number().int().positive().optional(),
});

const invalid = (message: string): IngestError => new IngestError('INVALID_OPTIONS', message);

const DEFAULT_PART_BYTES = 64 * 1024 * 1024;
const FLUSH_CHARS = 256 * 1024;

/** Text of one record in the output format. */
function csvValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return JSON.stringify(value);
}

/**
 * Pages through a JSON API and lands the records in a lake partition (NDJSON, or CSV with declared
 * columns) under the same manifest/commit protocol as {@link ingestCsv}. Pages are fetched as the
 * store consumes them; retries, Retry-After, timeouts and loop detection apply per page.
 *
 * @example
 * const manifest = await ingestApi({
 *   source: 'users', interval: dailyInterval('2024-01-01'), store,
 *   request: { url: 'https://api.example.com/users', params: { since: '{{ ds }}' }, auth: { type: 'bearer', token } },
 *   records: 'data', paginate: { type: 'cursor', cursor_path: 'meta.next', cursor_param: 'after' },
 * });
 */
export async function ingestApi(args: IngestApiOptions): Promise<PartitionManifest> {
  const { source, store, signal, interval } = args;
  const logger = args.logger ?? silentLogger;
  assertInterval(interval);
  const req = requestSchema.safeParse(args.request);
  if (!req.success)
    throw invalid(`request: ${req.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const paginated = parsePaginate(args.paginate);
  if (!paginated.ok) throw invalid(paginated.message);
  const paginator = paginated.value;
  const format = args.format ?? 'ndjson';
  if (format === 'csv' && (!args.columns || args.columns.length === 0)) {
    throw invalid('format csv needs the declared columns');
  }
  const maxPages = args.maxPages ?? args.max_pages ?? 10_000;
  const recordsPath = args.records ?? '';
  const partBytes = args.partBytes ?? DEFAULT_PART_BYTES;
  const request = req.data;
  const timeoutMs = request.timeoutMs ?? request.timeout_ms ?? 30_000;
  const retry = retryPolicy(args.retry);

  let base: URL;
  try {
    base = new URL(renderLocation(request.url, interval));
  } catch (error) {
    if (error instanceof IngestError) throw error;
    // No `cause`: the URL TypeError carries the raw `input`, which may hold a token or password.
    throw new IngestError('INVALID_URL', `${source}: request.url is not an absolute URL`, { source });
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new IngestError('INVALID_URL', `${source}: request.url must be http(s)`, { source });
  }
  const headers: Record<string, string> = { accept: 'application/json', ...(request.headers ?? {}) };
  // Credentials in the URL become a Basic header; they are never sent or shown as part of the URL.
  if (base.username || base.password) {
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString('base64')}`;
    base.username = '';
    base.password = '';
  }
  const secretParams: string[] = [];
  const forcedParams: Record<string, string> = {};
  const auth = request.auth;
  if (auth?.type === 'bearer') headers.authorization = `Bearer ${auth.token}`;
  if (auth?.type === 'basic') {
    headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  }
  if (auth?.type === 'api_key') {
    if (auth.in === 'header') headers[auth.name.toLowerCase()] = auth.value;
    else {
      forcedParams[auth.name] = auth.value;
      secretParams.push(auth.name);
    }
  }
  const rendered: Record<string, string> = {};
  for (const [k, v] of Object.entries(request.params ?? {})) rendered[k] = renderLocation(v, interval);
  const startUrl = firstPageUrl(withParams(base.toString(), rendered), paginator);

  const attempt = new PartitionAttempt({
    store,
    source,
    interval,
    format,
    gzip: args.gzip ?? true,
    ...(args.gzipLevel !== undefined ? { gzipLevel: args.gzipLevel } : {}),
    ...(args.runId !== undefined ? { runId: args.runId } : {}),
    ...(signal ? { signal } : {}),
    logger,
  });
  const shown = (url: string): string => redactUrl(url, secretParams);
  logger.info(
    { source, url: shown(startUrl), paginate: paginator.type, attempt: attempt.attempt },
    'ingest: api started',
  );

  const columns: string[] = format === 'csv' ? [...(args.columns ?? [])] : [];
  const seenColumns = new Set(columns);
  const seenUrls = new Set<string>();
  let nextUrl: string | undefined = startUrl;
  let pageNo = 0;
  let served = 0;

  let failed: unknown;
  /** Fetches the next page's records, or undefined when pagination is over. */
  const fetchPage = async (): Promise<unknown[] | undefined> => {
    if (failed !== undefined) throw failed;
    if (nextUrl === undefined) return undefined;
    if (pageNo >= maxPages) {
      logger.warn({ source, maxPages }, 'ingest: stopped at maxPages');
      nextUrl = undefined;
      return undefined;
    }
    const url: string = nextUrl;
    pageNo++;
    // Loop detection on the URL as requested (a repeated cursor, next URL or page number).
    if (seenUrls.has(url)) {
      throw new IngestError(
        'PAGINATION_LOOP',
        `${source}: paginator returned an already fetched page (${shown(url)}) at page ${pageNo}`,
        { source, location: shown(url), page: pageNo },
      );
    }
    seenUrls.add(url);
    const requestUrl = Object.keys(forcedParams).length > 0 ? withParams(url, forcedParams) : url;
    const page = pageNo;
    const { body, responseHeaders } = await httpGet({
      url: requestUrl,
      headers,
      timeoutMs,
      retry,
      logger,
      source,
      page,
      secretParams,
      ...(signal ? { signal } : {}),
      consume: async (res) => ({ body: (await res.body.json()) as unknown, responseHeaders: res.headers }),
    });
    const records = getPath(body, recordsPath);
    if (!Array.isArray(records)) {
      throw new IngestError(
        'BAD_RESPONSE',
        `${source}: page ${page} of ${shown(url)} has no array at ${recordsPath === '' ? 'the top level' : JSON.stringify(recordsPath)}`,
        { source, location: shown(url), page },
      );
    }
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      if (r === null || typeof r !== 'object' || Array.isArray(r)) {
        throw new IngestError('BAD_RESPONSE', `${source}: record ${i} of page ${page} is not a JSON object`, {
          source,
          location: shown(url),
          page,
        });
      }
    }
    served += records.length;
    nextUrl = nextPage(paginator, { url, body, headers: responseHeaders, records: records.length });
    logger.debug(
      { source, page, records: records.length, more: nextUrl !== undefined },
      'ingest: page fetched',
    );
    return records;
  };

  try {
    if (signal?.aborted) throw abortError(signal, { source });
    const header = format === 'csv' ? csvLine(columns) : '';
    let pending: unknown[] = [];
    let finished = false;
    // A failed upload stops page fetching at the next page boundary.
    const parts = new PartQueue(attempt, (error) => {
      failed = error;
    });
    do {
      let rows = 0;
      const chunks = async function* (): AsyncGenerator<string> {
        let buffer = header;
        let size = header.length;
        for (;;) {
          if (pending.length === 0) {
            const records = await fetchPage();
            if (records === undefined) {
              finished = true;
              break;
            }
            pending = records;
            continue;
          }
          let index = 0;
          for (; index < pending.length; index++) {
            const record = pending[index] as Record<string, unknown>;
            let line: string;
            if (format === 'csv') {
              line = csvLine(columns.map((c) => csvValue(record[c])));
            } else {
              for (const key of Object.keys(record)) {
                if (!seenColumns.has(key)) {
                  seenColumns.add(key);
                  columns.push(key);
                }
              }
              line = `${JSON.stringify(record)}\n`;
            }
            if (rows > 0 && size + line.length > partBytes) break;
            buffer += line;
            size += line.length;
            rows++;
            if (buffer.length >= FLUSH_CHARS) {
              yield buffer;
              buffer = '';
            }
          }
          pending = pending.slice(index);
          if (pending.length > 0) break; // part full
        }
        if (buffer.length > 0) yield buffer;
      };
      await parts.add(chunks(), () => rows);
    } while (!finished);
    await parts.finish();
    const manifest = await attempt.commit({ columns });
    logger.info({ source, pages: pageNo, records: served }, 'ingest: api done');
    return manifest;
  } catch (error) {
    const failure =
      signal?.aborted && !(error instanceof IngestError && error.code !== 'ABORTED')
        ? abortError(signal, { source })
        : error instanceof IngestError
          ? error
          : new IngestError('SOURCE', `${source}: api ingest failed`, { source, cause: error });
    await attempt.discard(failure);
    logger.error({ source, code: failure.code, page: failure.page }, 'ingest: api failed');
    throw failure;
  }
}
