import type { PreparedRequest } from './api-request.js';
import { IngestError } from './errors.js';
import { httpGet } from './http-client.js';
import { selectRecords } from './json-path.js';
import type { Logger } from './logger.js';
import type { OAuth2TokenSource } from './oauth2.js';
import { nextPage, type Paginator, withParams } from './pagination.js';
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
  /** OAuth2 bearer tokens: sent on every page, fetched again once when a page answers 401. */
  tokens?: OAuth2TokenSource;
  /** Asked after each page was consumed: true stops paging (an incremental run's `rowOrder`). */
  done?: () => boolean;
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
    const { body, headers } = await fetchPage(o, url, page);
    const records = pageRecords(body, o.records, { source, location: shown(url), page });
    stats.records += records.length;
    const current: string = url;
    url = nextPage(o.paginator, { url: current, body, headers, records: records.length });
    logger.debug({ source, page, records: records.length, more: url !== undefined }, 'ingest: page fetched');
    yield records;
    if (url !== undefined && o.done?.()) {
      logger.info({ source, page }, 'ingest: stopped paging, no later record is in the cursor window');
      return;
    }
  }
}

/** One page's body and headers; with OAuth2, a 401 fetches a new token and asks once more. */
async function fetchPage(
  o: ApiPagesOptions,
  url: string,
  page: number,
): Promise<{ body: unknown; headers: Record<string, string | string[] | undefined> }> {
  const { source, request, logger, tokens } = o;
  const ctx = { source, timeoutMs: request.timeoutMs, retry: o.retry, logger, signal: o.signal };
  for (let refreshed = false; ; refreshed = true) {
    const headers = tokens
      ? { ...request.headers, authorization: await tokens.authorization(ctx) }
      : request.headers;
    try {
      return await httpGet({
        url: Object.keys(request.forcedParams).length > 0 ? withParams(url, request.forcedParams) : url,
        headers,
        timeoutMs: request.timeoutMs,
        retry: o.retry,
        logger,
        source,
        page,
        secretParams: request.secretParams,
        signal: o.signal,
        consume: async (res) => ({ body: (await res.body.json()) as unknown, headers: res.headers }),
      });
    } catch (error) {
      if (!tokens || refreshed || !(error instanceof IngestError) || error.status !== 401) throw error;
      logger.warn({ source, page }, 'ingest: API answered 401, fetching a new oauth2 token');
      tokens.invalidate();
    }
  }
}

/** The records array of a page body; BAD_RESPONSE when it is missing or holds a non-object. */
export function pageRecords(
  body: unknown,
  path: string,
  at: { source: string; location: string; page: number },
): Array<Record<string, unknown>> {
  const records = selectRecords(body, path);
  if (records === undefined) {
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
