import { z } from 'zod';
import type { ApiRequest } from './api-types.js';
import { IngestError } from './errors.js';
import { type Interval, renderLocation } from './interval.js';
import { type OAuth2ClientCredentials, OAuth2TokenSource } from './oauth2.js';
import { firstPageUrl, type Paginator, withParams } from './pagination.js';

/** A request ready to send: first URL, headers with credentials, and what must never be shown. */
export interface PreparedRequest {
  startUrl: string;
  headers: Record<string, string>;
  /** Query parameters added to every page URL (an `api_key` in the query). */
  forcedParams: Record<string, string>;
  /** Query parameter names whose values are redacted wherever a URL is shown. */
  secretParams: string[];
  timeoutMs: number;
  /** OAuth2 client credentials: the bearer token of every page comes from here. */
  tokens?: OAuth2TokenSource;
}

const requestSchema = z.strictObject({
  url: z.string().min(1),
  params: z.record(z.string(), z.string()).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  auth: z
    .discriminatedUnion('type', [
      z.object({ type: z.literal('bearer'), token: z.string().min(1) }),
      z.object({ type: z.literal('basic'), username: z.string(), password: z.string() }),
      z.object({
        type: z.literal('api_key'),
        name: z.string().min(1),
        value: z.string(),
        in: z.enum(['header', 'query']),
      }),
      z.object({
        type: z.literal('oauth2_client_credentials'),
        tokenUrl: z.string().url(),
        clientId: z.string().min(1),
        clientSecret: z.string().min(1),
        scope: z.string().min(1).optional(),
        audience: z.string().min(1).optional(),
      }),
    ])
    .optional(),
  timeoutMs: z.number().int().positive().optional(),
});

const basic = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/**
 * Validates the request and renders it for `interval`: placeholders in the URL and params, then
 * `cursorParams` (an incremental run's window), the paginator's first-page parameters,
 * credentials moved out of the URL into headers (or forced query parameters for `api_key` in the
 * query; an OAuth2 token source that fetches nothing until the first page). Pure.
 *
 * @example
 * prepareRequest('users', { url: 'https://api.test/u', auth: { type: 'bearer', token: 't' } }, interval, { type: 'none' }).headers.authorization; // 'Bearer t'
 */
export function prepareRequest(
  source: string,
  input: ApiRequest,
  interval: Interval,
  paginator: Paginator,
  cursorParams: Record<string, string> = {},
): PreparedRequest {
  const parsed = requestSchema.safeParse(input);
  if (!parsed.success) {
    // Paths and messages only: zod's `input` would hold the secrets.
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new IngestError('INVALID_OPTIONS', `request: ${issues}`);
  }
  const request = parsed.data;
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
    headers.authorization = basic(decodeURIComponent(base.username), decodeURIComponent(base.password));
    base.username = '';
    base.password = '';
  }
  const secretParams: string[] = [];
  const forcedParams: Record<string, string> = {};
  const auth = request.auth;
  if (auth?.type === 'bearer') headers.authorization = `Bearer ${auth.token}`;
  if (auth?.type === 'basic') headers.authorization = basic(auth.username, auth.password);
  if (auth?.type === 'api_key' && auth.in === 'header') headers[auth.name.toLowerCase()] = auth.value;
  if (auth?.type === 'api_key' && auth.in === 'query') {
    forcedParams[auth.name] = auth.value;
    secretParams.push(auth.name);
  }
  const rendered: Record<string, string> = {};
  for (const [k, v] of Object.entries(request.params ?? {})) rendered[k] = renderLocation(v, interval);
  Object.assign(rendered, cursorParams);
  return {
    startUrl: firstPageUrl(withParams(base.toString(), rendered), paginator),
    headers,
    forcedParams,
    secretParams,
    timeoutMs: request.timeoutMs ?? 30_000,
    ...(auth?.type === 'oauth2_client_credentials'
      ? { tokens: new OAuth2TokenSource(auth as OAuth2ClientCredentials) }
      : {}),
  };
}
