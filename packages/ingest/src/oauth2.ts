import { z } from 'zod';
import { IngestError } from './errors.js';
import { httpGet } from './http-client.js';
import type { Logger } from './logger.js';
import type { RetryPolicy } from './retry.js';

/** OAuth2 client-credentials settings (RFC 6749 §4.4); the secret is sent in the form body. */
export interface OAuth2ClientCredentials {
  type: 'oauth2_client_credentials';
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope?: string;
  /** Auth0-style `audience` form parameter. */
  audience?: string;
}

/** What a token request needs from the running ingest. */
export interface TokenRequestContext {
  source: string;
  timeoutMs: number;
  retry: RetryPolicy;
  logger: Logger;
  signal?: AbortSignal;
}

const tokenResponse = z.object({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: z.union([z.number(), z.string().regex(/^\d+$/)]).optional(),
});

/** Refresh this long before `expires_in` runs out: a tenth of the lifetime, at most a minute. */
const refreshMarginMs = (lifetimeMs: number): number => Math.min(60_000, lifetimeMs / 10);

/**
 * Bearer tokens of one OAuth2 client for one run: fetched before the first request, fetched
 * again when `expires_in` is about to run out or after the API answered 401 ({@link invalidate}).
 * The client secret and the tokens stay inside: they are never logged or put in an error
 * (a refused token request names only the token URL and the HTTP status).
 *
 * @example
 * const tokens = new OAuth2TokenSource({ type: 'oauth2_client_credentials', tokenUrl, clientId, clientSecret });
 * headers.authorization = await tokens.authorization(context);
 */
export class OAuth2TokenSource {
  private token: { value: string; refreshAt: number } | undefined;

  constructor(
    private readonly auth: OAuth2ClientCredentials,
    private readonly now: () => number = Date.now,
  ) {}

  /** The `Authorization` header value, fetching a token when there is none or it is about to expire. */
  async authorization(ctx: TokenRequestContext): Promise<string> {
    if (this.token === undefined || this.now() >= this.token.refreshAt) this.token = await this.fetch(ctx);
    return `Bearer ${this.token.value}`;
  }

  /** Forgets the current token (the API refused it), so the next request fetches a new one. */
  invalidate(): void {
    this.token = undefined;
  }

  private async fetch(ctx: TokenRequestContext): Promise<{ value: string; refreshAt: number }> {
    const a = this.auth;
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: a.clientId,
      client_secret: a.clientSecret,
      ...(a.scope !== undefined ? { scope: a.scope } : {}),
      ...(a.audience !== undefined ? { audience: a.audience } : {}),
    });
    const started = this.now();
    let body: unknown;
    try {
      body = await httpGet({
        url: a.tokenUrl,
        method: 'POST',
        body: form.toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        timeoutMs: ctx.timeoutMs,
        retry: ctx.retry,
        logger: ctx.logger,
        source: ctx.source,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
        consume: async (res) => (await res.body.json()) as unknown,
      });
    } catch (error) {
      if (error instanceof IngestError && error.code === 'HTTP_STATUS' && !error.retryable) {
        throw new IngestError(
          'HTTP_STATUS',
          `${ctx.source}: the OAuth2 token endpoint refused the client credentials (HTTP ${error.status})`,
          {
            source: ctx.source,
            ...(error.location ? { location: error.location } : {}),
            status: error.status,
          },
        );
      }
      throw error;
    }
    const parsed = tokenResponse.safeParse(body);
    if (!parsed.success) {
      // The body may hold a token in an unexpected field: neither it nor the zod issues are kept.
      throw new IngestError('BAD_RESPONSE', `${ctx.source}: the OAuth2 token response has no access_token`, {
        source: ctx.source,
      });
    }
    const expiresIn = parsed.data.expires_in;
    const lifetimeMs = expiresIn === undefined ? Number.POSITIVE_INFINITY : Number(expiresIn) * 1000;
    ctx.logger.debug({ source: ctx.source, expiresInS: expiresIn }, 'ingest: oauth2 token fetched');
    return { value: parsed.data.access_token, refreshAt: started + lifetimeMs - refreshMarginMs(lifetimeMs) };
  }
}
