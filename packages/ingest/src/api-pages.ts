import type { PreparedRequest } from './api-request.js';
import { csvLine } from './csv-format.js';
import { IngestError } from './errors.js';
import { httpGet } from './http-client.js';
import type { Logger } from './logger.js';
import { getPath, nextPage, type Paginator, withParams } from './pagination.js';
import type { Unit } from './part-writer.js';
import { redactUrl } from './redact.js';
import type { RetryPolicy } from './retry.js';

/** What {@link apiPages} needs to fetch pages. */
export interface ApiPagesOptions {
  source: string;
  request: PreparedRequest;
  paginator: Paginator;
  /** Dotted path to the records array; `''` is the body itself. */
  records: string;
  maxPages: number;
  onMaxPages: 'fail' | 'stop';
  retry: RetryPolicy;
  signal: AbortSignal;
  logger: Logger;
}

/** Counters of a page walk, read after it ends. */
export interface PageStats {
  pages: number;
  records: number;
}

/**
 * Fetches pages one at a time, as the part writer asks for units, and yields each page's records
 * (validated: an array of JSON objects). Loop detection on the requested URL; reaching
 * `maxPages` with more pages to go is a MAX_PAGES error unless `onMaxPages` is `stop`.
 *
 * @example
 * for await (const records of apiPages(options, stats)) console.log(records.length);
 */
export async function* apiPages(
  o: ApiPagesOptions,
  stats: PageStats,
): AsyncGenerator<Array<Record<string, unknown>>> {
  const { source, request, logger } = o;
  const shown = (url: string): string => redactUrl(url, request.secretParams);
  const seen = new Set<string>();
  for (let url: string | undefined = request.startUrl; url !== undefined; ) {
    if (stats.pages >= o.maxPages) {
      if (o.onMaxPages === 'stop') {
        logger.warn({ source, maxPages: o.maxPages }, 'ingest: stopped at maxPages (on_max_pages: stop)');
        return;
      }
      throw new IngestError(
        'MAX_PAGES',
        `${source}: more than max_pages (${o.maxPages}) pages; raise max_pages or set on_max_pages: stop to keep a partial partition`,
        { source, location: shown(url), page: stats.pages + 1 },
      );
    }
    const page = ++stats.pages;
    // Loop detection on the URL as requested (a repeated cursor, next URL or page number).
    if (seen.has(url)) {
      throw new IngestError(
        'PAGINATION_LOOP',
        `${source}: paginator returned an already fetched page (${shown(url)}) at page ${page}`,
        {
          source,
          location: shown(url),
          page,
        },
      );
    }
    seen.add(url);
    const { body, headers } = await httpGet({
      url: Object.keys(request.forcedParams).length > 0 ? withParams(url, request.forcedParams) : url,
      headers: request.headers,
      timeoutMs: request.timeoutMs,
      retry: o.retry,
      logger,
      source,
      page,
      secretParams: request.secretParams,
      signal: o.signal,
      consume: async (res) => ({ body: (await res.body.json()) as unknown, headers: res.headers }),
    });
    const records = pageRecords(body, o.records, { source, location: shown(url), page });
    stats.records += records.length;
    const current: string = url;
    url = nextPage(o.paginator, { url: current, body, headers, records: records.length });
    logger.debug({ source, page, records: records.length, more: url !== undefined }, 'ingest: page fetched');
    yield records;
  }
}

/** The records array of a page body; BAD_RESPONSE when it is missing or holds a non-object. */
export function pageRecords(
  body: unknown,
  path: string,
  at: { source: string; location: string; page: number },
): Array<Record<string, unknown>> {
  const records = getPath(body, path);
  if (!Array.isArray(records)) {
    const where = path === '' ? 'the top level' : JSON.stringify(path);
    throw new IngestError(
      'BAD_RESPONSE',
      `${at.source}: page ${at.page} of ${at.location} has no array at ${where}`,
      at,
    );
  }
  records.forEach((r, i) => {
    if (r === null || typeof r !== 'object' || Array.isArray(r)) {
      throw new IngestError(
        'BAD_RESPONSE',
        `${at.source}: record ${i} of page ${at.page} is not a JSON object`,
        at,
      );
    }
  });
  return records as Array<Record<string, unknown>>;
}

/** Text of one value in a CSV part: null as empty (NULL), objects/arrays as JSON. */
function csvValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return JSON.stringify(value);
}

/**
 * Turns pages into units: one line per record, CSV of `columns` or NDJSON (whose `columns` grow
 * with every new top-level key, in first-seen order).
 */
export async function* recordUnits(
  pages: AsyncIterable<Array<Record<string, unknown>>>,
  format: 'csv' | 'ndjson',
  columns: string[],
): AsyncGenerator<Unit> {
  const known = new Set(columns);
  for await (const records of pages) {
    for (const record of records) {
      if (format === 'ndjson') {
        for (const key of Object.keys(record)) {
          if (!known.has(key)) {
            known.add(key);
            columns.push(key);
          }
        }
      }
      const line =
        format === 'csv' ? csvLine(columns.map((c) => csvValue(record[c]))) : `${JSON.stringify(record)}\n`;
      yield { data: line, rows: 1, size: line.length };
    }
  }
}
