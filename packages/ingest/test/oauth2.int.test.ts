import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createFsStore,
  dailyInterval,
  type IngestApiOptions,
  IngestError,
  ingestApi,
  type OAuth2ClientCredentials,
} from '../src/index.js';
import { OAuth2TokenSource } from '../src/oauth2.js';
import { retryPolicy } from '../src/retry.js';
import { recordingLogger, useTempDir } from './helpers.js';

const tempDir = useTempDir();
const day = dailyInterval('2024-05-01');
const SECRET = 'cl1ent-s3cret-value';

let server: Server;
let base = '';
/** Token requests as the server parsed them. */
let tokenRequests: URLSearchParams[] = [];
/** Authorization headers the API saw, in order. */
let apiAuth: string[] = [];
/** Tokens the API accepts right now (revoking one makes the API answer 401). */
let valid = new Set<string>();
let expiresIn: number | undefined = 3600;
let issued = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/token') {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        const form = new URLSearchParams(body);
        tokenRequests.push(form);
        if (form.get('client_secret') !== SECRET || form.get('grant_type') !== 'client_credentials') {
          res.writeHead(401, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: 'invalid_client', echoed: form.get('client_secret') }));
          return;
        }
        const token = `tok-${++issued}-${'x'.repeat(12)}`;
        valid.add(token);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            access_token: token,
            token_type: 'Bearer',
            ...(expiresIn !== undefined ? { expires_in: expiresIn } : {}),
          }),
        );
      });
      return;
    }
    const auth = req.headers.authorization ?? '';
    apiAuth.push(auth);
    const token = auth.replace(/^Bearer /, '');
    if (!valid.has(token) || url.pathname === '/always-401') {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'invalid_token' }));
      return;
    }
    const page = Number(url.searchParams.get('page') ?? '1');
    // /revoking: the token of page 1 is revoked once page 1 is served (a rotation by the server).
    if (url.pathname === '/revoking' && page === 1) valid.delete(token);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(page <= 3 ? [{ id: page }] : []));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  tokenRequests = [];
  apiAuth = [];
  valid = new Set();
  expiresIn = 3600;
});

let n = 0;
const auth = (over: Partial<OAuth2ClientCredentials> = {}): OAuth2ClientCredentials => ({
  type: 'oauth2_client_credentials',
  tokenUrl: `${base}/token`,
  clientId: 'dataflow',
  clientSecret: SECRET,
  scope: 'rates:read',
  ...over,
});
const run = (path: string, over: Partial<IngestApiOptions> = {}) =>
  ingestApi({
    source: 'rates',
    interval: day,
    store: createFsStore({ root: join(tempDir(), `lake-${++n}`) }),
    request: { url: `${base}${path}`, auth: auth() },
    paginate: { type: 'page' },
    retry: { attempts: 1 },
    ...over,
  });

/** Everything a failure or a log could show: messages, fields and causes, serialised. */
function shown(value: unknown): string {
  const seen = new Set<unknown>();
  const walk = (v: unknown): string => {
    if (v === null || typeof v !== 'object' || seen.has(v)) return String(v);
    seen.add(v);
    const e = v as { message?: unknown; cause?: unknown; stack?: unknown };
    return [JSON.stringify(v), String(e.message ?? ''), String(e.stack ?? ''), walk(e.cause)].join('\n');
  };
  return walk(value);
}

describe('OAuth2 client credentials', () => {
  it('fetches one token before the first request and sends it on every page; nothing secret is logged', async () => {
    const logger = recordingLogger();
    const m = await run('/rates', { logger });
    expect(m.rows).toBe(3);
    expect(tokenRequests).toHaveLength(1);
    expect(Object.fromEntries(tokenRequests[0] ?? [])).toEqual({
      grant_type: 'client_credentials',
      client_id: 'dataflow',
      client_secret: SECRET,
      scope: 'rates:read',
    });
    expect(new Set(apiAuth)).toEqual(new Set([`Bearer tok-${issued}-xxxxxxxxxxxx`]));
    expect(apiAuth).toHaveLength(4);
    const logs = logger.lines.join('\n');
    expect(logs).not.toContain(SECRET);
    expect(logs).not.toContain('tok-');
  });

  it('a 401 fetches a new token once and asks again', async () => {
    const logger = recordingLogger();
    const m = await run('/revoking', { logger });
    expect(m.rows).toBe(3);
    expect(tokenRequests).toHaveLength(2);
    const [first, second] = [...new Set(apiAuth)];
    expect(apiAuth).toEqual([first, first, second, second, second]);
    expect(logger.lines.some((l) => l.includes('API answered 401'))).toBe(true);
    expect(logger.lines.join('\n')).not.toMatch(/tok-|cl1ent/);
  });

  it('a token past expires_in is fetched again before the request', async () => {
    expiresIn = 0;
    const m = await run('/rates');
    expect(m.rows).toBe(3);
    expect(tokenRequests).toHaveLength(4);
    expect(new Set(apiAuth).size).toBe(4);
  });

  it('refreshes a margin before expiry by the clock (a tenth of the lifetime, at most a minute)', async () => {
    let now = 1_000_000;
    const tokens = new OAuth2TokenSource(auth(), () => now);
    const ctx = {
      source: 'rates',
      timeoutMs: 5000,
      retry: retryPolicy({ attempts: 1 }),
      logger: recordingLogger(),
    };
    expiresIn = 100;
    const a = await tokens.authorization(ctx);
    now += 89_999;
    expect(await tokens.authorization(ctx)).toBe(a);
    now += 1;
    const b = await tokens.authorization(ctx);
    expect(b).not.toBe(a);
    expect(tokenRequests).toHaveLength(2);
    tokens.invalidate();
    expect(await tokens.authorization(ctx)).not.toBe(b);
  });

  it('an API that keeps answering 401 fails after one refresh, naming the URL but no token', async () => {
    const logger = recordingLogger();
    const error = await run('/always-401', { logger }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(IngestError);
    expect(error).toMatchObject({ code: 'HTTP_STATUS', status: 401, page: 1 });
    expect((error as IngestError).message).toContain(`GET ${base}/always-401?page=1`);
    expect(tokenRequests).toHaveLength(2);
    expect(apiAuth).toHaveLength(2);
    expect(shown(error)).not.toMatch(/tok-|cl1ent/);
    expect(logger.lines.join('\n')).not.toMatch(/tok-|cl1ent/);
  });

  it('refused client credentials fail with HTTP_STATUS 401 that shows neither the secret nor the response', async () => {
    const logger = recordingLogger();
    const error = await run('/rates', {
      logger,
      request: { url: `${base}/rates`, auth: auth({ clientSecret: 'wrong-s3cret' }) },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(IngestError);
    expect(error).toMatchObject({ code: 'HTTP_STATUS', status: 401 });
    expect((error as IngestError).message).toBe(
      `rates: the OAuth2 token endpoint refused the client credentials (HTTP 401)`,
    );
    expect(shown(error)).not.toContain('wrong-s3cret');
    expect(logger.lines.join('\n')).not.toContain('wrong-s3cret');
    expect(apiAuth).toEqual([]);
  });
});
