/**
 * A loopback exchange-rates API for the shop example, so the demo runs offline.
 *
 *   GET /v1/rates?day=YYYY-MM-DD[&cursor=N]      Authorization: Bearer <token>
 *   200 { "data": [{ "day", "currency", "rate_to_usd" }], "meta": { "next_cursor": "3" | null } }
 *
 *   GET /v1/rates?updated_since=<ISO instant>[&updated_before=<ISO instant>][&cursor=N]
 *   200 { "data": [{ "day", "currency", "rate_to_usd", "updated_at" }], "meta": { … } }
 *   Every rate published or revised at or after `updated_since` (and before `updated_before`),
 *   oldest first: a day's rates are published at 16:00Z; its JPY rate is revised the next day at
 *   09:00Z (a late update, which only a cursor read picks up). Days from `firstDay` on, up to now.
 *
 * Cursor pagination (`pageSize` records a page, 8 currencies a day), bearer auth (401 without
 * it), 400 for a missing or malformed `day` or cursor, 404 for other paths. Rates are
 * deterministic (`rateOf` in shop-data.ts).
 *
 * As a module: `const server = await startRatesServer({ port: 0 }); ... await server.close();`
 * Standalone:  `tsx examples/shop/scripts/rates-server.ts --port 8787 [--host 0.0.0.0]`
 * (token from `RATES_TOKEN`, default `demo-token`).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CURRENCIES, parseDay, rateOf } from './shop-data.js';

/** The first day of the `updated_since` feed (the example's first day). */
export const DEFAULT_FIRST_DAY = '2026-05-01';

/** The token the example's `dataflow.yml` falls back to when `RATES_TOKEN` is unset. */
export const DEMO_RATES_TOKEN = 'demo-token';

export interface RatesServerOptions {
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  token?: string;
  /** Records per page (default 3, so a day spans three pages). */
  pageSize?: number;
  /** First day the `updated_since` feed publishes (default 2026-05-01). */
  firstDay?: string;
  /** The feed's "now": nothing published after it is served (default: the current time). */
  asOf?: () => Date;
}

export interface RatesServer {
  /** `http://host:port/v1/rates` */
  url: string;
  port: number;
  /** Requests served so far, for tests (path and query only; never the token). */
  readonly requests: ReadonlyArray<{ status: number; path: string }>;
  close(): Promise<void>;
}

interface Reply {
  status: number;
  body: unknown;
}

/** A rate of the `updated_since` feed: the day's rate and when it was published or revised. */
export interface RateUpdate {
  day: string;
  currency: string;
  rate_to_usd: number;
  updated_at: string;
}

const DAY_MS = 86_400_000;
const PUBLISHED_AT_MS = 16 * 3_600_000;
const REVISED_AT_MS = DAY_MS + 9 * 3_600_000;

/**
 * Every rate update from `firstDay` on, published at or after `since` and before `before`, up to
 * `asOf`, oldest first (then by day and currency): the `updated_since` feed as a pure function.
 *
 * @example
 * rateUpdates({ since: Date.parse('2026-05-01T00:00:00Z'), asOf: Date.parse('2026-05-01T20:00:00Z'), firstDay: '2026-05-01' }).length; // 8
 */
export function rateUpdates(options: {
  since: number;
  before?: number | undefined;
  asOf: number;
  firstDay: string;
}): RateUpdate[] {
  const out: Array<RateUpdate & { at: number }> = [];
  const upTo = Math.min(options.before ?? Number.POSITIVE_INFINITY, options.asOf + 1);
  for (let dayMs = parseDay(options.firstDay); dayMs + PUBLISHED_AT_MS < upTo; dayMs += DAY_MS) {
    const day = new Date(dayMs).toISOString().slice(0, 10);
    for (const currency of CURRENCIES) {
      const revised = currency === 'JPY' && dayMs + REVISED_AT_MS < upTo;
      const at = dayMs + (revised ? REVISED_AT_MS : PUBLISHED_AT_MS);
      if (at < options.since) continue;
      const rate = rateOf(day, currency).rate_to_usd;
      out.push({
        day,
        currency,
        rate_to_usd: revised ? Number((rate * 1.001).toPrecision(6)) : rate,
        updated_at: new Date(at).toISOString().replace('.000Z', 'Z'),
        at,
      });
    }
  }
  return out
    .sort((a, b) => a.at - b.at || a.day.localeCompare(b.day) || a.currency.localeCompare(b.currency))
    .map(({ at: _at, ...update }) => update);
}

function instantParam(url: URL, name: string): number | undefined | 'bad' {
  const text = url.searchParams.get(name);
  if (text === null) return undefined;
  const ms = Date.parse(text);
  return /^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(ms) ? ms : 'bad';
}

function updatesPage(url: URL, options: { pageSize: number; firstDay: string; asOf: number }): Reply {
  const since = instantParam(url, 'updated_since');
  const before = instantParam(url, 'updated_before');
  if (since === 'bad' || since === undefined || before === 'bad') {
    return {
      status: 400,
      body: { error: 'bad_request', detail: 'updated_since/updated_before must be ISO 8601' },
    };
  }
  const all = rateUpdates({ since, before, asOf: options.asOf, firstDay: options.firstDay });
  const cursorParam = url.searchParams.get('cursor');
  const offset = cursorParam === null || cursorParam === '' ? 0 : Number(cursorParam);
  if (!Number.isInteger(offset) || offset < 0 || (offset > 0 && offset >= all.length)) {
    return { status: 400, body: { error: 'bad_request', detail: 'invalid cursor' } };
  }
  const end = Math.min(offset + options.pageSize, all.length);
  return {
    status: 200,
    body: { data: all.slice(offset, end), meta: { next_cursor: end < all.length ? String(end) : null } },
  };
}

/** The API as a pure function of the request: used by the server and testable without it. */
export function handleRatesRequest(
  method: string,
  rawUrl: string,
  authorization: string | undefined,
  options: { token: string; pageSize: number; firstDay?: string; asOf?: number },
): Reply {
  const url = new URL(rawUrl, 'http://rates.invalid');
  if (url.pathname !== '/v1/rates') return { status: 404, body: { error: 'not_found' } };
  if (method !== 'GET') return { status: 405, body: { error: 'method_not_allowed' } };
  if (authorization !== `Bearer ${options.token}`) return { status: 401, body: { error: 'unauthorized' } };
  if (url.searchParams.has('updated_since')) {
    return updatesPage(url, {
      pageSize: options.pageSize,
      firstDay: options.firstDay ?? DEFAULT_FIRST_DAY,
      asOf: options.asOf ?? Date.now(),
    });
  }
  const day = url.searchParams.get('day') ?? '';
  try {
    parseDay(day);
  } catch {
    return { status: 400, body: { error: 'bad_request', detail: 'day must be YYYY-MM-DD' } };
  }
  const cursorParam = url.searchParams.get('cursor');
  const offset = cursorParam === null || cursorParam === '' ? 0 : Number(cursorParam);
  if (!Number.isInteger(offset) || offset < 0 || offset >= CURRENCIES.length) {
    return { status: 400, body: { error: 'bad_request', detail: 'invalid cursor' } };
  }
  const end = Math.min(offset + options.pageSize, CURRENCIES.length);
  const data = CURRENCIES.slice(offset, end).map((currency) => rateOf(day, currency));
  return { status: 200, body: { data, meta: { next_cursor: end < CURRENCIES.length ? String(end) : null } } };
}

/**
 * Starts the rates API on loopback (by default) and resolves once it listens.
 *
 * @example
 * const rates = await startRatesServer({ port: 0 });
 * process.env.RATES_PORT = String(rates.port);
 * await rates.close();
 */
export async function startRatesServer(options: RatesServerOptions = {}): Promise<RatesServer> {
  const token = options.token ?? process.env.RATES_TOKEN ?? DEMO_RATES_TOKEN;
  const pageSize = options.pageSize ?? 3;
  const host = options.host ?? '127.0.0.1';
  const requests: Array<{ status: number; path: string }> = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const reply = handleRatesRequest(req.method ?? 'GET', req.url ?? '/', req.headers.authorization, {
      token,
      pageSize,
      firstDay: options.firstDay ?? DEFAULT_FIRST_DAY,
      asOf: (options.asOf?.() ?? new Date()).getTime(),
    });
    requests.push({ status: reply.status, path: req.url ?? '/' });
    const body = JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    url: `http://${urlHost}:${port}/v1/rates`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolveClose, reject) => {
        server.close((error) => (error ? reject(error) : resolveClose()));
        server.closeAllConnections();
      }),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      port: { type: 'string', default: process.env.RATES_PORT ?? '8787' },
      host: { type: 'string', default: '127.0.0.1' },
    },
  });
  const server = await startRatesServer({ port: Number(values.port), host: values.host });
  process.stdout.write(`rates API listening on ${server.url} (bearer token from RATES_TOKEN)\n`);
  const stop = () => {
    server.close().finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`rates-server: ${(error as Error).message}\n`);
    process.exitCode = 1;
  });
}
