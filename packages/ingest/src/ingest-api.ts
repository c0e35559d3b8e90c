import { prepareIncremental } from './api-incremental.js';
import { apiPages, type PageStats } from './api-pages.js';
import { type RecordPlan, recordUnits } from './api-records.js';
import { prepareRequest } from './api-request.js';
import type { IngestApiOptions } from './api-types.js';
import { csvLine } from './csv-format.js';
import { abortError, IngestError } from './errors.js';
import { nestedMode } from './flatten.js';
import { runAttempt } from './ingest-run.js';
import { assertInterval } from './interval.js';
import { silentLogger } from './logger.js';
import type { PartitionManifest } from './manifest.js';
import { parsePaginate } from './pagination.js';
import { writeParts } from './part-writer.js';
import type { PartitionAttempt } from './partition-writer.js';
import { RecordSchemaInferrer } from './record-schema.js';
import { redactUrl } from './redact.js';
import { retryPolicy } from './retry.js';

export type {
  ApiAuth,
  ApiPaginate,
  ApiRequest,
  ApiSourceOptions,
  IncrementalOptions,
  IngestApiOptions,
} from './api-types.js';

const DEFAULT_PART_BYTES = 64 * 1024 * 1024;

/**
 * Pages through a JSON API and lands the records in a lake partition (NDJSON, or CSV with declared
 * columns) under the same attempt/commit protocol and part writer as `ingestCsv`. Pages are
 * fetched as the store consumes them; retries, Retry-After, timeouts and loop detection apply per
 * page; more pages than `maxPages` fails unless `onMaxPages: 'stop'`.
 *
 * @example
 * const manifest = await ingestApi({
 *   source: 'users', interval: dailyInterval('2024-01-01'), store,
 *   request: { url: 'https://api.example.com/users', params: { since: '{{ ds }}' }, auth: { type: 'bearer', token } },
 *   records: 'data', paginate: { type: 'cursor', cursorPath: 'meta.next', cursorParam: 'after' },
 * });
 */
export async function ingestApi(args: IngestApiOptions): Promise<PartitionManifest> {
  const { source, signal, interval } = args;
  const logger = args.logger ?? silentLogger;
  assertInterval(interval);
  const paginated = parsePaginate(args.paginate);
  if (!paginated.ok) throw new IngestError('INVALID_OPTIONS', paginated.message);
  const format = args.format ?? 'ndjson';
  if (format === 'csv' && (args.columns ?? []).length === 0) {
    throw new IngestError('INVALID_OPTIONS', 'format csv needs the declared columns');
  }
  const incremental = args.incremental
    ? prepareIncremental(source, args.incremental, args.cursorState)
    : undefined;
  const request = prepareRequest(source, args.request, interval, paginated.value, incremental?.params);
  logger.info(
    {
      source,
      url: redactUrl(request.startUrl, request.secretParams),
      paginate: paginated.value.type,
      ...(args.partition ? { partition: args.partition } : {}),
    },
    'ingest: api started',
  );
  // A failed upload aborts the page being fetched; the caller's signal does too.
  const stop = new AbortController();
  const onAbort = (): void => stop.abort(abortError(signal as AbortSignal, { source }));
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const stats: PageStats = { pages: 0, records: 0 };
  const plan: RecordPlan = {
    source,
    format,
    columns: format === 'csv' ? [...(args.columns ?? [])] : [],
    nested: nestedMode(args.nested),
    schema: new RecordSchemaInferrer(),
    ...(incremental ? { cursor: incremental.cursor } : {}),
  };
  const write = async (attempt: PartitionAttempt) => {
    const window = incremental?.cursor.window;
    const pages = apiPages(
      {
        source,
        request,
        paginator: paginated.value,
        records: args.records ?? '',
        maxPages: args.maxPages ?? 10_000,
        onMaxPages: args.onMaxPages ?? 'fail',
        retry: retryPolicy(args.retry),
        signal: stop.signal,
        logger,
        ...(request.tokens ? { tokens: request.tokens } : {}),
        ...(window ? { done: () => window.exhausted } : {}),
      },
      stats,
    );
    const header = format === 'csv' ? csvLine(plan.columns) : '';
    await writeParts(
      attempt,
      recordUnits(pages, plan),
      { header, partBytes: args.partBytes ?? DEFAULT_PART_BYTES },
      (error) => stop.abort(error),
    );
    const declared = args.columnTypes ?? {};
    const schema = plan.schema.columns(declared);
    return {
      columns: plan.columns,
      schema: format === 'csv' ? schema.filter((c) => plan.columns.includes(c.name)) : schema,
      ...(window ? { cursor: window.range() } : {}),
    };
  };
  try {
    const manifest = await runAttempt(
      { ...args, logger },
      {
        format,
        gzip: args.gzip ?? true,
        ...(args.gzipLevel !== undefined ? { gzipLevel: args.gzipLevel } : {}),
        write,
        failure: (error) =>
          signal?.aborted && !(error instanceof IngestError && error.code !== 'ABORTED')
            ? abortError(signal, { source })
            : error instanceof IngestError
              ? error
              : new IngestError('SOURCE', `${source}: api ingest failed`, { source, cause: error }),
      },
    );
    logger.info(
      {
        source,
        pages: stats.pages,
        records: stats.records,
        rows: manifest.rows,
        cursor: manifest.cursor?.to,
      },
      'ingest: api done',
    );
    return manifest;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
