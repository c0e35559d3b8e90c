/** Retry settings for HTTP requests (API pages and CSV downloads). */
export interface RetryOptions {
  /** Total attempts including the first. Default 5. */
  attempts?: number;
  /** Base of the exponential backoff. Default 200 ms. */
  baseDelayMs?: number;
  /** Cap on any single wait, including one asked for by Retry-After. Default 30 s. */
  maxDelayMs?: number;
  /** Floor under Retry-After, so `Retry-After: 0` is not a tight loop. Default 250 ms. */
  minRetryAfterMs?: number;
}

export type RetryPolicy = Required<RetryOptions>;

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 5,
  baseDelayMs: 200,
  maxDelayMs: 30_000,
  minRetryAfterMs: 250,
};

/**
 * Fills in defaults and clamps nonsense (attempts ≥ 1, delays ≥ 0).
 *
 * @example
 * retryPolicy({ attempts: 3 }); // { attempts: 3, baseDelayMs: 200, maxDelayMs: 30000, minRetryAfterMs: 250 }
 */
export function retryPolicy(options: RetryOptions = {}): RetryPolicy {
  const p = {
    ...DEFAULT_RETRY,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  };
  return {
    attempts: Math.max(1, Math.floor(p.attempts)),
    baseDelayMs: Math.max(0, p.baseDelayMs),
    maxDelayMs: Math.max(0, p.maxDelayMs),
    minRetryAfterMs: Math.max(0, p.minRetryAfterMs),
  };
}

/**
 * Parses a `Retry-After` value (delta seconds or an HTTP date) into milliseconds from `now`;
 * undefined when absent or unparseable. A date in the past gives 0.
 *
 * @example
 * parseRetryAfter('120'); // 120000 (ms)
 */
export function parseRetryAfter(
  value: string | string[] | undefined,
  now: number = Date.now(),
): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return undefined;
  const text = raw.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/**
 * How long to wait before attempt `failedAttempts + 1`: Retry-After (clamped to
 * `[minRetryAfterMs, maxDelayMs]`) when the server sent one, else exponential backoff with full
 * jitter: `random() × min(maxDelayMs, baseDelayMs × 2^(failedAttempts-1))`.
 *
 * @example
 * retryDelay(3, retryPolicy(), undefined, Date.now(), () => 1); // 800
 */
export function retryDelay(
  failedAttempts: number,
  policy: RetryPolicy,
  retryAfter: string | string[] | undefined,
  now: number = Date.now(),
  random: () => number = Math.random,
): number {
  const asked = parseRetryAfter(retryAfter, now);
  if (asked !== undefined) return Math.min(policy.maxDelayMs, Math.max(policy.minRetryAfterMs, asked));
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, failedAttempts - 1));
  return Math.floor(random() * ceiling);
}
