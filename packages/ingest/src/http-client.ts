import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import { abortError, IngestError } from './errors.js';
import type { Logger } from './logger.js';
import { redactUrl } from './redact.js';
import { type RetryPolicy, retryDelay } from './retry.js';

/** A response whose status was accepted (2xx). */
export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
}

export interface HttpGetOptions<T> {
  url: string;
  /** Default GET. POST is for token endpoints (a form body); it is retried like a GET. */
  method?: 'GET' | 'POST';
  /** The request body (POST). Never logged: it may hold credentials. */
  body?: string;
  headers: Record<string, string>;
  timeoutMs: number;
  retry: RetryPolicy;
  signal?: AbortSignal;
  logger: Logger;
  source: string;
  page?: number;
  /** Extra query parameter names to redact (e.g. a custom api key name). */
  secretParams?: readonly string[];
  /**
   * Consumes an accepted response. Runs inside the attempt, so a timeout or connection error
   * while reading the body is retried too. `stream` mode callers return the body unconsumed.
   */
  consume: (response: HttpResponse) => Promise<T>;
  /** When true, the timeout covers only the response headers (the body is streamed later). */
  streamBody?: boolean;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_CLOSED',
]);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

const errorCode = (error: unknown): string | undefined => {
  const e = error as { code?: unknown; cause?: { code?: unknown } };
  if (typeof e?.code === 'string') return e.code;
  if (typeof e?.cause?.code === 'string') return e.cause.code;
  return undefined;
};

/**
 * GET with retries: connection errors, timeouts, 429 and 5xx are retried with backoff and full
 * jitter (Retry-After honoured, with a floor); other 4xx fail at once with HTTP_STATUS. Errors
 * and logs carry only the redacted URL.
 */
export async function httpGet<T>(options: HttpGetOptions<T>): Promise<T> {
  const { url, retry, logger, source, page, signal } = options;
  const shownUrl = redactUrl(url, options.secretParams);
  const context = { source, location: shownUrl, ...(page !== undefined ? { page } : {}) };
  const method = options.method ?? 'GET';
  const where = `${source}: ${method} ${shownUrl}${page !== undefined ? ` (page ${page})` : ''}`;
  // Loaded on the first request only, so commands without an http(s) source never import undici.
  const { request } = await import('undici');
  let lastError: IngestError | undefined;
  for (let attempt = 1; attempt <= retry.attempts; attempt++) {
    if (signal?.aborted) throw abortError(signal, context);
    let retryAfter: string | string[] | undefined;
    const timeout = options.streamBody ? undefined : AbortSignal.timeout(options.timeoutMs);
    const signals = [signal, timeout].filter((s): s is AbortSignal => s !== undefined);
    const combined = signals.length > 0 ? AbortSignal.any(signals) : undefined;
    try {
      const res = await request(url, {
        method,
        headers: options.headers,
        ...(options.body !== undefined ? { body: options.body } : {}),
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
        ...(combined ? { signal: combined } : {}),
      });
      if (res.statusCode >= 200 && res.statusCode < 300) {
        return await options.consume(res);
      }
      retryAfter = res.headers['retry-after'];
      // Draining only frees the connection; the status below is the error that matters.
      await res.body.dump().catch(() => undefined);
      const retryable = res.statusCode === 429 || res.statusCode >= 500;
      lastError = new IngestError('HTTP_STATUS', `${where} answered HTTP ${res.statusCode}`, {
        ...context,
        status: res.statusCode,
        retryable,
      });
      if (!retryable) throw lastError;
    } catch (error) {
      if (error instanceof IngestError && !error.retryable) throw error;
      if (signal?.aborted) throw abortError(signal, context);
      if (error instanceof IngestError) {
        lastError = error;
      } else {
        const code = errorCode(error);
        const timedOut = timeout?.aborted === true || (code !== undefined && TIMEOUT_CODES.has(code));
        if (timedOut) {
          lastError = new IngestError('TIMEOUT', `${where} timed out after ${options.timeoutMs} ms`, {
            ...context,
            retryable: true,
            cause: error,
          });
        } else if (code !== undefined && CONNECTION_CODES.has(code)) {
          lastError = new IngestError('CONNECTION', `${where} failed: ${code}`, {
            ...context,
            retryable: true,
            cause: error,
          });
        } else if (error instanceof SyntaxError) {
          throw new IngestError('BAD_RESPONSE', `${where}: body is not valid JSON`, {
            ...context,
            cause: error,
          });
        } else {
          lastError = new IngestError('CONNECTION', `${where} failed${code ? `: ${code}` : ''}`, {
            ...context,
            retryable: true,
            cause: error,
          });
        }
      }
    }
    if (attempt < retry.attempts) {
      const delayMs = retryDelay(attempt, retry, retryAfter);
      logger.warn(
        { source, url: shownUrl, page, attempt, delayMs, code: lastError.code, status: lastError.status },
        'ingest: retrying request',
      );
      try {
        await sleep(delayMs, undefined, signal ? { signal } : {});
      } catch {
        // timers/promises sleep rejects only when `signal` aborts; abortError keeps its reason as cause.
        throw abortError(signal as AbortSignal, context);
      }
    }
  }
  throw lastError as IngestError;
}
