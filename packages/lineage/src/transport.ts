import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ResolvedLineageConfig } from './config.js';
import { LineageError } from './errors.js';
import type { RunEvent } from './events.js';

/** Sends one event; throws `LineageError` when it could not. */
export interface LineageTransport {
  readonly kind: 'http' | 'file' | 'console' | 'none';
  send(event: RunEvent, signal?: AbortSignal): Promise<void>;
}

/** Options of {@link createHttpTransport}. */
export interface HttpTransportOptions {
  url: string;
  endpoint?: string | undefined;
  apiKey?: string | undefined;
  timeoutMs?: number | undefined;
  retries?: number | undefined;
  /** Delay before retry `n` (0-based); default 250 ms × 2ⁿ. */
  backoffMs?: ((attempt: number) => number) | undefined;
}

/** `http://host:port/path` without credentials or query, for messages. */
function safeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });

async function postOnce(
  target: URL,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
  signal?: AbortSignal,
) {
  const timeout = AbortSignal.timeout(timeoutMs);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  try {
    const res = await fetch(target, { method: 'POST', headers, body, signal: combined });
    // Drain the body so the connection is reused or closed, never left half-read.
    await res.arrayBuffer().catch(() => undefined);
    if (res.ok) return;
    const retryable = res.status === 429 || res.status >= 500;
    throw new LineageError('EMIT_FAILED', `OpenLineage ${safeUrl(target)} answered ${res.status}`, {
      retryable,
      status: res.status,
    });
  } catch (error) {
    if (error instanceof LineageError) throw error;
    if (timeout.aborted) {
      throw new LineageError(
        'EMIT_TIMEOUT',
        `OpenLineage ${safeUrl(target)} did not answer within ${timeoutMs} ms`,
        {
          cause: error,
        },
      );
    }
    const message =
      (error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : 'network error';
    throw new LineageError('EMIT_FAILED', `OpenLineage ${safeUrl(target)}: ${message}`, {
      retryable: !signal?.aborted,
      cause: error,
    });
  }
}

/**
 * POSTs each event as JSON to `<url>/<endpoint>` (default `api/v1/lineage`), with
 * `Authorization: Bearer <apiKey>` when a key is given. Each attempt has `timeoutMs` (default
 * 5 s); network errors, 429 and 5xx are retried up to `retries` times (default 2); a timeout is
 * not retried (a hung backend would hang again). Errors name the URL without credentials or query.
 *
 * @example
 * const transport = createHttpTransport({ url: 'http://marquez:5000', apiKey: process.env.OPENLINEAGE_API_KEY });
 * await transport.send(event);
 */
export function createHttpTransport(options: HttpTransportOptions): LineageTransport {
  const base = options.url.endsWith('/') ? options.url : `${options.url}/`;
  const target = new URL((options.endpoint ?? 'api/v1/lineage').replace(/^\/+/, ''), base);
  target.username = '';
  target.password = '';
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  const timeoutMs = options.timeoutMs ?? 5000;
  const retries = options.retries ?? 2;
  const backoff = options.backoffMs ?? ((n: number) => 250 * 2 ** n);
  return {
    kind: 'http',
    async send(event, signal) {
      const body = JSON.stringify(event);
      for (let attempt = 0; ; attempt++) {
        try {
          return await postOnce(target, body, headers, timeoutMs, signal);
        } catch (error) {
          const retry =
            error instanceof LineageError && error.retryable && attempt < retries && !signal?.aborted;
          if (!retry) throw error;
          await sleep(backoff(attempt), signal);
        }
      }
    },
  };
}

/**
 * Appends each event as one NDJSON line to `path` (the directory is created).
 *
 * @example
 * await createFileTransport('target/openlineage.ndjson').send(event);
 */
export function createFileTransport(path: string): LineageTransport {
  let ready: Promise<unknown> | undefined;
  return {
    kind: 'file',
    async send(event) {
      ready ??= mkdir(dirname(path), { recursive: true });
      try {
        await ready;
        // One write per line in append mode: concurrent writers never interleave within a line.
        await appendFile(path, `${JSON.stringify(event)}\n`);
      } catch (cause) {
        throw new LineageError('EMIT_FAILED', `could not append to ${path}: ${(cause as Error).message}`, {
          cause,
        });
      }
    },
  };
}

/**
 * Writes each event as one JSON line through `write` (default: stderr, since stdout's last line
 * is the CLI's summary).
 *
 * @example
 * createConsoleTransport((line) => lines.push(line));
 */
export function createConsoleTransport(
  write: (line: string) => void = (line) => process.stderr.write(line),
): LineageTransport {
  return {
    kind: 'console',
    async send(event) {
      write(`${JSON.stringify(event)}\n`);
    },
  };
}

/**
 * The transport a resolved config asks for (`none` sends nothing).
 *
 * @example
 * const transport = createTransport(resolveLineageConfig(config.lineage, process.env));
 */
export function createTransport(config: ResolvedLineageConfig): LineageTransport {
  switch (config.transport) {
    case 'http':
      return createHttpTransport(config);
    case 'file':
      return createFileTransport(config.file);
    case 'console':
      return createConsoleTransport();
    case 'none':
      return { kind: 'none', send: async () => undefined };
  }
}
